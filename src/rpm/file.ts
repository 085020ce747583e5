/**
 * Reading the header part of an .rpm file: lead, signature header (padded to 8 bytes), main
 * header. Exactly those bytes are read (three positioned reads); the payload is not touched.
 */
import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
import { RpmError } from "./errors.ts";
import { Header, headerSize } from "./header.ts";
import { LEAD_SIZE, type Lead, parseLead } from "./lead.ts";
import { REGION_IMMUTABLE, REGION_SIGNATURES, verifyDigests, verifyHeaderBlob, verifyMergeSigs } from "./verify.ts";

export interface PackageFile {
  path: string;
  /** Size of the file on disk. */
  fileSize: number;
  lead: Lead;
  signature: Header;
  header: Header;
  /** Byte range of the main header in the file: [headerStart, headerEnd). The payload starts at headerEnd. */
  headerStart: number;
  headerEnd: number;
}

const INTRO = 16;

function ioError(path: string, e: unknown): RpmError {
  const msg = e instanceof Error ? e.message : String(e);
  return new RpmError("io", `cannot read file: ${msg}`, path);
}

/** What a file that is not a regular file is, for messages: "a FIFO", "a character device", … */
export function fileTypeOf(st: Stats): string {
  if (st.isFIFO()) return "a FIFO";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  if (st.isDirectory()) return "a directory";
  if (st.isSymbolicLink()) return "a symbolic link";
  return "of an unknown type";
}

/**
 * Opens a regular file for reading, refusing anything else by its type before opening it
 * (opening a FIFO waits for a writer, opening a device can have effects). The open itself uses
 * O_NONBLOCK, so a FIFO swapped in after the check does not block either (for a regular file
 * O_NONBLOCK changes nothing); the type is checked again on the descriptor.
 */
export function openRegularSync(path: string): number {
  let fd: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new RpmError("io", `not a regular file (${fileTypeOf(st)})`, path);
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw e instanceof RpmError ? e : ioError(path, e);
  }
  let st: Stats;
  try {
    st = fstatSync(fd);
  } catch (e) {
    closeSync(fd);
    throw ioError(path, e);
  }
  if (!st.isFile()) {
    closeSync(fd);
    throw new RpmError("io", `not a regular file (${fileTypeOf(st)})`, path);
  }
  return fd;
}

/** Read exactly `len` bytes at `pos` into `dst[at..]`, or throw "truncated" naming what was being read. */
function readExact(fd: number, dst: Uint8Array, at: number, len: number, pos: number, path: string, what: string): void {
  let done = 0;
  while (done < len) {
    let n: number;
    try {
      n = readSync(fd, dst, at + done, len - done, pos + done);
    } catch (e) {
      throw ioError(path, e);
    }
    if (n === 0) {
      throw new RpmError("truncated", `file ends inside the ${what} (needed ${len} bytes, got ${done})`, path, pos + done);
    }
    done += n;
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

/** Open an .rpm file and parse its lead, signature header and main header. */
export function readPackageFile(path: string): PackageFile {
  const fd = openRegularSync(path);
  try {
    return readFromFd(fd, path);
  } finally {
    closeSync(fd);
  }
}

function readFromFd(fd: number, path: string): PackageFile {
  let fileSize: number;
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RpmError("io", "not a regular file", path);
    fileSize = st.size;
  } catch (e) {
    throw e instanceof RpmError ? e : ioError(path, e);
  }
  const first = new Uint8Array(LEAD_SIZE + INTRO);
  const firstLen = Math.min(first.length, fileSize);
  readExact(fd, first, 0, firstLen, 0, path, "lead");
  const lead = parseLead(first.subarray(0, firstLen), path);
  if (firstLen < first.length) {
    throw new RpmError("truncated", "file ends inside the signature header intro", path, firstLen);
  }
  const sigSize = headerSize(first, LEAD_SIZE, { path });
  const sigPadded = align8(sigSize);
  const headerStart = LEAD_SIZE + sigPadded;
  // Signature header + padding + main header intro, in one read.
  const sigBuf = new Uint8Array(sigPadded + INTRO);
  sigBuf.set(first.subarray(LEAD_SIZE), 0);
  needBytes(fileSize, headerStart + INTRO, path, "signature header");
  readExact(fd, sigBuf, INTRO, sigBuf.length - INTRO, LEAD_SIZE + INTRO, path, "signature header");
  verifyHeaderBlob(sigBuf.subarray(0, sigSize), REGION_SIGNATURES, false, { path, base: LEAD_SIZE, what: "signature header" });
  const signature = new Header(sigBuf, 0, { path, base: LEAD_SIZE });
  const hdrSize = headerSize(sigBuf, sigPadded, { path, base: headerStart });
  const headerEnd = headerStart + hdrSize;
  needBytes(fileSize, headerEnd, path, "main header");
  const hdrBuf = new Uint8Array(hdrSize);
  hdrBuf.set(sigBuf.subarray(sigPadded), 0);
  readExact(fd, hdrBuf, INTRO, hdrSize - INTRO, headerStart + INTRO, path, "main header");
  verifyHeaderBlob(hdrBuf, REGION_IMMUTABLE, true, { path, base: headerStart, what: "main header" });
  verifyDigests(signature.bytes, hdrBuf, path, LEAD_SIZE);
  verifyMergeSigs(signature.bytes, hdrBuf, path, LEAD_SIZE);
  const header = new Header(hdrBuf, 0, { path, base: headerStart });
  return { path, fileSize, lead, signature, header, headerStart, headerEnd };
}

/**
 * Parse lead, signature header and main header from the bytes of a package already in memory
 * (the bytes may end anywhere after the main header). Values are views into `bytes`.
 */
export function parsePackageBytes(bytes: Uint8Array, path = ""): PackageFile {
  const lead = parseLead(bytes, path);
  const sigSize = headerSize(bytes, LEAD_SIZE, { path });
  needBytes(bytes.length, LEAD_SIZE + sigSize, path, "signature header");
  verifyHeaderBlob(bytes.subarray(LEAD_SIZE, LEAD_SIZE + sigSize), REGION_SIGNATURES, false, { path, base: LEAD_SIZE, what: "signature header" });
  const signature = new Header(bytes, LEAD_SIZE, { path });
  const headerStart = LEAD_SIZE + align8(sigSize);
  needBytes(bytes.length, headerStart + INTRO, path, "signature header padding");
  const hdrSize = headerSize(bytes, headerStart, { path });
  needBytes(bytes.length, headerStart + hdrSize, path, "main header");
  const hdrBytes = bytes.subarray(headerStart, headerStart + hdrSize);
  verifyHeaderBlob(hdrBytes, REGION_IMMUTABLE, true, { path, base: headerStart, what: "main header" });
  verifyDigests(signature.bytes, hdrBytes, path, LEAD_SIZE);
  verifyMergeSigs(signature.bytes, hdrBytes, path, LEAD_SIZE);
  const header = new Header(bytes, headerStart, { path });
  const headerEnd = headerStart + header.bytes.length;
  return { path, fileSize: bytes.length, lead, signature, header, headerStart, headerEnd };
}

function needBytes(fileSize: number, end: number, path: string, what: string): void {
  if (fileSize < end) {
    throw new RpmError("truncated", `the ${what} ends at byte ${end} but the file has only ${fileSize} bytes`, path, fileSize);
  }
}

/** Up to `n` bytes of a file at `offset` (fewer at its end), for magic checks. */
export function readHead(path: string, offset = 0, n = 8): Uint8Array {
  const fd = openRegularSync(path);
  try {
    const head = new Uint8Array(n);
    return head.subarray(0, readSync(fd, head, 0, n, offset));
  } finally {
    closeSync(fd);
  }
}
