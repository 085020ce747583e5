/**
 * A column of header strings without one object per string: the strings stay in the header
 * bytes, located by a start/end offset pair. `get(i)` makes a view on demand; writers that copy
 * bytes out (RowBinary) can use `data`, `start(i)` and `end(i)` and create no view at all.
 */
import { EMPTY } from "./text.ts";

export class StringList implements Iterable<Uint8Array> {
  constructor(
    /** Bytes the offsets point into. */
    readonly data: Uint8Array,
    /** start0, end0, start1, end1, … */
    private readonly bounds: Uint32Array,
    readonly length: number,
  ) {}

  /** `n` empty strings. */
  static empty(n: number): StringList {
    return new StringList(EMPTY, new Uint32Array(2 * n), n);
  }

  /** A list holding copies of the given strings. */
  static from(items: readonly Uint8Array[]): StringList {
    const total = items.reduce((n, b) => n + b.length, 0);
    const data = new Uint8Array(total);
    const bounds = new Uint32Array(2 * items.length);
    let p = 0;
    items.forEach((b, i) => {
      data.set(b, p);
      bounds[2 * i] = p;
      p += b.length;
      bounds[2 * i + 1] = p;
    });
    return new StringList(data, bounds, items.length);
  }

  /** The first `n` strings (this list when it is not longer). */
  head(n: number): StringList {
    return n >= this.length ? this : new StringList(this.data, this.bounds.subarray(0, 2 * n), n);
  }

  get(i: number): Uint8Array {
    return this.data.subarray(this.bounds[2 * i], this.bounds[2 * i + 1]);
  }

  start(i: number): number {
    return this.bounds[2 * i];
  }

  end(i: number): number {
    return this.bounds[2 * i + 1];
  }

  /** Byte length of string i. */
  size(i: number): number {
    return this.bounds[2 * i + 1] - this.bounds[2 * i];
  }

  *[Symbol.iterator](): Iterator<Uint8Array> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }

  toArray(): Uint8Array[] {
    const out = new Array<Uint8Array>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.get(i);
    return out;
  }

  map<T>(fn: (s: Uint8Array, i: number) => T): T[] {
    const out = new Array<T>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = fn(this.get(i), i);
    return out;
  }
}
