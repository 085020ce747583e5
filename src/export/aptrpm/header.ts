/**
 * Header blobs as plain entries (tag, type, count, raw data bytes) and back: what genpkglist does
 * with headerNew + headerCopyTags + headerExport. Entries are written sorted by tag with each
 * type's alignment, no region, with the 8-byte magic — the layout librpm gives a new header.
 */

export const RPM_TYPE = { NULL: 0, CHAR: 1, INT8: 2, INT16: 3, INT32: 4, INT64: 5, STRING: 6, BIN: 7, STRING_ARRAY: 8, I18NSTRING: 9 } as const;
const ALIGN: Record<number, number> = { 3: 2, 4: 4, 5: 8 };
const WIDTH: Record<number, number> = { 0: 0, 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 };
const MAGIC = Uint8Array.of(0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0);

export interface Entry {
  tag: number;
  type: number;
  count: number;
  data: Uint8Array;
}

export class HeaderBlobError extends Error {
  override name = "HeaderBlobError";
}

/** The entries of a header blob (magic included), in index order. */
export function decodeEntries(blob: Uint8Array): Entry[] {
  if (blob.length < 16 || MAGIC.some((b, i) => i < 4 && blob[i] !== b)) throw new HeaderBlobError("not a header (bad magic)");
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.length);
  const n = dv.getUint32(8);
  const dl = dv.getUint32(12);
  const store = 16 + n * 16;
  if (store + dl > blob.length) throw new HeaderBlobError(`header needs ${store + dl} bytes, has ${blob.length}`);
  const out: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const p = 16 + i * 16;
    const tag = dv.getUint32(p);
    const type = dv.getUint32(p + 4);
    const off = dv.getInt32(p + 8);
    const count = dv.getUint32(p + 12);
    if (tag >= 61 && tag <= 63) continue; // region tags: a new header has none
    if (off < 0 || off > dl) throw new HeaderBlobError(`tag ${tag}: offset ${off} outside the data (${dl} bytes)`);
    const start = store + off;
    let end: number;
    if (type === RPM_TYPE.STRING || type === RPM_TYPE.STRING_ARRAY || type === RPM_TYPE.I18NSTRING) {
      end = start;
      const strings = type === RPM_TYPE.STRING ? 1 : count;
      for (let k = 0; k < strings; k++) {
        while (end < store + dl && blob[end] !== 0) end++;
        if (end >= store + dl) throw new HeaderBlobError(`tag ${tag}: unterminated string`);
        end++;
      }
    } else {
      const w = WIDTH[type];
      if (w === undefined) throw new HeaderBlobError(`tag ${tag}: unknown type ${type}`);
      end = start + w * count;
      if (end > store + dl) throw new HeaderBlobError(`tag ${tag}: data runs past the header`);
    }
    out.push({ tag, type, count, data: blob.subarray(start, end) });
  }
  return out;
}

/** A new header blob (magic included) of `entries`, sorted by tag. */
export function encodeEntries(entries: readonly Entry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const offsets: number[] = [];
  let dl = 0;
  for (const e of sorted) {
    const a = ALIGN[e.type] ?? 1;
    if (dl % a) dl += a - (dl % a);
    offsets.push(dl);
    dl += e.data.length;
  }
  const out = new Uint8Array(16 + sorted.length * 16 + dl);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, sorted.length);
  dv.setUint32(12, dl);
  const store = 16 + sorted.length * 16;
  sorted.forEach((e, i) => {
    const p = 16 + i * 16;
    dv.setUint32(p, e.tag);
    dv.setUint32(p + 4, e.type);
    dv.setUint32(p + 8, offsets[i]);
    dv.setUint32(p + 12, e.count);
    out.set(e.data, store + offsets[i]);
  });
  return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** NUL-terminated strings of a STRING / STRING_ARRAY entry, raw bytes. */
export function rawStrings(e: Entry): Uint8Array[] {
  const out: Uint8Array[] = [];
  let s = 0;
  for (let i = 0; i < e.data.length; i++) {
    if (e.data[i] === 0) {
      out.push(e.data.subarray(s, i));
      s = i + 1;
    }
  }
  return out;
}

export function strings(e: Entry): string[] {
  return rawStrings(e).map((b) => dec.decode(b));
}

export function int32s(e: Entry): number[] {
  const dv = new DataView(e.data.buffer, e.data.byteOffset, e.data.length);
  const out: number[] = [];
  for (let i = 0; i < e.count; i++) out.push(dv.getUint32(i * 4));
  return out;
}

export function stringEntry(tag: number, value: string | Uint8Array): Entry {
  const b = typeof value === "string" ? enc.encode(value) : value;
  const data = new Uint8Array(b.length + 1);
  data.set(b);
  return { tag, type: RPM_TYPE.STRING, count: 1, data };
}

export function stringArrayEntry(tag: number, values: readonly (string | Uint8Array)[]): Entry {
  const parts = values.map((v) => (typeof v === "string" ? enc.encode(v) : v));
  const data = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length + 1;
  }
  return { tag, type: RPM_TYPE.STRING_ARRAY, count: parts.length, data };
}

export function int32Entry(tag: number, values: readonly number[]): Entry {
  const data = new Uint8Array(values.length * 4);
  const dv = new DataView(data.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, v >>> 0));
  return { tag, type: RPM_TYPE.INT32, count: values.length, data };
}
