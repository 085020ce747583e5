/**
 * One header structure (signature header, main header, pkglist entry or rpmdb blob):
 *
 *   [magic 8E AD E8 01, 4 reserved bytes]   (absent in rpmdb blobs)
 *   il  u32 BE   number of index entries
 *   dl  u32 BE   size of the data store
 *   il × { tag i32, type u32, offset i32, count u32 }
 *   dl bytes of data store
 *
 * Every index entry is checked when the header is parsed (type known, offset inside the
 * store, fixed-size data inside the store, count not absurd). Strings are checked when read:
 * a string that is not NUL-terminated inside the store is an RpmError, never an endless scan.
 * Values are views into the header bytes; nothing is copied except integer arrays, which are
 * converted from big-endian.
 */
import { RpmError } from "./errors.ts";
import { StringList } from "./strings.ts";
import { isRegionTag, MAX_TYPE, TYPE, TYPE_SIZE } from "./tags.ts";


/** librpm's limits (hdrchkTags / hdrchkData): at most 65535 tags and 256 MiB of data. */
export const MAX_TAGS = 0xffff;
export const MAX_DATA = 0x0fffffff;
const ENTRY = 16;
const MAGIC = [0x8e, 0xad, 0xe8, 0x01] as const;

export interface HeaderEntry {
  tag: number;
  type: number;
  offset: number;
  count: number;
}

export interface ParseHeaderOptions {
  /** File name for error messages. */
  path?: string;
  /** Absolute position of `offset` in the file or stream, for error messages (default: offset). */
  base?: number;
  /** The blob starts with the 8-byte magic (default true; false for rpmdb blobs). */
  magic?: boolean;
}

const TYPE_NAMES = ["NULL", "CHAR", "INT8", "INT16", "INT32", "INT64", "STRING", "BIN", "STRING_ARRAY", "I18NSTRING"];

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

/** Size in bytes of the header starting at buf[offset], from its intro alone (throws if short). */
export function headerSize(buf: Uint8Array, offset: number, opts: ParseHeaderOptions = {}): number {
  const magic = opts.magic !== false;
  const path = opts.path ?? "";
  const base = (opts.base ?? offset) - offset;
  const intro = magic ? 16 : 8;
  if (buf.length - offset < intro) {
    throw new RpmError("truncated", `header intro needs ${intro} bytes, only ${Math.max(0, buf.length - offset)} left`, path, base + offset);
  }
  if (magic) {
    for (let i = 0; i < 4; i++) {
      if (buf[offset + i] !== MAGIC[i]) throw new RpmError("magic", "bad header magic (expected 8e ad e8 01)", path, base + offset);
    }
  }
  const p = offset + intro - 8;
  const il = ((buf[p] << 24) | (buf[p + 1] << 16) | (buf[p + 2] << 8) | buf[p + 3]) >>> 0;
  const dl = ((buf[p + 4] << 24) | (buf[p + 5] << 16) | (buf[p + 6] << 8) | buf[p + 7]) >>> 0;
  if (il > MAX_TAGS) throw new RpmError("count", `header claims ${il} tags (limit ${MAX_TAGS})`, path, base + p);
  if (dl > MAX_DATA) throw new RpmError("count", `header claims ${dl} data bytes (limit ${MAX_DATA})`, path, base + p + 4);
  return intro + il * ENTRY + dl;
}

export class Header {
  /** The whole header blob, from its intro to the end of its data store. */
  readonly bytes: Uint8Array;
  readonly tagCount: number;
  readonly dataSize: number;
  /** Region tag (61, 62 or 63) of the first entry, 0 for headers without a region (v3, pkglists). */
  readonly region: number;
  readonly path: string;
  /** Absolute position of `bytes[0]` in the file or stream. */
  readonly base: number;
  private readonly indexStart: number;
  private readonly storeStart: number;
  private readonly store: Uint8Array;
  private readonly view: DataView;
  private readonly pos = new Map<number, number>();

  constructor(buf: Uint8Array, offset: number, opts: ParseHeaderOptions = {}) {
    this.path = opts.path ?? "";
    this.base = opts.base ?? offset;
    const size = headerSize(buf, offset, opts);
    if (buf.length - offset < size) {
      throw new RpmError("truncated", `header needs ${size} bytes, only ${buf.length - offset} left`, this.path, this.base);
    }
    this.bytes = buf.subarray(offset, offset + size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, size);
    this.indexStart = opts.magic === false ? 8 : 16;
    this.tagCount = this.view.getUint32(this.indexStart - 8);
    this.dataSize = this.view.getUint32(this.indexStart - 4);
    this.storeStart = this.indexStart + this.tagCount * ENTRY;
    this.store = this.bytes.subarray(this.storeStart);
    this.checkEntries();
    this.region = this.checkRegion();
  }

  /** Absolute position of a data-store offset, for error messages. */
  private at(storeOffset: number): number {
    return this.base + this.storeStart + storeOffset;
  }

  private fail(code: "index" | "count" | "type" | "value", msg: string, where: number): never {
    throw new RpmError(code, msg, this.path, where);
  }

  private checkEntries(): void {
    const v = this.view;
    const dl = this.dataSize;
    for (let i = 0; i < this.tagCount; i++) {
      const p = this.indexStart + i * ENTRY;
      const tag = v.getInt32(p);
      const type = v.getUint32(p + 4);
      const off = v.getInt32(p + 8);
      const count = v.getUint32(p + 12);
      const where = this.base + p;
      if (type > MAX_TYPE) this.fail("type", `tag ${tag} has unknown type ${type}`, where);
      if (off < 0 || off > dl) this.fail("index", `tag ${tag} points to offset ${off} outside the ${dl}-byte data store`, where);
      if (type === TYPE.NULL) continue;
      // Every value takes at least one byte: a count beyond the store size is absurd.
      if (count > dl) this.fail("count", `tag ${tag} claims ${count} values in a ${dl}-byte data store`, where);
      const size = TYPE_SIZE[type] || 1;
      if (count * size > dl - off) {
        this.fail("index", `tag ${tag} (${count} × ${typeName(type)}) runs past the end of the data store`, where);
      }
      if (!this.pos.has(tag)) this.pos.set(tag, i);
    }
  }

  /** Validate the region trailer the first entry points to (librpm hdrblobVerifyRegion). */
  private checkRegion(): number {
    if (this.tagCount === 0) return 0;
    const v = this.view;
    const tag = v.getInt32(this.indexStart);
    if (!isRegionTag(tag)) return 0;
    const type = v.getUint32(this.indexStart + 4);
    const off = v.getInt32(this.indexStart + 8);
    const count = v.getUint32(this.indexStart + 12);
    const where = this.base + this.indexStart;
    if (type !== TYPE.BIN || count !== 16) this.fail("index", `region tag ${tag} is not a 16-byte BIN entry`, where);
    if (off + 16 > this.dataSize) this.fail("index", `region tag ${tag} trailer lies outside the data store`, where);
    const t = this.storeStart + off;
    const trailerTag = v.getInt32(t);
    const trailerOff = v.getInt32(t + 8);
    const ril = -trailerOff / ENTRY;
    const tagOk = trailerTag === tag || trailerTag === 61;
    if (!tagOk || trailerOff > 0 || trailerOff % ENTRY !== 0 || ril > this.tagCount) {
      this.fail("index", `region tag ${tag} has a corrupt trailer`, this.at(off));
    }
    return tag;
  }

  has(tag: number): boolean {
    return this.pos.has(tag);
  }

  /** The index entry of a tag (the first one if the tag occurs twice), or undefined. */
  entry(tag: number): HeaderEntry | undefined {
    const i = this.pos.get(tag);
    if (i === undefined) return undefined;
    return this.entryAt(i);
  }

  /** All index entries in header order (including NULL-typed ones). */
  entries(): HeaderEntry[] {
    const out: HeaderEntry[] = [];
    for (let i = 0; i < this.tagCount; i++) out.push(this.entryAt(i));
    return out;
  }

  private entryAt(i: number): HeaderEntry {
    const p = this.indexStart + i * ENTRY;
    const v = this.view;
    return { tag: v.getInt32(p), type: v.getUint32(p + 4), offset: v.getInt32(p + 8), count: v.getUint32(p + 12) };
  }

  private typeOf(i: number): number {
    return this.view.getUint32(this.indexStart + i * ENTRY + 4);
  }

  private offsetOf(i: number): number {
    return this.view.getInt32(this.indexStart + i * ENTRY + 8);
  }

  private countOf(i: number): number {
    return this.view.getUint32(this.indexStart + i * ENTRY + 12);
  }

  /** NUL-terminated string at a store offset; returns the view, the terminator is at view end. */
  private stringAt(off: number, tag: number): Uint8Array {
    const end = this.store.indexOf(0, off);
    if (end < 0) this.fail("value", `string of tag ${tag} is not NUL-terminated inside the data store`, this.at(off));
    return this.store.subarray(off, end);
  }

  /**
   * A tag whose type does not fit the accessor reads as missing: librpm reads such headers
   * (a package's main header is type-checked by verify.ts; signature headers, legacy headers
   * without a region and pkglist entries are not).
   */
  private isStringAt(i: number): boolean {
    const type = this.typeOf(i);
    return type === TYPE.STRING || type === TYPE.STRING_ARRAY || type === TYPE.I18NSTRING;
  }

  /** A string tag (STRING, or element 0 of STRING_ARRAY / I18NSTRING = the "C" locale). */
  str(tag: number): Uint8Array | undefined {
    const i = this.pos.get(tag);
    if (i === undefined) return undefined;
    if (!this.isStringAt(i) || this.countOf(i) === 0) return undefined;
    return this.stringAt(this.offsetOf(i), tag);
  }

  /** A string-array tag; a plain STRING gives a one-element array. Missing → []. */
  strs(tag: number): Uint8Array[] {
    const i = this.pos.get(tag);
    if (i === undefined || !this.isStringAt(i)) return [];
    const type = this.typeOf(i);
    const count = type === TYPE.STRING ? Math.min(1, this.countOf(i)) : this.countOf(i);
    const out = new Array<Uint8Array>(count);
    let off = this.offsetOf(i);
    const store = this.store;
    for (let k = 0; k < count; k++) {
      const end = store.indexOf(0, off);
      if (end < 0) this.fail("value", `string ${k} of tag ${tag} is not NUL-terminated inside the data store`, this.at(off));
      out[k] = store.subarray(off, end);
      off = end + 1;
    }
    return out;
  }

  /**
   * A string-array tag as a StringList (no object per string; see strings.ts). A plain STRING
   * gives one element. Missing → undefined.
   */
  strList(tag: number): StringList | undefined {
    const i = this.pos.get(tag);
    if (i === undefined || !this.isStringAt(i)) return undefined;
    const type = this.typeOf(i);
    const count = type === TYPE.STRING ? Math.min(1, this.countOf(i)) : this.countOf(i);
    const bounds = new Uint32Array(2 * count);
    let off = this.offsetOf(i);
    const store = this.store;
    for (let k = 0; k < count; k++) {
      const end = store.indexOf(0, off);
      if (end < 0) this.fail("value", `string ${k} of tag ${tag} is not NUL-terminated inside the data store`, this.at(off));
      bounds[2 * k] = off;
      bounds[2 * k + 1] = end;
      off = end + 1;
    }
    return new StringList(store, bounds, count);
  }

  /** Raw bytes of a BIN tag (a view). */
  bin(tag: number): Uint8Array | undefined {
    const i = this.pos.get(tag);
    if (i === undefined || this.typeOf(i) !== TYPE.BIN) return undefined;
    const off = this.offsetOf(i);
    return this.store.subarray(off, off + this.countOf(i));
  }

  /** First value of an integer tag, unsigned (INT64 as a double). Missing or empty → undefined. */
  int(tag: number): number | undefined {
    const i = this.pos.get(tag);
    if (i === undefined || this.countOf(i) === 0) return undefined;
    const off = this.storeStart + this.offsetOf(i);
    const v = this.view;
    switch (this.typeOf(i)) {
      case TYPE.CHAR:
      case TYPE.INT8:
        return v.getUint8(off);
      case TYPE.INT16:
        return v.getUint16(off);
      case TYPE.INT32:
        return v.getUint32(off);
      case TYPE.INT64:
        return Number(v.getBigUint64(off));
      default:
        return undefined;
    }
  }

  /** Number of values of a tag (0 when missing). */
  count(tag: number): number {
    const i = this.pos.get(tag);
    return i === undefined ? 0 : this.countOf(i);
  }

  /**
   * An integer-array tag as an unsigned typed array of the stored width (INT64 → Float64Array).
   * Missing → an empty Uint32Array.
   */
  ints(tag: number): Uint8Array | Uint16Array | Uint32Array | Float64Array {
    const i = this.pos.get(tag);
    if (i === undefined) return EMPTY_U32;
    const n = this.countOf(i);
    const start = this.offsetOf(i);
    const s = this.store;
    switch (this.typeOf(i)) {
      case TYPE.CHAR:
      case TYPE.INT8:
        return s.subarray(start, start + n);
      case TYPE.INT16: {
        const out = new Uint16Array(n);
        for (let k = 0, p = start; k < n; k++, p += 2) out[k] = (s[p] << 8) | s[p + 1];
        return out;
      }
      case TYPE.INT32: {
        const out = new Uint32Array(n);
        for (let k = 0, p = start; k < n; k++, p += 4) out[k] = (s[p] << 24) | (s[p + 1] << 16) | (s[p + 2] << 8) | s[p + 3];
        return out;
      }
      case TYPE.INT64: {
        const out = new Float64Array(n);
        const v = this.view;
        for (let k = 0, p = this.storeStart + start; k < n; k++, p += 8) out[k] = v.getUint32(p) * 4294967296 + v.getUint32(p + 4);
        return out;
      }
      default:
        return EMPTY_U32;
    }
  }

  /** Any tag as a plain JS value (for raw dumps): numbers, Uint8Array (BIN) or Uint8Array[] (strings). */
  raw(tag: number): number[] | Uint8Array | Uint8Array[] | undefined {
    const e = this.entry(tag);
    if (!e) return undefined;
    switch (e.type) {
      case TYPE.NULL:
        return [];
      case TYPE.BIN:
        return this.bin(tag);
      case TYPE.STRING:
      case TYPE.STRING_ARRAY:
      case TYPE.I18NSTRING:
        return this.strs(tag);
      default:
        return Array.from(this.ints(tag));
    }
  }
}

const EMPTY_U32 = new Uint32Array(0);

/** Parse the header starting at buf[offset]. */
export function parseHeader(buf: Uint8Array, offset = 0, opts: ParseHeaderOptions = {}): Header {
  return new Header(buf, offset, opts);
}

