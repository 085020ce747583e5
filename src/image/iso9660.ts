/**
 * ISO9660 reader over a ByteSource (no mount, no tool): volume descriptors, the primary and the
 * Joliet (UCS-2 names) directory trees, Rock Ridge (SUSP SP/CE/ST; RRIP NM names, PX modes, SL
 * symlinks, TF times, CL/RE directory relocation of deep trees) and multi-extent files (files
 * over 4 GiB, or split by xorriso's -file_size_limit).
 *
 * Names: Rock Ridge when the primary tree has it, else Joliet, else plain ISO9660 names with the
 * ";1" version and a trailing "." stripped (case kept as stored). `opts.names` forces a choice.
 *
 * Refused (ImageError): no primary volume descriptor ("format"); a logical block size other than
 * 2048 ("unsupported"); interleaved files (file unit size ≠ 0, "unsupported"); a directory extent
 * outside the image or above 16 MiB; records crossing their directory's end; a directory loop;
 * more than 64 CE continuation areas for one record ("corrupt"). Directories parsed are kept in a
 * cache bounded by count (4096) and size (≈ 64 MiB); file data is never buffered (reads go straight
 * to the source).
 */
import type { ByteSource } from "../rpmdb/source.ts";
import { ImageError } from "./errors.ts";
import { latin, readExact, recordTime, longTime, rockRidge, SECTOR, u32, ucs2 } from "./iso9660-fields.ts";
import { BoundedCache, nodeEntry, normalizePath, resolvePath, type PathOps } from "./tree-paths.ts";
import type { EntryType, FileTree, TreeEntry, TreeFile } from "./tree.ts";

const MAX_DIR_BYTES = 16 * 1024 * 1024;

export interface Iso9660Options {
  /** Which names to use (default "auto": Rock Ridge, then Joliet, then plain). */
  names?: "auto" | "rockridge" | "joliet" | "plain";
  /** How many parsed directories to keep (default 4096). */
  dirCache?: number;
}

export interface IsoVolumeInfo {
  systemId: string;
  volumeId: string;
  volumeSetId: string;
  publisherId: string;
  preparerId: string;
  applicationId: string;
  /** Volume creation / modification dates, null when unset (all zeros). */
  created: Date | null;
  modified: Date | null;
  /** Logical blocks of the volume (× 2048 bytes). */
  volumeBlocks: number;
  /** The Joliet volume id when there is a Joliet descriptor (names in UCS-2). */
  jolietVolumeId?: string;
  rockRidge: boolean;
}

interface Node {
  name: string;
  kind: EntryType;
  /** Extents of the data, [block, bytes]. A directory has exactly one. */
  extents: [number, number][];
  size: number;
  mode: number;
  mtime: number;
  target?: string;
  uid?: number;
  gid?: number;
  rdev?: number;
}

interface Descriptors {
  pvd: Uint8Array;
  joliet?: Uint8Array;
}

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function readDescriptors(src: ByteSource): Descriptors {
  if (src.size < 17 * SECTOR) throw new ImageError("format", `not an ISO9660 image: ${src.size} bytes, too small for a volume descriptor`, src.path);
  let pvd: Uint8Array | undefined;
  let joliet: Uint8Array | undefined;
  for (let i = 16; i < 16 + 64; i++) {
    if ((i + 1) * SECTOR > src.size) break;
    const d = readExact(src, i * SECTOR, SECTOR, "volume descriptor");
    if (latin(d, 1, 6) !== "CD001") {
      if (i === 16) throw new ImageError("format", "not an ISO9660 image: no CD001 volume descriptor at byte 32768", src.path);
      break;
    }
    if (d[0] === 255) break;
    if (d[0] === 1 && !pvd) pvd = d;
    if (d[0] === 2 && !joliet && d[88] === 0x25 && d[89] === 0x2f && [0x40, 0x43, 0x45].includes(d[90])) joliet = d;
  }
  if (!pvd) throw new ImageError("format", "not an ISO9660 image: no primary volume descriptor", src.path);
  const bs = pvd[128] | (pvd[129] << 8);
  if (bs !== SECTOR) throw new ImageError("unsupported", `logical block size ${bs}, only 2048 is read`, src.path);
  return { pvd, joliet };
}

/** The volume descriptor fields the image loader records. */
export function isoVolumeInfo(src: ByteSource): IsoVolumeInfo {
  const { pvd, joliet } = readDescriptors(src);
  const t = (a: number, b: number) => latin(pvd, a, b).trim();
  const tree = new Iso9660Tree(src, { names: "plain" });
  return {
    systemId: t(8, 40),
    volumeId: t(40, 72),
    volumeSetId: t(190, 318),
    publisherId: t(318, 446),
    preparerId: t(446, 574),
    applicationId: t(574, 702),
    created: longTime(pvd, 813),
    modified: longTime(pvd, 830),
    volumeBlocks: u32(pvd, 80),
    jolietVolumeId: joliet ? ucs2(joliet, 40, 72).trim() : undefined,
    rockRidge: tree.hasRockRidge,
  };
}

export function openIso9660(src: ByteSource, opts: Iso9660Options = {}): FileTree {
  return new Iso9660Tree(src, opts);
}

export class Iso9660Tree implements FileTree {
  readonly name: string;
  readonly hasRockRidge: boolean;
  private readonly useRR: boolean;
  private readonly joliet: boolean;
  private readonly root: Node;
  private readonly dirs: BoundedCache<number, { list: Node[]; byName: Map<string, Node>; bytes: number }>;
  private readonly ops: PathOps<Node>;
  /** Bytes to skip at the start of each system use area (SP's LEN_SKP). */
  private skip = 0;

  constructor(
    private readonly src: ByteSource,
    opts: Iso9660Options = {},
  ) {
    this.name = `iso9660 ${src.path}`;
    const { pvd, joliet } = readDescriptors(src);
    this.dirs = new BoundedCache(opts.dirCache ?? 4096, 64 * 1024 * 1024, (d) => d.bytes);
    const primaryRoot = this.rootOf(pvd, false);
    this.hasRockRidge = this.detectRockRidge(primaryRoot);
    const names = opts.names ?? "auto";
    if (names === "rockridge" && !this.hasRockRidge) throw new ImageError("format", "no Rock Ridge extensions on this image", src.path);
    if (names === "joliet" && !joliet) throw new ImageError("format", "no Joliet volume descriptor on this image", src.path);
    this.useRR = this.hasRockRidge && (names === "auto" || names === "rockridge");
    this.joliet = !!joliet && (names === "joliet" || (names === "auto" && !this.useRR));
    this.root = this.joliet ? this.rootOf(joliet!, true) : primaryRoot;
    this.ops = {
      root: this.root,
      kind: (n) => n.kind,
      child: (dir, name) => this.dir(dir).byName.get(name) ?? null,
      target: (n) => n.target ?? "",
      key: (n) => n.extents[0]?.[0] ?? -1,
    };
  }

  private rootOf(vd: Uint8Array, joliet: boolean): Node {
    const n = this.parseRecord(vd, 156, joliet, false);
    if (!n || n.kind !== "dir") throw new ImageError("corrupt", "root directory record is not a directory", this.src.path);
    return n;
  }

  private detectRockRidge(root: Node): boolean {
    const [block, len] = root.extents[0];
    const data = this.readDirExtent(block, len, "/");
    // SP at the start of the system use area of the root's "." record.
    const rl = data[0];
    const nl = data[32];
    const o = 33 + nl + (nl % 2 === 0 ? 1 : 0);
    if (o + 7 > rl) return false;
    if (data[o] === 0x53 && data[o + 1] === 0x50 && data[o + 4] === 0xbe && data[o + 5] === 0xef) {
      this.skip = data[o + 6];
      return true;
    }
    return false;
  }

  private readDirExtent(block: number, len: number, where: string): Uint8Array {
    if (len > MAX_DIR_BYTES) throw new ImageError("limit", `directory ${where}: ${len} bytes, more than ${MAX_DIR_BYTES}`, this.src.path);
    if (block * SECTOR + len > this.src.size)
      throw new ImageError("corrupt", `directory ${where}: extent at block ${block} (${len} bytes) lies outside the image (${this.src.size} bytes)`, this.src.path);
    return readExact(this.src, block * SECTOR, len, `directory ${where}`);
  }

  /** One directory record at `o` of `b` as a node; null for "." and ".." and relocated entries. */
  private parseRecord(b: Uint8Array, o: number, joliet: boolean, rr: boolean): Node | null {
    const len = b[o];
    const nl = b[o + 32];
    if (len < 34 || 33 + nl > len || o + len > b.length) throw new ImageError("corrupt", `directory record at offset ${o} is malformed`, this.src.path);
    const flags = b[o + 25];
    if (b[o + 26] !== 0 || b[o + 27] !== 0) throw new ImageError("unsupported", "interleaved files are not read", this.src.path);
    const isDir = (flags & 2) !== 0;
    let name: string;
    if (nl === 1 && (b[o + 33] === 0 || b[o + 33] === 1)) name = b[o + 33] === 0 ? "." : "..";
    else if (joliet) name = ucs2(b, o + 33, o + 33 + nl).replace(/;\d+$/, "");
    else name = latin(b, o + 33, o + 33 + nl).replace(/;\d+$/, "").replace(/\.$/, "");
    const size = u32(b, o + 10);
    const node: Node = {
      name,
      kind: isDir ? "dir" : "file",
      extents: [[u32(b, o + 2) + b[o + 1], size]],
      size: isDir ? 0 : size,
      mode: isDir ? S_IFDIR | 0o555 : S_IFREG | 0o444,
      mtime: recordTime(b, o + 18),
    };
    if (rr) {
      const su = o + 33 + nl + (nl % 2 === 0 ? 1 : 0) + this.skip;
      const info = rockRidge(this.src, b, su, o + len, name);
      if (info.relocated) return null;
      if (info.name !== undefined && name !== "." && name !== "..") node.name = info.name;
      if (info.mode !== undefined) {
        node.mode = info.mode;
        const t = info.mode & 0o170000;
        node.kind = t === S_IFDIR ? "dir" : t === S_IFREG ? "file" : t === S_IFLNK ? "symlink" : "other";
        if (node.kind !== "file") node.size = 0;
      }
      if (info.target !== undefined) node.target = info.target;
      if (info.uid !== undefined) node.uid = info.uid;
      if (info.gid !== undefined) node.gid = info.gid;
      if (info.rdev !== undefined && node.kind === "other") node.rdev = info.rdev;
      if (info.mtime !== undefined) node.mtime = info.mtime;
      if (info.childLink !== undefined) {
        const block = info.childLink;
        const head = this.readDirExtent(block, SECTOR, node.name);
        node.kind = "dir";
        node.size = 0;
        node.extents = [[block, u32(head, 10)]];
      }
    }
    if (node.kind === "symlink" && node.target === undefined) node.target = "";
    return node;
  }

  private children(dir: Node): Node[] {
    return this.dir(dir).list;
  }

  /** The entries of a directory node, multi-extent files joined, "." and ".." left out. */
  private dir(dir: Node): { list: Node[]; byName: Map<string, Node>; bytes: number } {
    const [block, len] = dir.extents[0];
    const cached = this.dirs.get(block);
    if (cached) return cached;
    const data = this.readDirExtent(block, len, dir.name);
    const out: Node[] = [];
    let pending: Node | null = null;
    for (let o = 0; o < data.length; ) {
      const rl = data[o];
      if (rl === 0) {
        o = (Math.floor(o / SECTOR) + 1) * SECTOR;
        continue;
      }
      if (o + rl > data.length) throw new ImageError("corrupt", `directory ${dir.name}: record at offset ${o} crosses the directory's end`, this.src.path);
      const multi = (data[o + 25] & 0x80) !== 0;
      const n = this.parseRecord(data, o, this.joliet, this.useRR);
      o += rl;
      if (!n) continue;
      if (pending) {
        pending.extents.push(n.extents[0]);
        pending.size += n.extents[0][1];
        if (!multi) {
          out.push(pending);
          pending = null;
        }
        continue;
      }
      if (n.name === "." || n.name === "..") continue;
      if (multi && n.kind === "file") pending = n;
      else out.push(n);
    }
    if (pending) out.push(pending);
    const byName = new Map<string, Node>();
    for (const n of out) if (!byName.has(n.name)) byName.set(n.name, n);
    const entry = { list: out, byName, bytes: data.length + 200 * out.length };
    this.dirs.set(block, entry);
    return entry;
  }

  private entry(path: string, n: Node): TreeEntry {
    return nodeEntry(path, n, n.uid, n.gid);
  }

  stat(path: string): TreeEntry | null {
    const p = normalizePath(path);
    const n = resolvePath(this.ops, p, false, this.src.path);
    return n ? this.entry(p, n) : null;
  }

  list(dir: string): TreeEntry[] {
    const p = normalizePath(dir);
    const n = resolvePath(this.ops, p, true, this.src.path);
    if (!n) throw new ImageError("not-found", `no such directory: ${p}`, this.src.path);
    if (n.kind !== "dir") throw new ImageError("not-found", `not a directory: ${p}`, this.src.path);
    const base = p === "/" ? "" : p;
    return this.children(n).map((c) => this.entry(`${base}/${c.name}`, c));
  }

  open(path: string): TreeFile {
    const p = normalizePath(path);
    const n = resolvePath(this.ops, p, true, this.src.path);
    if (!n) throw new ImageError("not-found", `no such file: ${p}`, this.src.path);
    if (n.kind !== "file") throw new ImageError("not-found", `not a regular file: ${p}`, this.src.path);
    for (const [b, l] of n.extents)
      if (b * SECTOR + l > this.src.size) throw new ImageError("truncated", `${p}: data at block ${b} (${l} bytes) lies past the end of the image`, this.src.path);
    return new ExtentFile(this.src, n.extents, `${this.src.path}:${p}`);
  }

  async close(): Promise<void> {
    this.dirs.clear();
  }
}

/** A file made of one or more extents of the image. */
class ExtentFile implements TreeFile {
  readonly size: number;
  private readonly starts: number[] = [];

  constructor(
    private readonly src: ByteSource,
    private readonly extents: [number, number][],
    readonly path: string,
  ) {
    let s = 0;
    for (const [, l] of extents) {
      this.starts.push(s);
      s += l;
    }
    this.size = s;
  }

  readAt(dst: Uint8Array, pos: number): number {
    let done = 0;
    for (let i = 0; i < this.extents.length && done < dst.length; i++) {
      const [block, len] = this.extents[i];
      const s = this.starts[i];
      const p = pos + done;
      if (p >= s + len || p < s) continue;
      const want = Math.min(dst.length - done, s + len - p);
      const n = this.src.readAt(dst.subarray(done, done + want), block * SECTOR + (p - s));
      done += n;
      if (n < want) break;
    }
    return done;
  }

  close(): void {}
}
