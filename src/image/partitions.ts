/**
 * Partition tables of a raw disk (or of a QCOW2 guest disk seen as a ByteSource).
 *
 * Supported: MBR (four primary entries; extended partitions 0x05/0x0f/0x85 with their chain of
 * logical partitions, numbered from 5 as Linux does), GPT (protective MBR, 512- and 4096-byte
 * sectors detected from where "EFI PART" is found, header and entry-array CRC32 checked; a bad
 * primary header falls back to the backup header at the end of the disk, both bad is an error).
 * A disk with no partition table but an ext2/3/4 superblock at byte 1024 is one partition.
 *
 * Refused with an ImageError: a partition that extends beyond the end of the disk (a truncated
 * download), a logical-partition chain that loops or is absurdly long, a GPT with both headers bad.
 */
import { ImageError } from "./errors.ts";
import { SliceSource, type ByteSource } from "./tree.ts";

export interface Partition {
  /** 1-based: GPT entry number, MBR slot 1–4, logical partitions 5 and up; 1 for a whole-disk filesystem. */
  index: number;
  /** Byte offset of the partition on the disk. */
  start: number;
  /** Bytes. */
  size: number;
  /** GPT type GUID (lower case) or the MBR type byte as "0x83"; "none" for a whole-disk filesystem. */
  type: string;
  /** GPT partition name; "" for MBR. */
  name: string;
  scheme: "gpt" | "mbr" | "none";
}

const EXTENDED = new Set([0x05, 0x0f, 0x85]);
const MAX_LOGICAL = 256;
const MAX_GPT_ENTRIES = 4096;
/** GPT type GUIDs of Linux filesystem data and root partitions (x86-64, aarch64, ...). */
export const LINUX_FS_GUID = "0fc63daf-8483-4772-8e79-3d69d8477de4";

function read(src: ByteSource, pos: number, n: number, what: string): Uint8Array {
  const buf = new Uint8Array(n);
  const got = src.readAt(buf, pos);
  if (got !== n) throw new ImageError("truncated", `the disk ends inside the ${what} (byte ${pos}, ${n} bytes wanted, ${got} there)`, src.path);
  return buf;
}

function u64le(dv: DataView, off: number): number {
  return dv.getUint32(off, true) + dv.getUint32(off + 4, true) * 0x1_0000_0000;
}

/** A GUID as text: the first three fields are little-endian on disk. */
export function guidText(b: Uint8Array): string {
  const h = (i: number) => b[i].toString(16).padStart(2, "0");
  const r = (idx: number[]) => idx.map(h).join("");
  return `${r([3, 2, 1, 0])}-${r([5, 4])}-${r([7, 6])}-${r([8, 9])}-${r([10, 11, 12, 13, 14, 15])}`;
}

/** Whether an ext2/3/4 superblock magic is at byte 1024 of the source. */
export function hasExtMagic(src: ByteSource): boolean {
  if (src.size < 2048) return false;
  const b = new Uint8Array(2);
  return src.readAt(b, 1024 + 0x38) === 2 && b[0] === 0x53 && b[1] === 0xef;
}

/** Every partition of the disk, in table order; [] when there is neither a table nor a filesystem. */
export function readPartitions(src: ByteSource): Partition[] {
  if (src.size < 512) throw new ImageError("truncated", `${src.size} bytes: too small to be a disk`, src.path);
  const mbr = read(src, 0, 512, "MBR");
  const hasSig = mbr[510] === 0x55 && mbr[511] === 0xaa;
  if (hasSig) {
    const types = [0, 1, 2, 3].map((i) => mbr[446 + i * 16 + 4]);
    if (types.includes(0xee)) return checkBounds(src, readGpt(src));
    const parts = readMbr(src, mbr);
    if (parts.length > 0) return checkBounds(src, parts);
  }
  if (hasExtMagic(src)) return [{ index: 1, start: 0, size: src.size, type: "none", name: "", scheme: "none" }];
  return [];
}

function checkBounds(src: ByteSource, parts: Partition[]): Partition[] {
  for (const p of parts) {
    if (p.start + p.size > src.size)
      throw new ImageError(
        "truncated",
        `partition ${p.index} ends at byte ${p.start + p.size}, beyond the end of the disk (${src.size} bytes): truncated image?`,
        src.path,
      );
  }
  return parts;
}

function readMbr(src: ByteSource, mbr: Uint8Array): Partition[] {
  const dv = new DataView(mbr.buffer);
  const out: Partition[] = [];
  const extended: { start: number; size: number }[] = [];
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    const type = mbr[e + 4];
    const lba = dv.getUint32(e + 8, true);
    const count = dv.getUint32(e + 12, true);
    if (type === 0 || count === 0) continue;
    if (EXTENDED.has(type)) {
      extended.push({ start: lba, size: count });
      continue;
    }
    out.push({ index: i + 1, start: lba * 512, size: count * 512, type: hexType(type), name: "", scheme: "mbr" });
  }
  let next = 5;
  for (const ext of extended) next = readLogical(src, ext.start, ext.size, next, out);
  return out;
}

function hexType(t: number): string {
  return `0x${t.toString(16).padStart(2, "0")}`;
}

/** The chain of extended boot records; returns the next logical partition number. */
function readLogical(src: ByteSource, extStart: number, extSize: number, index: number, out: Partition[]): number {
  const seen = new Set<number>();
  let ebr = extStart;
  while (true) {
    if (seen.has(ebr)) throw new ImageError("loop", `the logical partition chain comes back to sector ${ebr}`, src.path);
    if (seen.size >= MAX_LOGICAL) throw new ImageError("corrupt", `more than ${MAX_LOGICAL} logical partitions`, src.path);
    seen.add(ebr);
    const b = read(src, ebr * 512, 512, `extended boot record at sector ${ebr}`);
    if (b[510] !== 0x55 || b[511] !== 0xaa) throw new ImageError("corrupt", `no boot signature in the extended boot record at sector ${ebr}`, src.path);
    const dv = new DataView(b.buffer);
    const type = b[446 + 4];
    const lba = dv.getUint32(446 + 8, true);
    const count = dv.getUint32(446 + 12, true);
    if (type !== 0 && count !== 0) {
      out.push({ index, start: (ebr + lba) * 512, size: count * 512, type: hexType(type), name: "", scheme: "mbr" });
      index++;
    }
    const ntype = b[462 + 4];
    const nlba = dv.getUint32(462 + 8, true);
    if (!EXTENDED.has(ntype) || nlba === 0) return index;
    if (nlba >= extSize) throw new ImageError("corrupt", `the extended boot record at sector ${ebr} points outside its extended partition`, src.path);
    ebr = extStart + nlba;
  }
}

interface GptHeader {
  entriesLba: number;
  count: number;
  entrySize: number;
  entriesCrc: number;
  backupLba: number;
}

function crc32(b: Uint8Array): number {
  return Bun.hash.crc32(b) >>> 0;
}

/** The GPT header at `lba`, or the reason it is not usable. */
function gptHeader(src: ByteSource, lba: number, sector: number): GptHeader | string {
  const pos = lba * sector;
  if (pos + 92 > src.size) return `no header at sector ${lba} (beyond the end of the disk)`;
  const b = read(src, pos, Math.min(sector, 512), `GPT header at sector ${lba}`);
  if (new TextDecoder().decode(b.subarray(0, 8)) !== "EFI PART") return `no "EFI PART" signature at sector ${lba}`;
  const dv = new DataView(b.buffer);
  const hsize = dv.getUint32(12, true);
  if (hsize < 92 || hsize > b.length) return `header size ${hsize} at sector ${lba} is not valid`;
  const stored = dv.getUint32(16, true);
  const copy = b.slice(0, hsize);
  copy.fill(0, 16, 20);
  if (crc32(copy) !== stored) return `header CRC mismatch at sector ${lba}`;
  const h: GptHeader = {
    backupLba: u64le(dv, 32),
    entriesLba: u64le(dv, 72),
    count: dv.getUint32(80, true),
    entrySize: dv.getUint32(84, true),
    entriesCrc: dv.getUint32(88, true),
  };
  if (h.entrySize < 128 || h.entrySize % 8 !== 0 || h.entrySize > 4096) return `entry size ${h.entrySize} at sector ${lba} is not valid`;
  if (h.count > MAX_GPT_ENTRIES) return `${h.count} entries at sector ${lba}: more than ${MAX_GPT_ENTRIES}`;
  return h;
}

function readGpt(src: ByteSource): Partition[] {
  let sector = 0;
  for (const s of [512, 4096]) {
    if (src.size < s * 2) continue;
    const sig = new Uint8Array(8);
    src.readAt(sig, s);
    if (new TextDecoder().decode(sig) === "EFI PART") {
      sector = s;
      break;
    }
  }
  const problems: string[] = [];
  const tryHeader = (lba: number, sec: number): Partition[] | undefined => {
    const h = gptHeader(src, lba, sec);
    if (typeof h === "string") {
      problems.push(h);
      return undefined;
    }
    const len = h.count * h.entrySize;
    if (h.entriesLba * sec + len > src.size) {
      problems.push(`the entry array at sector ${h.entriesLba} is beyond the end of the disk`);
      return undefined;
    }
    const arr = read(src, h.entriesLba * sec, len, "GPT entry array");
    if (crc32(arr) !== h.entriesCrc) {
      problems.push(`entry array CRC mismatch (header at sector ${lba})`);
      return undefined;
    }
    return gptEntries(arr, h, sec);
  };
  if (sector !== 0) {
    const primary = tryHeader(1, sector);
    if (primary) return primary;
  }
  // The backup header is in the disk's last sector.
  for (const sec of sector ? [sector] : [512, 4096]) {
    const last = Math.floor(src.size / sec) - 1;
    const backup = tryHeader(last, sec);
    if (backup) return backup;
  }
  throw new ImageError("corrupt", `protective MBR but no usable GPT: ${problems.join("; ")}`, src.path);
}

function gptEntries(arr: Uint8Array, h: GptHeader, sector: number): Partition[] {
  const dv = new DataView(arr.buffer);
  const out: Partition[] = [];
  for (let i = 0; i < h.count; i++) {
    const e = i * h.entrySize;
    const typeBytes = arr.subarray(e, e + 16);
    if (typeBytes.every((x) => x === 0)) continue;
    const first = u64le(dv, e + 32);
    const last = u64le(dv, e + 40);
    if (last < first) continue;
    let name = new TextDecoder("utf-16le").decode(arr.subarray(e + 56, e + 128));
    const nul = name.indexOf("\0");
    if (nul >= 0) name = name.slice(0, nul);
    out.push({ index: i + 1, start: first * sector, size: (last - first + 1) * sector, type: guidText(typeBytes), name, scheme: "gpt" });
  }
  return out;
}

/** The bytes of one partition. */
export function partitionSource(src: ByteSource, p: Partition): ByteSource {
  return new SliceSource(src, p.start, p.size, `${src.path}#${p.index}`);
}

/** The partitions holding an ext2/3/4 filesystem (probed by its superblock magic), in table order. */
export function linuxPartitions(src: ByteSource): Partition[] {
  return readPartitions(src).filter((p) => hasExtMagic(partitionSource(src, p)));
}
