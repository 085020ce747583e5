/**
 * NDB `Packages.db` (rpm's "ndb" backend, SUSE's default since rpm 4.16; rpm's
 * lib/backend/ndb/rpmpkg.c). Everything is little-endian:
 *
 *   header  "RpmP" magic, version 0, generation, slot page count, next package index (32 bytes)
 *   slots   16 bytes each on the first `slotnpages` 4 KiB pages (the first two slots are the
 *           header): "Slot" magic, package index, block offset, block count (blocks of 16
 *           bytes; offset 0 = a free slot)
 *   blob    "BlbS", package index, timestamp, length, the header blob, zero padding, then
 *           adler32 (of everything before it), length, "BlbE"
 *
 * The slot table is the database's own count: every used slot must give a readable blob. Blobs
 * are listed by block offset, as rpm lists them.
 */
import { recordOf, type RpmdbRecord } from "./blob.ts";
import { RpmdbError } from "./errors.ts";
import type { ByteSource } from "./source.ts";

const fourcc = (s: string) => s.charCodeAt(0) | (s.charCodeAt(1) << 8) | (s.charCodeAt(2) << 16) | ((s.charCodeAt(3) << 24) >>> 0);
export const NDB_MAGIC = fourcc("RpmP") >>> 0;
const SLOT_MAGIC = fourcc("Slot") >>> 0;
const BLOBHEAD_MAGIC = fourcc("BlbS") >>> 0;
const BLOBTAIL_MAGIC = fourcc("BlbE") >>> 0;
const PAGE = 4096;
const SLOT = 16;
const BLK = 16;
const HEAD = 16;
const TAIL = 12;
/** A header is at most 256 MiB (librpm): a slot table of more pages than this is corrupt. */
const MAX_SLOT_PAGES = 65536;

interface Slot {
  slotno: number;
  pkgidx: number;
  blkoff: number;
  blkcnt: number;
}

export class NdbPackages {
  readonly format = "ndb" as const;
  readonly generation: number;
  readonly count: number;
  private readonly slots: Slot[] = [];

  constructor(private readonly src: ByteSource) {
    const path = src.path;
    const head = new Uint8Array(32);
    if (src.readAt(head, 0) < 32) throw new RpmdbError("truncated", `file of ${src.size} bytes is shorter than the NDB header`, path, "header");
    const hv = new DataView(head.buffer);
    if (hv.getUint32(0, true) !== NDB_MAGIC) throw new RpmdbError("format", 'not an NDB package database (no "RpmP" magic)', path, "header");
    const version = hv.getUint32(4, true);
    if (version !== 0) throw new RpmdbError("format", `NDB version ${version} is not supported (0 is)`, path, "header");
    this.generation = hv.getUint32(8, true);
    const slotnpages = hv.getUint32(12, true);
    if (src.size % BLK !== 0) throw new RpmdbError("truncated", `file size ${src.size} is not a multiple of ${BLK} bytes`, path, "header");
    const fileblks = src.size / BLK;
    if (slotnpages === 0 || slotnpages > MAX_SLOT_PAGES) throw new RpmdbError("corrupt", `header announces ${slotnpages} slot pages`, path, "header");
    if (slotnpages * PAGE > src.size) throw new RpmdbError("truncated", `file of ${src.size} bytes ends inside the ${slotnpages} slot pages`, path, "header");
    const minblkoff = (slotnpages * PAGE) / BLK;
    const page = new Uint8Array(PAGE);
    const pv = new DataView(page.buffer);
    let slotno = 2;
    for (let p = 0; p < slotnpages; p++) {
      src.readAt(page, p * PAGE);
      for (let o = p ? 0 : 32; o < PAGE; o += SLOT, slotno++) {
        const where = `slot ${slotno}`;
        if (pv.getUint32(o, true) !== SLOT_MAGIC) throw new RpmdbError("corrupt", 'bad slot magic (expected "Slot")', path, where);
        const blkoff = pv.getUint32(o + 8, true);
        if (blkoff === 0) continue;
        const pkgidx = pv.getUint32(o + 4, true);
        const blkcnt = pv.getUint32(o + 12, true);
        if (blkoff + blkcnt > fileblks) throw new RpmdbError("truncated", `blob of package index ${pkgidx} at byte ${blkoff * BLK} (${blkcnt * BLK} bytes) runs past the end of the ${src.size}-byte file`, path, where);
        if (pkgidx === 0 || blkcnt === 0 || blkoff < minblkoff) throw new RpmdbError("corrupt", `bad slot (package index ${pkgidx}, block ${blkoff}, ${blkcnt} blocks)`, path, where);
        this.slots.push({ slotno, pkgidx, blkoff, blkcnt });
      }
    }
    this.slots.sort((a, b) => a.blkoff - b.blkoff);
    const seen = new Set<number>();
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (seen.has(s.pkgidx)) throw new RpmdbError("corrupt", `package index ${s.pkgidx} has two slots`, path, `slot ${s.slotno}`);
      seen.add(s.pkgidx);
      const prev = this.slots[i - 1];
      if (prev && prev.blkoff + prev.blkcnt > s.blkoff) throw new RpmdbError("corrupt", `blob overlaps the blob of slot ${prev.slotno}`, path, `slot ${s.slotno}`);
    }
    this.count = this.slots.length;
  }

  private blob(s: Slot): Uint8Array {
    const path = this.src.path;
    const where = `slot ${s.slotno}`;
    const bytes = new Uint8Array(s.blkcnt * BLK);
    this.src.readAt(bytes, s.blkoff * BLK);
    const v = new DataView(bytes.buffer);
    const bad = (msg: string) => new RpmdbError("corrupt", `blob of package index ${s.pkgidx} at byte ${s.blkoff * BLK}: ${msg}`, path, where);
    if (bytes.length < HEAD + TAIL) throw bad(`${bytes.length} bytes is too small for a blob`);
    if (v.getUint32(0, true) !== BLOBHEAD_MAGIC) throw bad('bad magic (expected "BlbS")');
    if (v.getUint32(4, true) !== s.pkgidx) throw bad(`blob belongs to package index ${v.getUint32(4, true)}`);
    const len = v.getUint32(12, true);
    if (Math.ceil((HEAD + len + TAIL) / BLK) !== s.blkcnt) throw bad(`length ${len} does not fit the ${s.blkcnt} blocks of the slot`);
    const t = bytes.length - TAIL;
    if (v.getUint32(t + 8, true) !== BLOBTAIL_MAGIC) throw bad('bad tail magic (expected "BlbE")');
    if (v.getUint32(t + 4, true) !== len) throw bad(`tail length ${v.getUint32(t + 4, true)} differs from head length ${len}`);
    const sum = adler32(bytes, t);
    if (v.getUint32(t, true) !== sum) throw bad(`adler32 ${v.getUint32(t, true).toString(16)} stored, ${sum.toString(16)} computed`);
    return bytes.subarray(HEAD, HEAD + len);
  }

  /** Package records by block offset (rpm's order). A damaged blob is an error for the whole read. */
  *records(): Generator<RpmdbRecord> {
    for (const s of this.slots) yield recordOf(this.src.path, s.pkgidx, `slot ${s.slotno}`, this.blob(s));
  }
}

/** Adler-32 (RFC 1950) of buf[0..len). */
function adler32(buf: Uint8Array, len: number): number {
  let a = 1;
  let b = 0;
  let i = 0;
  while (i < len) {
    const end = Math.min(len, i + 5552);
    for (; i < end; i++) {
      a += buf[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}
