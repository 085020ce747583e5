/**
 * Payload access for source packages: stream the payload and return the first regular file
 * named `*.spec` or `spec` (reference §1.8). The payload is never held in memory as a whole;
 * decompression stops (and any decompressor child is killed) as soon as the spec is read.
 * A payload without a spec is an RpmError "no-spec" (the reference blocks forever there).
 */
import { type CpioEntry, CpioReader, type StrippedFileInfo } from "./cpio.ts";
import { type Compression, compressionFromTag, detectCompression, openDecompressed } from "./decompress.ts";
import { RpmError } from "./errors.ts";
import { readHead, readPackageFile } from "./file.ts";
import type { RpmPackage } from "./model.ts";
import { buildPackageFromFile } from "./package.ts";
import { ByteReader } from "./reader.ts";
import { ascii, text } from "./text.ts";

export interface SpecFile {
  /** Entry name in the archive as stored (e.g. `foo.spec`). */
  name: string;
  /** Entry mtime, epoch seconds. */
  mtime: number;
  /** Raw spec bytes. */
  bytes: Uint8Array;
}

export interface PayloadOptions {
  /** Kill a decompressor child process that runs longer than this (default 120 s). */
  timeoutMs?: number;
  /** Refuse spec files larger than this (default 64 MiB). */
  maxSpecBytes?: number;
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const RPMFILE_GHOST = 64;

function isSpecName(name: string): boolean {
  return name.endsWith(".spec") || name === "spec";
}

/** Payload compression: by magic first, by the PAYLOADCOMPRESSOR tag second. */
export function payloadCompression(path: string, payloadOffset: number, tag: string): Compression {
  const head = readHead(path, payloadOffset);
  const n = head.length;
  if (n === 0) throw new RpmError("truncated", "the package has no payload", path, payloadOffset);
  const kind = detectCompression(head.subarray(0, n)) ?? compressionFromTag(tag);
  if (!kind) {
    throw new RpmError("compression", `unknown payload compression (magic ${Buffer.from(head.subarray(0, 4)).toString("hex")}, tag "${tag}")`, path, payloadOffset);
  }
  return kind;
}

/**
 * For each hardlink set (regular, non-ghost files sharing device and inode, as librpm builds
 * them) the highest file index: in a stripped archive only that member carries the content.
 */
function lastOfLinkSets(pkg: RpmPackage): Map<string, number> {
  const f = pkg.files;
  const last = new Map<string, number>();
  for (let i = 0; i < f.count; i++) {
    if ((f.modes[i] & S_IFMT) !== S_IFREG || f.flags[i] & RPMFILE_GHOST || f.inodes[i] === 0) continue;
    last.set(`${f.devices[i]}:${f.inodes[i]}`, i);
  }
  return last;
}

/** How stripped (07070X) entries map to the header's file list. */
export function strippedFileInfo(pkg: RpmPackage): StrippedFileInfo {
  const f = pkg.files;
  let last: Map<string, number> | undefined;
  const hasContent = (i: number): boolean => {
    const type = f.modes[i] & S_IFMT;
    if (type === S_IFLNK) return true; // the link target
    if (type !== S_IFREG) return false;
    last ??= lastOfLinkSets(pkg);
    const j = last.get(`${f.devices[i]}:${f.inodes[i]}`);
    return j === undefined || j === i;
  };
  return {
    count: f.count,
    name: (i) => {
      const full = text(f.names.get(i));
      return pkg.isSource ? full.slice(full.lastIndexOf("/") + 1) : `.${full}`;
    },
    mode: (i) => f.modes[i],
    mtime: (i) => f.mtimes[i],
    contentSize: (i) => (hasContent(i) ? f.sizes[i] : 0),
  };
}

/** One archive entry while walking a payload; `read` returns its content (call before the next entry). */
export interface PayloadEntry extends CpioEntry {
  read(limit?: number): Promise<Uint8Array>;
}

const DEFAULT_LIMIT = 64 * 1024 * 1024;

/**
 * Walk the payload archive of a package entry by entry, streaming. Leaving the loop early stops
 * the decompression (and kills a decompressor child).
 */
export async function* payloadEntries(pkg: RpmPackage, opts: PayloadOptions = {}): AsyncGenerator<PayloadEntry> {
  const path = pkg.path;
  const kind = payloadCompression(path, pkg.headerEnd, ascii(pkg.payloadcompressor));
  const stream = openDecompressed(path, pkg.headerEnd, kind, { timeoutMs: opts.timeoutMs });
  const fallback = opts.maxSpecBytes ?? DEFAULT_LIMIT;
  try {
    const cpio = new CpioReader(new ByteReader(stream.chunks, path, "payload archive"), strippedFileInfo(pkg));
    for (let e = await cpio.next(); e !== null; e = await cpio.next()) {
      const entry = e;
      yield { ...entry, read: (limit = fallback) => cpio.readContent(entry, limit) };
    }
  } finally {
    stream.close();
  }
}

/** Extract the spec file of a source package, streaming its payload. */
export async function extractSpec(path: string, opts: PayloadOptions = {}): Promise<SpecFile> {
  return extractSpecFrom(buildPackageFromFile(readPackageFile(path)), opts);
}

/** Same as extractSpec for a package already read with readPackage. */
export async function extractSpecFrom(pkg: RpmPackage, opts: PayloadOptions = {}): Promise<SpecFile> {
  for await (const e of payloadEntries(pkg, opts)) {
    if ((e.mode & S_IFMT) === S_IFREG && isSpecName(e.name)) {
      return { name: e.name, mtime: e.mtime, bytes: await e.read() };
    }
  }
  throw new RpmError("no-spec", "the payload has no spec file (*.spec)", pkg.path);
}
