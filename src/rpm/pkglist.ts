/**
 * apt-rpm header lists (pkglist.* / srclist.*, plain, .xz — possibly several concatenated xz
 * streams —, .bz2, .gz, .zst): a concatenation of header structures with no lead, no signature
 * and no padding. Entries are parsed as they are decompressed; memory is bounded by the largest
 * header. A corrupt entry anywhere is an RpmError with its offset in the decompressed list (the
 * reference silently stopped at the first bad entry).
 */
import { detectCompression, openDecompressed } from "./decompress.ts";
import { readHead } from "./file.ts";
import { RpmError } from "./errors.ts";
import { Header, headerSize } from "./header.ts";
import type { RpmPackage } from "./model.ts";
import { hexToBytes, packageFromHeader } from "./package.ts";
import { ByteReader } from "./reader.ts";
import { TAG } from "./tags.ts";
import { EMPTY } from "./text.ts";

/** The tags genpkglist / gensrclist add to each header. */
export interface AptTags {
  /** CRPMTAG_FILENAME: the package file name. */
  filename: Uint8Array;
  /** CRPMTAG_FILESIZE; null when absent. */
  filesize: number | null;
  /** CRPMTAG_MD5 decoded from hex (16 bytes), empty when absent. */
  md5: Uint8Array;
  /** CRPMTAG_BLAKE2B decoded from hex (64 bytes), empty when absent. */
  blake2b: Uint8Array;
  /** CRPMTAG_DIRECTORY, e.g. `RPMS.classic`. */
  directory: Uint8Array;
  /** CRPMTAG_BINARY (srclist only): binary packages built from this source. */
  binary: Uint8Array[];
}

export interface AptEntry {
  path: string;
  /** Offset of the header in the (decompressed) list. */
  offset: number;
  header: Header;
  package: RpmPackage;
  apt: AptTags;
}

export interface HeaderListOptions {
  /** Kill the decompressor child after this long (default 10 minutes). */
  timeoutMs?: number;
}

const INTRO = 16;

export function aptTags(h: Header): AptTags {
  const md5 = h.str(TAG.APT_MD5);
  const blake2b = h.str(TAG.APT_BLAKE2B);
  return {
    filename: h.str(TAG.APT_FILENAME) ?? EMPTY,
    filesize: h.int(TAG.APT_FILESIZE) ?? null,
    md5: md5 ? hexToBytes(md5, "CRPMTAG_MD5", h) : EMPTY,
    blake2b: blake2b ? hexToBytes(blake2b, "CRPMTAG_BLAKE2B", h) : EMPTY,
    directory: h.str(TAG.APT_DIRECTORY) ?? EMPTY,
    binary: h.strs(TAG.APT_BINARY),
  };
}

function entry(path: string, offset: number, header: Header): AptEntry {
  let pkg: RpmPackage | undefined;
  return {
    path,
    offset,
    header,
    // built on first use: readers that only want the apt tags (the repo loader) skip it
    get package() {
      return (pkg ??= packageFromHeader(header));
    },
    apt: aptTags(header),
  };
}

/** Iterate the headers of an in-memory (decompressed) header list. */
export function* parseHeaderList(bytes: Uint8Array, path = ""): Generator<AptEntry> {
  let off = 0;
  while (off < bytes.length) {
    const header = new Header(bytes, off, { path });
    yield entry(path, off, header);
    off += header.bytes.length;
  }
}


/** Stream the headers of a pkglist / srclist file, compressed or not (detected by magic). */
export async function* readHeaderList(path: string, opts: HeaderListOptions = {}): AsyncGenerator<AptEntry> {
  const head = readHead(path);
  if (head.length === 0) return;
  const kind = detectCompression(head);
  if (!kind) throw new RpmError("magic", "not a header list (unknown magic)", path, 0);
  const stream = openDecompressed(path, 0, kind, { timeoutMs: opts.timeoutMs ?? 600_000 });
  try {
    const r = new ByteReader(stream.chunks, path, "header list");
    while (!(await r.atEnd())) {
      const offset = r.pos;
      if (!(await r.ensure(INTRO))) {
        throw new RpmError("truncated", `header list ends inside a header intro (${r.available} bytes left)`, path, offset);
      }
      const size = headerSize(r.peek(INTRO), 0, { path, base: offset });
      const bytes = await r.read(size);
      yield entry(path, offset, new Header(bytes, 0, { path, base: offset }));
    }
  } finally {
    stream.close();
  }
}
