/**
 * tar archives (plain, .gz, .xz, .zst, .bz2) read in one streamed pass: ustar and GNU headers,
 * GNU long names and link names (L/K), pax extended headers (path, linkpath, size), base-256
 * sizes. Only the files the image loader needs are kept (`want`: the rpm database and os-release
 * by default); directories, symlinks and hard links are kept as metadata so paths resolve inside
 * the tree. An entry whose name leads outside the archive's root, and a kept entry larger than
 * the cap, are ImageErrors naming the entry.
 */
import { dirname } from "node:path";
import { ImageError } from "./errors.ts";
import { MemTree } from "./memtree.ts";
import { compressionOf, decompress, sourceChunks } from "./stream.ts";
import type { ByteSource, EntryType, TreeEntry } from "./tree.ts";

/** Directories where rpm keeps its database, newest location last. */
export const RPMDB_DIRS = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"] as const;
export const OS_RELEASE = ["/etc/os-release", "/usr/lib/os-release"] as const;

/**
 * The files of a root file system the loader reads: the rpm database directory and os-release
 * (any file named so: etc/os-release may be a symlink to one elsewhere, and a single pass cannot
 * know the target before it has passed).
 */
export function wantedFile(path: string): boolean {
  return (RPMDB_DIRS as readonly string[]).includes(dirname(path)) || (OS_RELEASE as readonly string[]).includes(path) || path.endsWith("/os-release");
}

export interface TarLimits {
  /** Largest kept entry (default 1 GiB: an rpm database of a whole repository is a few hundred MB). */
  maxEntryBytes?: number;
  /** All kept entries together (default 4 GiB). */
  maxTotalBytes?: number;
}

export interface TarOptions extends TarLimits {
  want?: (path: string) => boolean;
}

export interface TarItem {
  /** Normalised absolute path inside the archive ("/etc/os-release"). */
  path: string;
  raw: string;
  type: EntryType | "hardlink";
  size: number;
  mode: number;
  mtime: number;
  /** Symlink target as stored, or the normalised path a hard link names. */
  linkname: string;
  /** The entry's data, in order (call at most once; skipped when not called). */
  data(): AsyncGenerator<Uint8Array>;
}

/** Pull-based reader over a chunk stream. */
class Bytes {
  private bufs: Uint8Array[] = [];
  private have = 0;
  offset = 0;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  async close(): Promise<void> {
    await this.it.return?.(undefined);
  }

  private async fill(n: number): Promise<boolean> {
    while (this.have < n) {
      const r = await this.it.next();
      if (r.done) return false;
      if (r.value.length) {
        this.bufs.push(r.value);
        this.have += r.value.length;
      }
    }
    return true;
  }

  /** Exactly n bytes, or null at the end of the data (fewer left). */
  async take(n: number): Promise<Uint8Array | null> {
    if (!(await this.fill(n))) return null;
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const b = this.bufs[0];
      const m = Math.min(b.length, n - at);
      out.set(b.subarray(0, m), at);
      at += m;
      if (m === b.length) this.bufs.shift();
      else this.bufs[0] = b.subarray(m);
    }
    this.have -= n;
    this.offset += n;
    return out;
  }

  /** Up to n bytes as chunks (false at a premature end). */
  async *chunks(n: number): AsyncGenerator<Uint8Array, boolean> {
    let left = n;
    while (left > 0) {
      if (this.have === 0 && !(await this.fill(1))) return false;
      const b = this.bufs[0];
      const m = Math.min(b.length, left);
      yield b.subarray(0, m);
      if (m === b.length) this.bufs.shift();
      else this.bufs[0] = b.subarray(m);
      this.have -= m;
      this.offset += m;
      left -= m;
    }
    return true;
  }
}

const td = new TextDecoder("utf-8");

function cstr(b: Uint8Array, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const z = s.indexOf(0);
  return td.decode(z >= 0 ? s.subarray(0, z) : s);
}

function octal(b: Uint8Array, start: number, len: number): number {
  if (b[start] & 0x80) {
    // base-256 (GNU): big-endian two's complement, first byte's top bit is the marker
    let v = b[start] & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + b[start + i];
    return v;
  }
  const s = cstr(b, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

export interface TarHeader {
  name: string;
  typeflag: string;
  size: number;
  mode: number;
  mtime: number;
  linkname: string;
}

/** One 512-byte header; null for an all-zero block (end of archive). */
export function parseTarHeader(b: Uint8Array, where: string): TarHeader | null {
  if (b.every((x) => x === 0)) return null;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i];
  const stored = octal(b, 148, 8);
  if (stored !== sum) throw new ImageError("format", "not a tar header (bad checksum)", where);
  const magic = cstr(b, 257, 6);
  let name = cstr(b, 0, 100);
  if (magic === "ustar") {
    const prefix = cstr(b, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return { name, typeflag: String.fromCharCode(b[156] || 0x30), size: octal(b, 124, 12), mode: octal(b, 100, 8), mtime: octal(b, 136, 12), linkname: cstr(b, 157, 100) };
}

function paxRecords(data: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(td.decode(data.subarray(i, sp)), 10);
    if (!(len > 0)) break;
    const rec = td.decode(data.subarray(sp + 1, i + len - 1));
    const eq = rec.indexOf("=");
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return out;
}

/** "./a/../b/" → "/b"; a name leading above the root is an ImageError. */
export function normalizeEntry(raw: string, archive: string): string {
  const out: string[] = [];
  for (const p of raw.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") {
      if (!out.length) throw new ImageError("escape", `entry ${JSON.stringify(raw)} leads outside the archive's root`, archive);
      out.pop();
    } else out.push(p);
  }
  return `/${out.join("/")}`;
}

const TYPES: Record<string, EntryType | "hardlink"> = { "0": "file", "\0": "file", "7": "file", "1": "hardlink", "2": "symlink", "5": "dir" };

/** The entries of a tar stream, in order. */
export async function* tarEntries(chunks: AsyncIterable<Uint8Array>, archive: string): AsyncGenerator<TarItem> {
  const r = new Bytes(chunks[Symbol.asyncIterator]());
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  try {
    yield* items();
  } finally {
    await r.close();
  }
  async function* items(): AsyncGenerator<TarItem> {
    for (;;) {
      const at = r.offset;
      const block = await r.take(512);
      if (!block) return; // end of data without the zero blocks: what was read stands
      const h = parseTarHeader(block, `${archive}: byte ${at}`);
      if (!h) return;
      const size = pax.has("size") ? Number(pax.get("size")) : h.size;
      const padded = Math.ceil(size / 512) * 512;
      const where = `${archive}: ${JSON.stringify(h.name)}`;
      const readAll = async (limit: number): Promise<Uint8Array> => {
        if (size > limit) throw new ImageError("limit", `a ${h.typeflag} header of ${size} bytes (more than ${limit})`, where);
        const d = await r.take(padded);
        if (!d) throw new ImageError("truncated", "the archive ends inside this entry", where);
        return d.subarray(0, size);
      };
      if (h.typeflag === "L" || h.typeflag === "K") {
        const v = cstr(await readAll(1 << 20), 0, size);
        if (h.typeflag === "L") longName = v;
        else longLink = v;
        continue;
      }
      if (h.typeflag === "x") {
        pax = paxRecords(await readAll(1 << 20));
        continue;
      }
      if (h.typeflag === "g") {
        await readAll(1 << 20);
        continue;
      }
      const rawName = pax.get("path") ?? longName ?? h.name;
      const rawLink = pax.get("linkpath") ?? longLink ?? h.linkname;
      longName = longLink = undefined;
      pax = new Map();
      const type = TYPES[h.typeflag] ?? "other";
      const path = normalizeEntry(rawName, archive);
      const linkname = type === "hardlink" ? normalizeEntry(rawLink, archive) : rawLink;
      const bodySize = type === "file" ? size : type === "other" && size > 0 && h.typeflag !== "3" && h.typeflag !== "4" && h.typeflag !== "6" ? size : 0;
      let used = false;
      const item: TarItem = {
        path,
        raw: rawName,
        type,
        size: type === "file" ? size : 0,
        mode: h.mode,
        mtime: h.mtime,
        linkname,
        async *data() {
          used = true;
          const ok = yield* r.chunks(bodySize);
          if (!ok) throw new ImageError("truncated", "the archive ends inside this entry", `${archive}: ${rawName}`);
        },
      };
      yield item;
      if (!used) {
        const ok = yield* drain(r, bodySize);
        if (!ok) throw new ImageError("truncated", "the archive ends inside this entry", `${archive}: ${rawName}`);
      }
      const pad = Math.ceil(bodySize / 512) * 512 - bodySize;
      if (pad && !(await r.take(pad))) return;
    }
  }
}

async function* drain(r: Bytes, n: number): AsyncGenerator<never, boolean> {
  const it = r.chunks(n);
  for (;;) {
    const x = await it.next();
    if (x.done) return x.value;
  }
}

export function treeEntry(t: TarItem): TreeEntry {
  const type: EntryType = t.type === "hardlink" ? "file" : t.type;
  const e: TreeEntry = { path: t.path, type, size: t.size, mode: t.mode, mtime: t.mtime };
  if (t.type === "symlink") e.target = t.linkname;
  return e;
}

/** Keeps one entry in the tree as the options say (kept file, metadata or nothing). */
export async function keepEntry(tree: MemTree, t: TarItem, want: (p: string) => boolean, limits: Required<TarLimits>, total: { bytes: number }, archive: string, layer?: number): Promise<void> {
  if (t.type === "dir" || t.type === "symlink") tree.put(treeEntry(t), { layer });
  else if (t.type === "hardlink") {
    if (want(t.path)) tree.put(treeEntry(t), { hardlink: t.linkname, layer });
  } else if (t.type === "file" && want(t.path)) {
    if (t.size > limits.maxEntryBytes) throw new ImageError("limit", `entry ${t.path} has ${t.size} bytes, more than the ${limits.maxEntryBytes} allowed for one kept file`, archive);
    total.bytes += t.size;
    if (total.bytes > limits.maxTotalBytes) throw new ImageError("limit", `the kept files pass ${limits.maxTotalBytes} bytes at entry ${t.path}`, archive);
    await tree.putFile(treeEntry(t), t.data(), layer);
  }
}

export function limitsOf(o: TarLimits): Required<TarLimits> {
  return { maxEntryBytes: o.maxEntryBytes ?? 1024 ** 3, maxTotalBytes: o.maxTotalBytes ?? 4 * 1024 ** 3 };
}

/** Reads a (compressed) tar archive once and returns the tree of what was kept. */
export async function openTar(src: ByteSource, opts: TarOptions = {}): Promise<MemTree> {
  const head = new Uint8Array(Math.min(512, src.size));
  src.readAt(head, 0);
  const kind = compressionOf(head);
  const want = opts.want ?? wantedFile;
  const limits = limitsOf(opts);
  const tree = new MemTree(`tar ${src.path}`);
  const total = { bytes: 0 };
  try {
    for await (const t of tarEntries(decompress(sourceChunks(src), kind, src.path), src.path)) await keepEntry(tree, t, want, limits, total, src.path);
  } catch (e) {
    await tree.close();
    throw e;
  }
  return tree;
}
