/**
 * Streaming reader for RPM payload archives: cpio "newc" (070701, also 070702 "crc") and rpm's
 * stripped format (07070X, RPM v6 and large-file packages), whose entries carry only a file
 * index; name, mode, size and mtime then come from the package header.
 */
import { RpmError } from "./errors.ts";
import type { ByteReader } from "./reader.ts";

export interface CpioEntry {
  name: string;
  /** st_mode (type and permission bits). */
  mode: number;
  mtime: number;
  /** Bytes of content that follow this entry in the archive. */
  size: number;
  /** File index into the header's file list (stripped entries only, else -1). */
  fileIndex: number;
}

/** Per-file metadata of the package, needed to interpret stripped entries. */
export interface StrippedFileInfo {
  count: number;
  name(i: number): string;
  mode(i: number): number;
  mtime(i: number): number;
  /** Size of the content stored in the archive for file i (0 for all but one hardlink member). */
  contentSize(i: number): number;
}

const NEWC_SIZE = 110;
const STRIPPED_SIZE = 14;
const TRAILER = "TRAILER!!!";
const MAX_NAME = 64 * 1024;

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function hexField(b: Uint8Array, at: number, r: ByteReader, start: number): number {
  let v = 0;
  for (let i = at; i < at + 8; i++) {
    const c = b[i];
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else throw new RpmError("cpio", "cpio header has a non-hex field", r.path, start + at);
    v = v * 16 + d;
  }
  return v;
}

function magicKind(b: Uint8Array): "newc" | "stripped" | undefined {
  const m = String.fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5]);
  if (m === "070701" || m === "070702") return "newc";
  if (m === "07070X") return "stripped";
  return undefined;
}

/**
 * Entries of the archive, in order, ending before the trailer. After each entry the caller
 * either reads the content with `readContent` or lets the iterator skip it.
 */
export class CpioReader {
  private pendingContent = 0; // content (+ padding) of the current entry not yet consumed

  constructor(
    private readonly r: ByteReader,
    private readonly files?: StrippedFileInfo,
  ) {}

  /** The next entry, or null at the trailer. */
  async next(): Promise<CpioEntry | null> {
    await this.r.skip(this.pendingContent);
    this.pendingContent = 0;
    await this.r.skip(pad4(this.r.pos)); // every header starts 4-aligned in the archive
    const start = this.r.pos;
    const head = await this.r.read(6);
    const kind = magicKind(head);
    if (kind === undefined) throw new RpmError("cpio", "bad cpio magic (expected 070701 or 07070X)", this.r.path, start);
    const e = kind === "newc" ? await this.newc(start) : await this.stripped(start);
    if (e === null) return null;
    this.pendingContent = e.size;
    return e;
  }

  /** Read the content of the entry just returned by next() (at most `limit` bytes, else an error). */
  async readContent(e: CpioEntry, limit: number): Promise<Uint8Array> {
    if (e.size > limit) throw new RpmError("cpio", `${e.name} is ${e.size} bytes, more than the ${limit}-byte limit`, this.r.path, this.r.pos);
    const data = e.size === 0 ? new Uint8Array(0) : (await this.r.read(e.size)).slice();
    this.pendingContent -= e.size;
    return data;
  }

  private async newc(start: number): Promise<CpioEntry | null> {
    const rest = await this.r.read(NEWC_SIZE - 6);
    const f = (k: number) => hexField(rest, k * 8, this.r, start + 6);
    const mode = f(1);
    const mtime = f(5);
    const size = f(6);
    const namesize = f(11);
    if (namesize === 0 || namesize > MAX_NAME) throw new RpmError("cpio", `cpio entry name size ${namesize} is absurd`, this.r.path, start);
    const nameBytes = await this.r.read(namesize);
    await this.r.skip(pad4(this.r.pos));
    const end = nameBytes.indexOf(0);
    const name = new TextDecoder().decode(nameBytes.subarray(0, end < 0 ? nameBytes.length : end));
    if (name === TRAILER) return null;
    return { name, mode, mtime, size, fileIndex: -1 };
  }

  private async stripped(start: number): Promise<CpioEntry> {
    const rest = await this.r.read(STRIPPED_SIZE - 6);
    const fx = hexField(rest, 0, this.r, start + 6);
    await this.r.skip(pad4(this.r.pos)); // content starts 4-aligned
    const files = this.files;
    if (!files || fx >= files.count) {
      throw new RpmError("cpio", `stripped cpio entry refers to file ${fx}, the header lists ${files?.count ?? 0}`, this.r.path, start);
    }
    return { name: files.name(fx), mode: files.mode(fx), mtime: files.mtime(fx), size: files.contentSize(fx), fileIndex: fx };
  }
}
