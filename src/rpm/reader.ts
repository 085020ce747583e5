/**
 * A pull reader over an async stream of byte chunks, for the streaming parsers (cpio payload,
 * header lists). It buffers only what a caller asks to look at; skipped data is dropped chunk by
 * chunk, so memory stays bounded by the largest single structure, not by the stream size.
 */
import { RpmError } from "./errors.ts";

export class ByteReader {
  private chunks: Uint8Array[] = [];
  private head = 0; // read position inside chunks[0]
  private buffered = 0;
  private done = false;
  /** Absolute stream position of the next unread byte. */
  pos = 0;

  constructor(
    private readonly source: AsyncIterator<Uint8Array>,
    readonly path: string,
    readonly what: string,
  ) {}

  get available(): number {
    return this.buffered;
  }

  /** Buffer at least n bytes; false when the stream ends first. */
  async ensure(n: number): Promise<boolean> {
    while (this.buffered < n && !this.done) {
      const r = await this.source.next();
      if (r.done) {
        this.done = true;
        break;
      }
      if (r.value.length === 0) continue;
      this.chunks.push(r.value);
      this.buffered += r.value.length;
    }
    return this.buffered >= n;
  }

  /** True at a clean end of stream (nothing buffered, nothing more to come). */
  async atEnd(): Promise<boolean> {
    return !(await this.ensure(1));
  }

  /** The next n buffered bytes (call ensure first); a view when they lie in one chunk. */
  peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) return first.subarray(this.head, this.head + n);
    const out = new Uint8Array(n);
    let got = 0;
    for (let i = 0; got < n; i++) {
      const c = this.chunks[i];
      const start = i === 0 ? this.head : 0;
      const take = Math.min(n - got, c.length - start);
      out.set(c.subarray(start, start + take), got);
      got += take;
    }
    return out;
  }

  /** Read exactly n bytes or throw "truncated". */
  async read(n: number): Promise<Uint8Array> {
    if (!(await this.ensure(n))) this.truncated(n);
    const out = this.peek(n);
    this.drop(n);
    return out;
  }

  /** Discard n bytes without keeping them, or throw "truncated". */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0 && !(await this.ensure(1))) this.truncated(left);
      const k = Math.min(left, this.buffered);
      this.drop(k);
      left -= k;
    }
  }

  private drop(n: number): void {
    this.pos += n;
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0];
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  private truncated(n: number): never {
    throw new RpmError("truncated", `${this.what} ends early (${n} more bytes expected)`, this.path, this.pos + this.buffered);
  }
}
