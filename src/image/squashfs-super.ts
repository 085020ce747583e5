/**
 * The squashfs 4.0 superblock (96 bytes, little-endian) of src/image/squashfs.ts: magic, version,
 * block size, compressor, table positions, each checked against the image's size.
 */
import type { ByteSource } from "../rpmdb/source.ts";
import { ImageError } from "./errors.ts";
import { COMPRESSORS } from "./squashfs-compress.ts";

const MAGIC = 0x73717368;

export interface Superblock {
  inodes: number;
  mtime: number;
  blockSize: number;
  fragments: number;
  compressor: number;
  flags: number;
  idCount: number;
  rootRef: number;
  bytesUsed: number;
  idTable: number;
  inodeTable: number;
  dirTable: number;
  fragTable: number;
}

/** The superblock, checked against the image it comes from. */
export function readSuperblock(src: ByteSource): Superblock {
  if (src.size < 96) throw new ImageError("format", `not a squashfs image: ${src.size} bytes`, src.path);
  const b = new Uint8Array(96);
  src.readAt(b, 0);
  const v = new DataView(b.buffer);
  const u64 = (o: number) => {
    const n = v.getBigUint64(o, true);
    return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
  };
  if (v.getUint32(0, true) !== MAGIC) throw new ImageError("format", "not a squashfs image: bad magic", src.path);
  const major = v.getUint16(28, true);
  const minor = v.getUint16(30, true);
  if (major !== 4 || minor !== 0) throw new ImageError("format", `squashfs version ${major}.${minor}, only 4.0 is read`, src.path);
  const sb: Superblock = {
    inodes: v.getUint32(4, true),
    mtime: v.getUint32(8, true),
    blockSize: v.getUint32(12, true),
    fragments: v.getUint32(16, true),
    compressor: v.getUint16(20, true),
    flags: v.getUint16(24, true),
    idCount: v.getUint16(26, true),
    rootRef: u64(32),
    bytesUsed: u64(40),
    idTable: u64(48),
    inodeTable: u64(64),
    dirTable: u64(72),
    fragTable: u64(80),
  };
  const log = v.getUint16(22, true);
  if (sb.blockSize < 4096 || sb.blockSize > 1 << 20 || 1 << log !== sb.blockSize)
    throw new ImageError("corrupt", `block size ${sb.blockSize} (log ${log}) is not a power of two from 4 KiB to 1 MiB`, src.path);
  if (sb.bytesUsed > src.size) throw new ImageError("truncated", `image is ${src.size} bytes, the superblock says ${sb.bytesUsed}`, src.path);
  if (!(96 <= sb.inodeTable && sb.inodeTable <= sb.dirTable && sb.dirTable <= sb.bytesUsed))
    throw new ImageError("corrupt", "inode and directory table positions are inconsistent", src.path);
  if (!COMPRESSORS[sb.compressor]) throw new ImageError("unsupported", `unknown compressor id ${sb.compressor}`, src.path);
  return sb;
}
