/**
 * Deterministic mutants of real RPMs for the librpm verdict-parity test (tests only).
 *
 * Each mutant is one source package with 1–3 mutations of its signature or main header: bit
 * flips, random bytes, il / dl, an index entry's tag, type, offset or count set to a boundary
 * value, two entries swapped, one entry's offset copied from another, the region trailer
 * edited, the reserved magic bytes, truncation. Most mutants are then "resealed": SHA1HEADER and
 * SHA256HEADER in the signature header are recomputed over the mutated main header, so the
 * structural checks — not only the digests — decide the verdict.
 */
import { createHash } from "node:crypto";

/** xorshift32: deterministic and fast. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const BOUNDARY = [0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x0fffffff, 0x10000000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];
const TAGS = [61, 62, 63, 99, 100, 257, 261, 269, 273, 1000, 1004, 1007, 1009, 1027, 1028, 1030, 1047, 1116, 1117, 1118, 1141, 1142, 5000, 5092, 1000001];

interface Hdr {
  start: number;
  il: number;
  dl: number;
}

function u32(b: Uint8Array, p: number): number {
  return ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
}

function setU32(b: Uint8Array, p: number, v: number): void {
  if (p < 0 || p + 4 > b.length) return;
  b[p] = v >>> 24;
  b[p + 1] = (v >>> 16) & 0xff;
  b[p + 2] = (v >>> 8) & 0xff;
  b[p + 3] = v & 0xff;
}

function hdrAt(b: Uint8Array, start: number): Hdr | undefined {
  if (start + 16 > b.length) return undefined;
  return { start, il: u32(b, start + 8), dl: u32(b, start + 12) };
}

/** Signature header at 96, main header after it (8-byte padded), as the file says. */
export function headersOf(b: Uint8Array): { sig?: Hdr; main?: Hdr } {
  const sig = hdrAt(b, 96);
  if (!sig || sig.il > 0xffff || sig.dl > 0x0fffffff) return { sig };
  const sigLen = 16 + sig.il * 16 + sig.dl;
  const main = hdrAt(b, 96 + sigLen + ((8 - (sigLen % 8)) % 8));
  return { sig, main };
}

function mutateOnce(b: Uint8Array, h: Hdr, r: () => number): Uint8Array {
  const pick = <T>(a: readonly T[]) => a[r() % a.length];
  const il = Math.min(h.il, 4096);
  const entry = il > 0 ? h.start + 16 + (r() % il) * 16 : -1;
  const dataStart = h.start + 16 + il * 16;
  const end = Math.min(b.length, dataStart + h.dl);
  const op = r() % 14;
  switch (op) {
    case 0: {
      const p = h.start + (r() % Math.max(1, end - h.start));
      if (p < b.length) b[p] ^= 1 << (r() % 8);
      break;
    }
    case 1: {
      const p = h.start + (r() % Math.max(1, end - h.start));
      if (p < b.length) b[p] = r() & 0xff;
      break;
    }
    case 2:
      setU32(b, h.start + 8 + 4 * (r() % 2), r() % 2 ? pick(BOUNDARY) : u32(b, h.start + 8 + 4 * (r() % 2)) + (r() % 5) - 2);
      break;
    case 3:
      if (entry >= 0) setU32(b, entry, pick(TAGS));
      break;
    case 4:
      if (entry >= 0) setU32(b, entry + 4, r() % 11);
      break;
    case 5:
      if (entry >= 0) setU32(b, entry + 8, r() % 2 ? pick(BOUNDARY) : u32(b, entry + 8) + (r() % 9) - 4);
      break;
    case 6:
      if (entry >= 0) setU32(b, entry + 12, r() % 2 ? pick(BOUNDARY) : u32(b, entry + 12) + (r() % 5) - 2);
      break;
    case 7:
      if (il > 1) {
        // swap two index entries
        const other = h.start + 16 + (r() % il) * 16;
        if (other + 16 <= b.length && entry + 16 <= b.length) {
          const t = b.slice(entry, entry + 16);
          b.copyWithin(entry, other, other + 16);
          b.set(t, other);
        }
      }
      break;
    case 8:
      if (il > 1) {
        const other = h.start + 16 + (r() % il) * 16;
        if (other + 16 <= b.length) setU32(b, entry + 8, u32(b, other + 8));
      }
      break;
    case 9: {
      // the region trailer (16 bytes at the region entry's offset)
      const off = u32(b, h.start + 16 + 8);
      const t = dataStart + off;
      if (t + 16 <= b.length) setU32(b, t + 4 * (r() % 4), r() % 2 ? pick(BOUNDARY) : u32(b, t + 4 * (r() % 4)) + 16 * ((r() % 3) - 1));
      break;
    }
    case 10:
      b[h.start + 4 + (r() % 4)] = r() & 0xff; // reserved magic bytes
      break;
    case 11:
      return b.slice(0, h.start + (r() % Math.max(1, end - h.start + 64)));
    case 12: {
      // a NUL inside or removed from the data store
      const p = dataStart + (r() % Math.max(1, h.dl));
      if (p < b.length) b[p] = b[p] === 0 ? 0x41 : 0;
      break;
    }
    default: {
      // type and count together (a plausible but wrong entry)
      if (entry >= 0) {
        setU32(b, entry + 4, pick([3, 4, 6, 7, 8, 9]));
        setU32(b, entry + 12, 1 + (r() % 4));
      }
    }
  }
  return b;
}

/** Recompute SHA1HEADER / SHA256HEADER (hex strings of the signature header) over the main header. */
export function reseal(b: Uint8Array): void {
  const { sig, main } = headersOf(b);
  if (!sig || !main || sig.il > 64 || main.il > 0xffff || main.dl > 0x0fffffff) return;
  const mainEnd = main.start + 16 + main.il * 16 + main.dl;
  if (mainEnd > b.length) return;
  const hdr = b.subarray(main.start, mainEnd);
  const dataStart = sig.start + 16 + sig.il * 16;
  for (let i = 0; i < sig.il; i++) {
    const e = sig.start + 16 + i * 16;
    const tag = u32(b, e);
    if (tag !== 269 && tag !== 273) continue;
    const hex = createHash(tag === 269 ? "sha1" : "sha256").update(hdr).digest("hex");
    const at = dataStart + u32(b, e + 8);
    if (u32(b, e + 4) !== 6 || at + hex.length + 1 > Math.min(b.length, dataStart + sig.dl)) continue;
    for (let k = 0; k < hex.length; k++) b[at + k] = hex.charCodeAt(k);
  }
}

export interface Mutant {
  name: string;
  bytes: Uint8Array;
}

/** `n` mutants of `sources` (file name → bytes), deterministic for a seed. */
export function* mutants(sources: [string, Uint8Array][], n: number, seed: number): Generator<Mutant> {
  const r = rng(seed);
  for (let i = 0; i < n; i++) {
    const [name, src] = sources[r() % sources.length];
    let b: Uint8Array = src.slice();
    const { sig, main } = headersOf(b);
    const rounds = 1 + (r() % 3);
    const onMain = r() % 10 < 7;
    for (let k = 0; k < rounds; k++) {
      const h = onMain ? (main ?? sig) : sig;
      if (!h) break;
      b = mutateOnce(b, h, r);
    }
    if (r() % 10 < 7) reseal(b);
    yield { name: `${String(i).padStart(6, "0")}-${name.replaceAll("/", "_")}`, bytes: b };
  }
}
