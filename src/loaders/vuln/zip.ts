/**
 * Reading one member of a ZIP archive as a stream (stored or deflated), found through the central
 * directory — enough for the FSTEC BDU export, whose inner file name varies between releases.
 * ZIP64 and encrypted members are refused with a clear error.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from "node:fs";
import { createInflateRaw } from "node:zlib";

export class ZipError extends Error {
  override name = "ZipError";
}

export interface ZipMember {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function readAt(fd: number, pos: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  const n = readSync(fd, b, 0, len, pos);
  return b.subarray(0, n);
}

/** The members listed in the central directory. */
export function zipMembers(path: string): ZipMember[] {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const tailLen = Math.min(size, 22 + 65535);
    const tail = readAt(fd, size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--)
      if (tail.readUInt32LE(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    if (eocd < 0) throw new ZipError(`${path}: not a ZIP archive (no end of central directory)`);
    const count = tail.readUInt16LE(eocd + 10);
    const cdSize = tail.readUInt32LE(eocd + 12);
    const cdOffset = tail.readUInt32LE(eocd + 16);
    if (cdOffset === 0xffffffff || count === 0xffff) throw new ZipError(`${path}: ZIP64 archives are not supported`);
    if (cdOffset + cdSize > size) throw new ZipError(`${path}: central directory beyond the end of the file (truncated?)`);
    const cd = readAt(fd, cdOffset, cdSize);
    const out: ZipMember[] = [];
    let p = 0;
    for (let k = 0; k < count; k++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== 0x02014b50) throw new ZipError(`${path}: central directory entry ${k} is damaged`);
      const nameLen = cd.readUInt16LE(p + 28);
      const extraLen = cd.readUInt16LE(p + 30);
      const commentLen = cd.readUInt16LE(p + 32);
      out.push({
        flags: cd.readUInt16LE(p + 8),
        method: cd.readUInt16LE(p + 10),
        compressedSize: cd.readUInt32LE(p + 20),
        size: cd.readUInt32LE(p + 24),
        localOffset: cd.readUInt32LE(p + 42),
        name: cd.subarray(p + 46, p + 46 + nameLen).toString("utf8"),
      });
      p += 46 + nameLen + extraLen + commentLen;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** The member's uncompressed bytes, streamed. */
export function zipMemberStream(path: string, m: ZipMember): AsyncIterable<Uint8Array> {
  if (m.flags & 1) throw new ZipError(`${path}: ${m.name} is encrypted`);
  if (m.method !== 0 && m.method !== 8) throw new ZipError(`${path}: ${m.name} uses compression method ${m.method} (only stored and deflate are read)`);
  const fd = openSync(path, "r");
  let local: Buffer;
  try {
    local = readAt(fd, m.localOffset, 30);
  } finally {
    closeSync(fd);
  }
  if (local.length < 30 || local.readUInt32LE(0) !== 0x04034b50) throw new ZipError(`${path}: local header of ${m.name} is damaged`);
  const start = m.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (m.compressedSize === 0) return (async function* () {})();
  const raw = createReadStream(path, { start, end: start + m.compressedSize - 1, highWaterMark: 1 << 20 });
  return (m.method === 8 ? raw.pipe(createInflateRaw()) : raw) as AsyncIterable<Uint8Array>;
}
