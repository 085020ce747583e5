/**
 * ext2/ext3/ext4, read-only, without mounting: a FileTree over a ByteSource (a partition of a raw
 * disk or of a QCOW2 guest disk).
 *
 * Supported: the superblock (revisions 0 and 1, block sizes 1 KiB–64 KiB), group descriptors of
 * 32 and 64 bytes (64bit), meta_bg descriptor placement, flex_bg (nothing to do: inode tables are
 * found through the descriptors), inodes of 128 bytes and more, extent trees of any depth up to 5,
 * legacy block maps (direct, indirect, double and triple indirect blocks), holes and uninitialised
 * extents read as zeros, linear directories (htree directories are read linearly: their index
 * blocks look like empty entries), inline data (files and directories, with the `system.data`
 * extended attribute in the inode), fast and slow symlinks, 64-bit file sizes. A journal needing
 * recovery is read as it is on disk (not replayed); metadata_csum checksums are tolerated, not
 * verified.
 *
 * Refused with an ImageError naming the image and the inner path: unknown incompatible features,
 * compression, a journal device, encrypted files, an extent tree deeper than 5 or whose levels do
 * not descend, block numbers beyond the filesystem, inode numbers 0 or beyond the inode count,
 * directory entries whose lengths run outside their block, symlink loops.
 */
import { ImageError, type ImageErrorCode } from "./errors.ts";
import type { ByteSource, EntryType, FileTree, TreeEntry, TreeFile } from "./tree.ts";
import { readExtentRuns, readMapRuns, type Run } from "./ext4-blocks.ts";

const INCOMPAT_COMPRESSION = 0x1;
const INCOMPAT_FILETYPE = 0x2;
const INCOMPAT_RECOVER = 0x4;
const INCOMPAT_JOURNAL_DEV = 0x8;
const INCOMPAT_META_BG = 0x10;
const INCOMPAT_EXTENTS = 0x40;
const INCOMPAT_64BIT = 0x80;
const INCOMPAT_MMP = 0x100;
const INCOMPAT_FLEX_BG = 0x200;
const INCOMPAT_EA_INODE = 0x400;
const INCOMPAT_CSUM_SEED = 0x2000;
const INCOMPAT_LARGEDIR = 0x4000;
const INCOMPAT_INLINE_DATA = 0x8000;
const INCOMPAT_ENCRYPT = 0x10000;
const INCOMPAT_CASEFOLD = 0x20000;
const KNOWN_INCOMPAT =
  INCOMPAT_FILETYPE |
  INCOMPAT_RECOVER |
  INCOMPAT_META_BG |
  INCOMPAT_EXTENTS |
  INCOMPAT_64BIT |
  INCOMPAT_MMP |
  INCOMPAT_FLEX_BG |
  INCOMPAT_EA_INODE |
  INCOMPAT_CSUM_SEED |
  INCOMPAT_LARGEDIR |
  INCOMPAT_INLINE_DATA |
  INCOMPAT_ENCRYPT |
  INCOMPAT_CASEFOLD;

const FL_ENCRYPT = 0x800;
const FL_EXTENTS = 0x80000;
const FL_INLINE_DATA = 0x10000000;
const ROOT_INO = 2;
const MAX_SYMLINKS = 40;
const S_IFMT = 0o170000;
const UTF8 = new TextDecoder();

export interface Super {
  blockSize: number;
  blocksCount: number;
  inodesCount: number;
  inodesPerGroup: number;
  blocksPerGroup: number;
  firstDataBlock: number;
  inodeSize: number;
  descSize: number;
  groups: number;
  incompat: number;
  firstMetaBg: number;
}

export interface Inode {
  ino: number;
  mode: number;
  size: number;
  mtime: number;
  flags: number;
  /** i_block: 60 bytes (extent root, block map, fast symlink target or inline data). */
  block: Uint8Array;
  /** Blocks counted in 512-byte units, minus the extended-attribute block. */
  dataBlocks512: number;
  /** The value of the in-inode `system.data` attribute (inline data beyond the first 60 bytes). */
  inlineMore?: Uint8Array;
}

interface DirEnt {
  name: string;
  ino: number;
}

function typeOf(mode: number): EntryType {
  switch (mode & S_IFMT) {
    case 0o100000:
      return "file";
    case 0o040000:
      return "dir";
    case 0o120000:
      return "symlink";
    default:
      return "other";
  }
}

/** Open the ext2/3/4 filesystem of `src`; `name` defaults to "ext4 <src.path>". */
export function openExt4(src: ByteSource, name?: string): FileTree {
  return new Ext4Tree(src, name ?? `ext4 ${src.path}`);
}

class Ext4Tree implements FileTree {
  readonly sb: Super;
  private readonly inodeTables: number[] = [];
  private readonly dirCache = new Map<number, DirEnt[]>();
  private cachedEntries = 0;
  private closed = false;

  constructor(
    readonly src: ByteSource,
    readonly name: string,
  ) {
    this.sb = this.readSuper();
    this.readDescriptors();
  }

  fail(code: ImageErrorCode, msg: string, inner = ""): never {
    throw new ImageError(code, msg, inner ? `${this.src.path}: ${inner}` : this.src.path);
  }

  /** Exactly n bytes at pos of the device. */
  dev(pos: number, n: number, what: string, inner = ""): Uint8Array {
    const b = new Uint8Array(new ArrayBuffer(n)); // with its ArrayBuffer: DataViews over it cost nothing more
    const got = this.src.readAt(b, pos);
    if (got !== n) this.fail("truncated", `the filesystem ends inside ${what} (byte ${pos}, ${n} bytes wanted, ${got} there)`, inner);
    return b;
  }

  private readSuper(): Super {
    if (this.src.size < 2048) this.fail("format", `${this.src.size} bytes: too small for an ext2/3/4 filesystem`);
    const b = this.dev(1024, 1024, "the superblock");
    const dv = new DataView(b.buffer);
    if (dv.getUint16(0x38, true) !== 0xef53) this.fail("format", "no ext2/3/4 superblock magic at byte 1024");
    const logBs = dv.getUint32(0x18, true);
    if (logBs > 6) this.fail("corrupt", `block size 2^${10 + logBs} is not valid`);
    const blockSize = 1024 << logBs;
    const rev = dv.getUint32(0x4c, true);
    const incompat = rev >= 1 ? dv.getUint32(0x60, true) : 0;
    const unknown = incompat & ~KNOWN_INCOMPAT;
    if (incompat & INCOMPAT_COMPRESSION) this.fail("unsupported", "ext2 compression is not supported");
    if (incompat & INCOMPAT_JOURNAL_DEV) this.fail("unsupported", "an external journal device holds no files");
    if (unknown) this.fail("unsupported", `unknown incompatible features 0x${unknown.toString(16)}`);
    const is64 = (incompat & INCOMPAT_64BIT) !== 0;
    const blocksCount = dv.getUint32(0x4, true) + (is64 ? dv.getUint32(0x150, true) * 0x1_0000_0000 : 0);
    const inodeSize = rev >= 1 ? dv.getUint16(0x58, true) : 128;
    const descSize = is64 ? dv.getUint16(0xfe, true) : 32;
    const sb: Super = {
      blockSize,
      blocksCount,
      inodesCount: dv.getUint32(0x0, true),
      blocksPerGroup: dv.getUint32(0x20, true),
      inodesPerGroup: dv.getUint32(0x28, true),
      firstDataBlock: dv.getUint32(0x14, true),
      inodeSize,
      descSize,
      groups: 0,
      incompat,
      firstMetaBg: dv.getUint32(0x104, true),
    };
    if (inodeSize < 128 || inodeSize > blockSize || (inodeSize & (inodeSize - 1)) !== 0) this.fail("corrupt", `inode size ${inodeSize} is not valid`);
    if (descSize < 32 || descSize > 1024 || (is64 && descSize < 64)) this.fail("corrupt", `group descriptor size ${descSize} is not valid`);
    if (sb.blocksPerGroup === 0 || sb.inodesPerGroup === 0) this.fail("corrupt", "zero blocks or inodes per group");
    if (sb.blocksCount * blockSize > this.src.size)
      this.fail("truncated", `the filesystem has ${sb.blocksCount} blocks of ${blockSize} bytes but the device holds only ${this.src.size} bytes`);
    sb.groups = Math.ceil((sb.blocksCount - sb.firstDataBlock) / sb.blocksPerGroup);
    if (sb.groups * sb.inodesPerGroup < sb.inodesCount) this.fail("corrupt", `${sb.inodesCount} inodes do not fit in ${sb.groups} groups`);
    return sb;
  }

  private groupHasSuper(g: number): boolean {
    if (g <= 1) return true;
    for (const p of [3, 5, 7]) {
      let x = p;
      while (x < g) x *= p;
      if (x === g) return true;
    }
    return false; // sparse_super is assumed: every ext2/3/4 made since 1998 has it
  }

  private readDescriptors(): void {
    const { blockSize, descSize, groups, firstDataBlock } = this.sb;
    const perBlock = blockSize / descSize;
    const blocks = Math.ceil(groups / perBlock);
    const metaBg = (this.sb.incompat & INCOMPAT_META_BG) !== 0;
    for (let i = 0; i < blocks; i++) {
      let blk = firstDataBlock + 1 + i;
      if (metaBg && i >= this.sb.firstMetaBg) {
        const g = i * perBlock;
        blk = firstDataBlock + g * this.sb.blocksPerGroup + (this.groupHasSuper(g) ? 1 : 0);
      }
      const b = this.dev(blk * blockSize, blockSize, `group descriptor block ${i}`);
      const dv = new DataView(b.buffer);
      for (let j = 0; j < perBlock && i * perBlock + j < groups; j++) {
        const o = j * descSize;
        const t = dv.getUint32(o + 8, true) + (descSize >= 64 ? dv.getUint32(o + 0x28, true) * 0x1_0000_0000 : 0);
        if (t === 0 || t >= this.sb.blocksCount) this.fail("corrupt", `group ${i * perBlock + j}: inode table at block ${t}, outside the filesystem`);
        this.inodeTables.push(t);
      }
    }
  }

  inode(ino: number, inner: string): Inode {
    if (ino < 1 || ino > this.sb.inodesCount) this.fail("corrupt", `inode ${ino} is outside 1..${this.sb.inodesCount}`, inner);
    const g = Math.floor((ino - 1) / this.sb.inodesPerGroup);
    const idx = (ino - 1) % this.sb.inodesPerGroup;
    const pos = this.inodeTables[g] * this.sb.blockSize + idx * this.sb.inodeSize;
    const b = this.dev(pos, this.sb.inodeSize, `inode ${ino}`, inner);
    const dv = new DataView(b.buffer);
    const mode = dv.getUint16(0, true);
    const flags = dv.getUint32(0x20, true);
    const blocksLo = dv.getUint32(0x1c, true);
    const fileAcl = dv.getUint32(0x68, true);
    // i_size_high: always for regular files; for directories only with largedir (it was i_dir_acl)
    const high = (mode & S_IFMT) === 0o100000 || ((mode & S_IFMT) === 0o040000 && this.sb.incompat & INCOMPAT_LARGEDIR);
    const size = dv.getUint32(4, true) + (high ? dv.getUint32(0x6c, true) * 0x1_0000_0000 : 0);
    const node: Inode = {
      ino,
      mode,
      size,
      mtime: dv.getUint32(0x10, true),
      flags,
      block: b.slice(0x28, 0x28 + 60),
      dataBlocks512: blocksLo - (fileAcl ? this.sb.blockSize / 512 : 0),
    };
    if (flags & FL_INLINE_DATA) node.inlineMore = this.inlineAttr(b, inner) ?? new Uint8Array(0);
    return node;
  }

  /** The `system.data` value among the extended attributes stored in the inode body. */
  private inlineAttr(b: Uint8Array, inner: string): Uint8Array | undefined {
    if (b.length <= 128 + 4) return undefined;
    const dv = new DataView(b.buffer);
    const extra = dv.getUint16(0x80, true);
    const hdr = 128 + extra;
    if (hdr + 4 > b.length || dv.getUint32(hdr, true) !== 0xea020000) return undefined;
    const base = hdr + 4;
    let p = base;
    while (p + 16 <= b.length) {
      const nameLen = b[p];
      const nameIndex = b[p + 1];
      if (nameLen === 0 && nameIndex === 0 && dv.getUint16(p + 2, true) === 0) break;
      const valueOffs = dv.getUint16(p + 2, true);
      const valueInum = dv.getUint32(p + 4, true);
      const valueSize = dv.getUint32(p + 8, true);
      const name = UTF8.decode(b.subarray(p + 16, p + 16 + nameLen));
      if (nameIndex === 7 && name === "data") {
        if (valueInum !== 0) this.fail("unsupported", "inline data stored in an extended-attribute inode", inner);
        if (base + valueOffs + valueSize > b.length) this.fail("corrupt", "the inline data attribute runs outside the inode", inner);
        return b.slice(base + valueOffs, base + valueOffs + valueSize);
      }
      p += (16 + nameLen + 3) & ~3;
    }
    return undefined;
  }

  /** The runs of blocks of an inode's data (not for inline data or fast symlinks). */
  runs(node: Inode, inner: string): Run[] {
    const nblocks = Math.ceil(node.size / this.sb.blockSize);
    if (node.flags & FL_EXTENTS) return readExtentRuns(this, node.block, nblocks, inner);
    return readMapRuns(this, node.block, nblocks, inner);
  }

  /** The whole content of a small inode (a directory or a symlink). */
  private content(node: Inode, inner: string, limit: number): Uint8Array {
    if (node.size > limit) this.fail("corrupt", `${node.size} bytes, more than the ${limit} allowed here`, inner);
    if (node.flags & FL_INLINE_DATA) return inlineBytes(node);
    const f = new Ext4File(this, node, inner);
    const buf = new Uint8Array(node.size);
    f.readAt(buf, 0);
    return buf;
  }

  private entries(node: Inode, inner: string): DirEnt[] {
    const hit = this.dirCache.get(node.ino);
    if (hit) return hit;
    const out: DirEnt[] = [];
    if (node.flags & FL_INLINE_DATA) {
      // 4 bytes of parent inode number, then entries in the rest of i_block and in system.data
      parseDirBlock(this, node.block.subarray(4), out, inner);
      if (node.inlineMore && node.inlineMore.length > 0) parseDirBlock(this, node.inlineMore, out, inner);
    } else {
      const data = this.content(node, inner, 64 * 1024 * 1024);
      const bs = this.sb.blockSize;
      for (let off = 0; off < data.length; off += bs) parseDirBlock(this, data.subarray(off, Math.min(off + bs, data.length)), out, inner);
    }
    // bounded: at most 512 directories and 200,000 entries kept
    while (this.dirCache.size > 0 && (this.dirCache.size >= 512 || this.cachedEntries + out.length > 200_000)) {
      const [k, v] = this.dirCache.entries().next().value!;
      this.dirCache.delete(k);
      this.cachedEntries -= v.length;
    }
    this.dirCache.set(node.ino, out);
    this.cachedEntries += out.length;
    return out;
  }

  private entry(path: string, node: Inode): TreeEntry {
    const type = typeOf(node.mode);
    const e: TreeEntry = { path, type, size: type === "file" ? node.size : 0, mode: node.mode, mtime: node.mtime };
    if (type === "symlink") e.target = this.linkTarget(node, path);
    return e;
  }

  private linkTarget(node: Inode, inner: string): string {
    let bytes: Uint8Array;
    if (node.flags & FL_INLINE_DATA) bytes = inlineBytes(node);
    else if (node.size < 60 && node.dataBlocks512 === 0 && !(node.flags & FL_EXTENTS)) bytes = node.block.subarray(0, node.size);
    else bytes = this.content(node, inner, 65536);
    return UTF8.decode(bytes);
  }

  /** Resolve a path to its inode; `follow` follows a symlink in the last component too. */
  private resolve(path: string, follow: boolean): { path: string; node: Inode } | null {
    this.check();
    let hops = 0;
    const walk = (parts: string[], start: string[]): { path: string; node: Inode } | null => {
      const stack: string[] = [...start];
      let node = this.inode(ROOT_INO, "/");
      for (const s of stack) {
        const next = this.lookup(node, s, "/" + stack.join("/"));
        if (!next) return null;
        node = next;
      }
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i];
        if (p === "" || p === ".") continue;
        const here = "/" + stack.join("/");
        if (p === "..") {
          stack.pop();
          node = this.inode(ROOT_INO, "/");
          for (const s of stack) node = this.lookup(node, s, "/" + stack.join("/"))!;
          continue;
        }
        if (typeOf(node.mode) !== "dir") return null;
        const child = this.lookup(node, p, here);
        if (!child) return null;
        const last = i === parts.length - 1;
        if (typeOf(child.mode) === "symlink" && (!last || follow)) {
          if (++hops > MAX_SYMLINKS) this.fail("loop", `more than ${MAX_SYMLINKS} symlinks followed`, path);
          const target = this.linkTarget(child, here);
          const rest = parts.slice(i + 1);
          return walk([...target.split("/"), ...rest], target.startsWith("/") ? [] : stack);
        }
        stack.push(p);
        node = child;
      }
      return { path: "/" + stack.join("/"), node };
    };
    return walk(path.split("/"), []);
  }

  private lookup(dir: Inode, name: string, inner: string): Inode | null {
    if (typeOf(dir.mode) !== "dir") return null;
    const e = this.entries(dir, inner).find((x) => x.name === name);
    return e ? this.inode(e.ino, joinPath(inner, name)) : null;
  }

  private check(): void {
    if (this.closed) this.fail("closed", "the filesystem is closed");
  }

  stat(path: string): TreeEntry | null {
    const r = this.resolve(path, false);
    return r ? this.entry(normal(path), r.node) : null;
  }

  list(dir: string): TreeEntry[] {
    const r = this.resolve(dir, true);
    if (!r) this.fail("not-found", "no such directory", dir);
    if (typeOf(r.node.mode) !== "dir") this.fail("not-dir", "not a directory", dir);
    const base = normal(dir);
    return this.entries(r.node, base)
      .filter((e) => e.name !== "." && e.name !== "..")
      .map((e) => {
        const p = joinPath(base, e.name);
        return this.entry(p, this.inode(e.ino, p));
      });
  }

  open(path: string): TreeFile {
    const r = this.resolve(path, true);
    if (!r) this.fail("not-found", "no such file", path);
    if (typeOf(r.node.mode) !== "file") this.fail("not-file", "not a regular file", path);
    if (r.node.flags & FL_ENCRYPT) this.fail("unsupported", "the file is encrypted", path);
    return new Ext4File(this, r.node, r.path);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dirCache.clear();
    this.cachedEntries = 0;
  }
}

function normal(path: string): string {
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return "/" + parts.join("/");
}

function joinPath(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function inlineBytes(node: Inode): Uint8Array {
  const all = new Uint8Array(60 + (node.inlineMore?.length ?? 0));
  all.set(node.block, 0);
  if (node.inlineMore) all.set(node.inlineMore, 60);
  return all.subarray(0, Math.min(node.size, all.length));
}

function parseDirBlock(fs: Ext4Tree, b: Uint8Array, out: DirEnt[], inner: string): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const fileType = (fs.sb.incompat & INCOMPAT_FILETYPE) !== 0;
  let p = 0;
  while (p + 8 <= b.length) {
    const ino = dv.getUint32(p, true);
    let rec = dv.getUint16(p + 4, true);
    if (rec === 0 || rec === 65535) rec = 65536 > b.length - p ? b.length - p : 65536;
    const nameLen = fileType ? b[p + 6] : dv.getUint16(p + 6, true);
    if (rec < 8 || rec % 4 !== 0 || p + rec > b.length || 8 + nameLen > rec)
      fs.fail("corrupt", `directory entry at byte ${p} of a block has length ${rec} (name ${nameLen} bytes): outside its block`, inner);
    if (ino !== 0 && nameLen > 0) out.push({ ino, name: UTF8.decode(b.subarray(p + 8, p + 8 + nameLen)) });
    p += rec;
  }
}

/** One regular file (or a directory's / slow symlink's data) of the filesystem. */
export class Ext4File implements TreeFile {
  readonly size: number;
  readonly path: string;
  private runs: Run[] | null = null;
  private inline: Uint8Array | null = null;

  constructor(
    private readonly fs: Ext4Tree,
    node: Inode,
    inner: string,
  ) {
    this.size = node.size;
    this.path = `${fs.src.path}: ${inner}`;
    if (node.flags & FL_INLINE_DATA) this.inline = inlineBytes(node);
    else this.runs = fs.runs(node, inner);
  }

  readAt(dst: Uint8Array, pos: number): number {
    if (pos >= this.size) return 0;
    const want = Math.min(dst.length, this.size - pos);
    if (this.inline) {
      dst.set(this.inline.subarray(pos, pos + want));
      return want;
    }
    const bs = this.fs.sb.blockSize;
    const runs = this.runs!;
    let done = 0;
    // binary search for the run holding the first block
    let lo = 0;
    let hi = runs.length - 1;
    const first = Math.floor(pos / bs);
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (runs[mid].logical <= first) lo = mid;
      else hi = mid - 1;
    }
    let ri = lo;
    while (done < want) {
      const at = pos + done;
      const blk = Math.floor(at / bs);
      while (ri < runs.length && runs[ri].logical + runs[ri].len <= blk) ri++;
      const r = ri < runs.length ? runs[ri] : undefined;
      let n: number;
      if (!r || r.logical > blk || r.physical === 0) {
        // a hole (or an uninitialised extent): zeros up to the next run
        const end = r ? (r.logical > blk ? r.logical : r.logical + r.len) * bs : this.size;
        n = Math.min(want - done, end - at);
        dst.fill(0, done, done + n);
      } else {
        const end = (r.logical + r.len) * bs;
        n = Math.min(want - done, end - at);
        const dev = (r.physical + (blk - r.logical)) * bs + (at % bs);
        const got = this.fs.src.readAt(dst.subarray(done, done + n), dev);
        if (got !== n) this.fs.fail("truncated", `the device ends inside block ${r.physical + (blk - r.logical)}`, this.path);
      }
      done += n;
    }
    return want;
  }

  close(): void {
    this.runs = null;
    this.inline = null;
  }
}
