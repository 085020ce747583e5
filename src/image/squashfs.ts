/**
 * squashfs 4.0 reader over a ByteSource (no mount, no tool): superblock, metadata blocks (inode,
 * directory, fragment and id tables), basic and extended directories (the directory index is not
 * needed: listings are read whole and kept in a bounded cache), basic and extended regular files
 * (data blocks, sparse blocks, tail-end fragments, hard links), symlinks, and devices, fifos and
 * sockets as "other". Compressors: gzip, zstd, xz (with BCJ filters), lzma, lz4 — see
 * squashfs-compress.ts; lzo is refused with "unsupported compressor lzo".
 *
 * Bounded: every decompression is limited to its block size (8 KiB for metadata); decompressed
 * metadata and data blocks are kept in small LRU caches (defaults 256 metadata blocks = 2 MiB,
 * 16 data blocks and ≤ 16 MiB; listings of ≤ 1024 directories and ≤ 500,000 entries; 8192 inodes); a
 * file's data is never buffered whole.
 *
 * Refused (ImageError): bad magic or a version other than 4.0 ("format"); an image shorter than
 * its bytes_used ("truncated"); a table, inode, listing, block or fragment pointing outside the
 * image or its table, a block that does not decompress or decompresses to the wrong size, a
 * directory loop ("corrupt"); a file whose block list cannot fit the inode table (a size claim
 * like 2^50 bytes) or a listing over 64 MiB ("limit"). Xattrs and the export table are ignored.
 */
import type { ByteSource } from "../rpmdb/source.ts";
import { ImageError } from "./errors.ts";
import { COMPRESSORS, squashfsDecompressor, type BlockDecompressor } from "./squashfs-compress.ts";
import { SquashfsFile } from "./squashfs-file.ts";
import { readSuperblock, type Superblock } from "./squashfs-super.ts";
import { BoundedCache, decodeName, nodeEntry, normalizePath, resolvePath, type PathOps } from "./tree-paths.ts";
import type { EntryType, FileTree, TreeEntry, TreeFile } from "./tree.ts";

const META_SIZE = 8192;
const NO_FRAGMENT = 0xffffffff;
const MAX_LISTING = 64 * 1024 * 1024;

export interface SquashfsOptions {
  /** Decompressed metadata blocks kept (default 256). */
  metaCache?: number;
  /** Decompressed data / fragment blocks kept (default 16). */
  dataCache?: number;
}

/** An inode as read; a regular file's block list stays on disk until the file is opened. */
interface Inode {
  ref: number;
  type: number;
  kind: EntryType;
  mode: number;
  uidIdx: number;
  gidIdx: number;
  mtime: number;
  size: number;
  target?: string;
  rdev?: number;
  dirBlock?: number;
  dirOffset?: number;
  dirSize?: number;
  blocksStart?: number;
  fragIndex?: number;
  fragOffset?: number;
  /** Where the block size list starts in the inode table. */
  listPos?: number;
  listOff?: number;
}

interface DirEntry {
  name: string;
  ref: number;
}

const KIND: Record<number, EntryType> = { 1: "dir", 2: "file", 3: "symlink", 4: "other", 5: "other", 6: "other", 7: "other" };
const IFMT: Record<number, number> = { 1: 0o040000, 2: 0o100000, 3: 0o120000, 4: 0o060000, 5: 0o020000, 6: 0o010000, 7: 0o140000 };


export function openSquashfs(src: ByteSource, opts: SquashfsOptions = {}): FileTree {
  return new SquashfsTree(src, opts);
}

/** Reads across consecutive metadata blocks from (block position, offset). */
interface Cursor {
  pos: number;
  off: number;
}

export class SquashfsTree implements FileTree {
  readonly name: string;
  readonly sb: Superblock;
  private readonly inflate: BlockDecompressor;
  private readonly meta: BoundedCache<number, { data: Uint8Array; next: number }>;
  readonly data: BoundedCache<number, Uint8Array>;
  private readonly inodes = new BoundedCache<number, Inode>(8192);
  private readonly listings = new BoundedCache<number, Map<string, DirEntry>>(1024, 500_000, (m) => m.size + 1);
  private readonly ops: PathOps<Inode>;
  private readonly root: Inode;

  constructor(
    readonly src: ByteSource,
    opts: SquashfsOptions = {},
  ) {
    this.name = `squashfs ${src.path}`;
    this.sb = readSuperblock(src);
    this.inflate = squashfsDecompressor(this.sb.compressor, src.path);
    this.meta = new BoundedCache(opts.metaCache ?? 256);
    this.data = new BoundedCache(opts.dataCache ?? 16, 16 * 1024 * 1024, (b) => b.length);
    this.root = this.inode(this.sb.rootRef, "/");
    if (this.root.kind !== "dir") throw this.err("corrupt", "the root inode is not a directory");
    this.ops = {
      root: this.root,
      kind: (n) => n.kind,
      child: (dir, name) => {
        const e = this.listing(dir, name).get(name);
        return e ? this.inode(e.ref, name) : null;
      },
      target: (n) => n.target ?? "",
      key: (n) => n.ref,
    };
  }

  err(code: ConstructorParameters<typeof ImageError>[0], message: string, inside = ""): ImageError {
    return new ImageError(code, message, inside ? `${this.src.path}:${inside}` : this.src.path);
  }

  readRaw(pos: number, len: number, what: string): Uint8Array {
    if (pos < 0 || pos + len > this.sb.bytesUsed) throw this.err("corrupt", `${what} at byte ${pos} (${len} bytes) lies outside the image`);
    const buf = new Uint8Array(len);
    if (this.src.readAt(buf, pos) !== len) throw this.err("truncated", `${what} at byte ${pos}: short read`);
    return buf;
  }

  /** One metadata block at `pos`: its decompressed bytes and the position of the next one. */
  private metaBlock(pos: number): { data: Uint8Array; next: number } {
    const hit = this.meta.get(pos);
    if (hit) return hit;
    const h = this.readRaw(pos, 2, "metadata block header");
    const word = h[0] | (h[1] << 8);
    const len = word & 0x7fff;
    if (len === 0 || len > META_SIZE) throw this.err("corrupt", `metadata block at byte ${pos}: bad length ${len}`);
    const raw = this.readRaw(pos + 2, len, "metadata block");
    let data: Uint8Array;
    if (word & 0x8000) data = raw;
    else {
      try {
        data = this.inflate(raw, META_SIZE);
      } catch (e) {
        throw this.err("corrupt", `metadata block at byte ${pos} does not decompress (${COMPRESSORS[this.sb.compressor]}): ${(e as Error).message}`);
      }
    }
    const out = { data, next: pos + 2 + len };
    this.meta.set(pos, out);
    return out;
  }

  /** `len` bytes of metadata from the cursor, which moves past them. */
  private readMeta(c: Cursor, len: number, limit: number, what: string): Uint8Array {
    const out = new Uint8Array(len);
    let got = 0;
    while (got < len) {
      if (c.pos >= limit) throw this.err("corrupt", `${what} runs past the end of its table`);
      const blk = this.metaBlock(c.pos);
      if (c.off > blk.data.length) throw this.err("corrupt", `${what}: offset ${c.off} beyond metadata block at byte ${c.pos}`);
      const take = Math.min(len - got, blk.data.length - c.off);
      out.set(blk.data.subarray(c.off, c.off + take), got);
      got += take;
      c.off += take;
      if (c.off >= blk.data.length && got < len) {
        c.pos = blk.next;
        c.off = 0;
      }
    }
    return out;
  }

  /** The inode at reference `ref` (metadata block start << 16 | offset). */
  private inode(ref: number, where: string): Inode {
    const hit = this.inodes.get(ref);
    if (hit) return hit;
    const sb = this.sb;
    const c: Cursor = { pos: sb.inodeTable + Math.floor(ref / 65536), off: ref % 65536 };
    const limit = sb.dirTable;
    if (c.pos >= limit || c.off >= META_SIZE) throw this.err("corrupt", `inode reference ${ref.toString(16)} points outside the inode table`, where);
    const h = this.readMeta(c, 16, limit, `inode of ${where}`);
    const hv = new DataView(h.buffer);
    const type = hv.getUint16(0, true);
    const basic = type > 7 ? type - 7 : type;
    if (type < 1 || type > 14) throw this.err("corrupt", `inode has unknown type ${type}`, where);
    const n: Inode = {
      ref,
      type,
      kind: KIND[basic],
      mode: IFMT[basic] | (hv.getUint16(2, true) & 0o7777),
      uidIdx: hv.getUint16(4, true),
      gidIdx: hv.getUint16(6, true),
      mtime: hv.getUint32(8, true),
      size: 0,
    };
    const rd = (len: number) => {
      const b = this.readMeta(c, len, limit, `inode of ${where}`);
      return new DataView(b.buffer);
    };
    switch (type) {
      case 1: {
        const v = rd(16);
        n.dirBlock = v.getUint32(0, true);
        n.dirSize = v.getUint16(8, true);
        n.dirOffset = v.getUint16(10, true);
        break;
      }
      case 8: {
        const v = rd(24);
        n.dirSize = v.getUint32(4, true);
        n.dirBlock = v.getUint32(8, true);
        n.dirOffset = v.getUint16(18, true);
        break;
      }
      case 2: {
        const v = rd(16);
        n.blocksStart = v.getUint32(0, true);
        n.fragIndex = v.getUint32(4, true);
        n.fragOffset = v.getUint32(8, true);
        n.size = v.getUint32(12, true);
        break;
      }
      case 9: {
        const v = rd(40);
        const big = (o: number) => {
          const x = v.getBigUint64(o, true);
          return x > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(x);
        };
        n.blocksStart = big(0);
        n.size = big(8);
        n.fragIndex = v.getUint32(28, true);
        n.fragOffset = v.getUint32(32, true);
        break;
      }
      case 4:
      case 5:
      case 11:
      case 12:
        n.rdev = rd(8).getUint32(4, true);
        break;
      case 3:
      case 10: {
        const v = rd(8);
        const len = v.getUint32(4, true);
        if (len > 65536) throw this.err("limit", `symlink target of ${len} bytes`, where);
        n.target = decodeName(this.readMeta(c, len, limit, `symlink ${where}`));
        break;
      }
    }
    if (n.kind === "file") {
      n.listPos = c.pos;
      n.listOff = c.off;
    }
    this.inodes.set(ref, n);
    return n;
  }

  /** A directory's entries by name (`name` only for messages). */
  private listing(dir: Inode, where: string): Map<string, DirEntry> {
    const hit = this.listings.get(dir.ref);
    if (hit) return hit;
    const sb = this.sb;
    const out = new Map<string, DirEntry>();
    const size = (dir.dirSize ?? 3) - 3;
    if (size > MAX_LISTING) throw this.err("limit", `directory listing of ${size} bytes`, where);
    if (size > 0) {
      const c: Cursor = { pos: sb.dirTable + dir.dirBlock!, off: dir.dirOffset! };
      if (c.pos >= sb.bytesUsed) throw this.err("corrupt", "directory listing points outside the directory table", where);
      const limit = sb.fragTable > sb.dirTable && sb.fragTable <= sb.bytesUsed ? Math.max(sb.fragTable, sb.dirTable + 1) : sb.bytesUsed;
      const b = this.readMeta(c, size, Math.min(limit, sb.bytesUsed), `directory ${where}`);
      const v = new DataView(b.buffer);
      let o = 0;
      while (o + 12 <= size) {
        const count = v.getUint32(o, true) + 1;
        const start = v.getUint32(o + 4, true);
        o += 12;
        if (count > 256) throw this.err("corrupt", `directory header with ${count} entries`, where);
        for (let i = 0; i < count; i++) {
          if (o + 8 > size) throw this.err("corrupt", "directory entry runs past the listing", where);
          const off = v.getUint16(o, true);
          const nlen = v.getUint16(o + 6, true) + 1;
          if (o + 8 + nlen > size) throw this.err("corrupt", "directory entry name runs past the listing", where);
          const name = decodeName(b.subarray(o + 8, o + 8 + nlen));
          o += 8 + nlen;
          if (name === "." || name === ".." || name.includes("/")) throw this.err("corrupt", `directory entry with a bad name "${name}"`, where);
          out.set(name, { name, ref: start * 65536 + off });
        }
      }
      if (o !== size) throw this.err("corrupt", `directory listing has ${size - o} stray bytes`, where);
    }
    this.listings.set(dir.ref, out);
    return out;
  }

  /** The fragment (disk position, on-disk size word) of index `i`. */
  fragment(i: number, where: string): { pos: number; word: number } {
    if (i >= this.sb.fragments) throw this.err("corrupt", `fragment ${i} of ${this.sb.fragments}`, where);
    const ptr = this.readRaw(this.sb.fragTable + Math.floor(i / 512) * 8, 8, "fragment table pointer");
    const pos = Number(new DataView(ptr.buffer).getBigUint64(0, true));
    const e = this.readMeta({ pos, off: (i % 512) * 16 }, 16, this.sb.bytesUsed, `fragment ${i}`);
    const v = new DataView(e.buffer);
    return { pos: Number(v.getBigUint64(0, true)), word: v.getUint32(8, true) };
  }

  private ids?: Uint32Array;

  /** An id (uid or gid) through the id table, read whole on first use (≤ 65,536 ids). */
  private id(idx: number, where: string): number {
    if (!this.ids) {
      const count = this.sb.idCount;
      const ids = new Uint32Array(count);
      for (let b = 0; b * 2048 < count; b++) {
        const ptr = this.readRaw(this.sb.idTable + b * 8, 8, "id table pointer");
        const pos = Number(new DataView(ptr.buffer).getBigUint64(0, true));
        const n = Math.min(2048, count - b * 2048);
        const raw = this.readMeta({ pos, off: 0 }, n * 4, this.sb.bytesUsed, "id table");
        const v = new DataView(raw.buffer);
        for (let i = 0; i < n; i++) ids[b * 2048 + i] = v.getUint32(i * 4, true);
      }
      this.ids = ids;
    }
    if (idx >= this.ids.length) throw this.err("corrupt", `id index ${idx} of ${this.ids.length}`, where);
    return this.ids[idx];
  }

  /** uid and gid of an entry through the id table. */
  owner(path: string): { uid: number; gid: number } | null {
    const n = resolvePath(this.ops, normalizePath(path), false, this.src.path);
    return n ? { uid: this.id(n.uidIdx, path), gid: this.id(n.gidIdx, path) } : null;
  }

  /** A data block at `pos` with size word `word`, decompressed to exactly `expect` bytes. */
  block(pos: number, word: number, expect: number, where: string): Uint8Array {
    const hit = this.data.get(pos);
    if (hit && hit.length >= expect) return hit;
    const len = word & 0xffffff;
    if (len > this.sb.blockSize) throw this.err("corrupt", `data block at byte ${pos} of ${len} bytes, more than the block size`, where);
    const raw = this.readRaw(pos, len, "data block");
    let out: Uint8Array;
    if (word & 0x1000000) out = raw;
    else {
      try {
        out = this.inflate(raw, this.sb.blockSize);
      } catch (e) {
        throw this.err("corrupt", `data block at byte ${pos} does not decompress (${COMPRESSORS[this.sb.compressor]}): ${(e as Error).message}`, where);
      }
    }
    if (out.length < expect) throw this.err("corrupt", `data block at byte ${pos}: ${out.length} bytes, ${expect} expected`, where);
    this.data.set(pos, out);
    return out;
  }

  private entry(path: string, n: Inode): TreeEntry {
    return nodeEntry(path, n, this.id(n.uidIdx, path), this.id(n.gidIdx, path));
  }

  stat(path: string): TreeEntry | null {
    const p = normalizePath(path);
    const n = resolvePath(this.ops, p, false, this.src.path);
    return n ? this.entry(p, n) : null;
  }

  list(dir: string): TreeEntry[] {
    const p = normalizePath(dir);
    const n = resolvePath(this.ops, p, true, this.src.path);
    if (!n) throw this.err("not-found", `no such directory: ${p}`);
    if (n.kind !== "dir") throw this.err("not-found", `not a directory: ${p}`);
    const base = p === "/" ? "" : p;
    return [...this.listing(n, p).values()].map((e) => this.entry(`${base}/${e.name}`, this.inode(e.ref, `${base}/${e.name}`)));
  }

  open(path: string): TreeFile {
    const p = normalizePath(path);
    const n = resolvePath(this.ops, p, true, this.src.path);
    if (!n) throw this.err("not-found", `no such file: ${p}`);
    if (n.kind !== "file") throw this.err("not-found", `not a regular file: ${p}`);
    const bs = this.sb.blockSize;
    const frag = n.fragIndex !== NO_FRAGMENT;
    const count = frag ? Math.floor(n.size / bs) : Math.ceil(n.size / bs);
    // Each block has a 4-byte entry in the inode table; a metadata block holds ≤ 8 KiB from ≥ 3 bytes.
    const room = (Math.floor((this.sb.dirTable - this.sb.inodeTable) / 3) + 1) * META_SIZE;
    if (count * 4 > room) throw this.err("limit", `file claims ${n.size} bytes (${count} blocks), more than its inode table can describe`, p);
    const list = new DataView(this.readMeta({ pos: n.listPos!, off: n.listOff! }, count * 4, this.sb.dirTable, `block list of ${p}`).buffer);
    const words = new Uint32Array(count);
    const starts = new Float64Array(count);
    let pos = n.blocksStart!;
    for (let i = 0; i < count; i++) {
      words[i] = list.getUint32(i * 4, true);
      starts[i] = pos;
      pos += words[i] & 0xffffff;
    }
    if (pos > this.sb.bytesUsed) throw this.err("corrupt", `data blocks end at byte ${pos}, past the image`, p);
    let tail: { pos: number; word: number } | undefined;
    if (frag) {
      tail = this.fragment(n.fragIndex!, p);
      if ((tail.word & 0xffffff) > bs || n.fragOffset! + (n.size - count * bs) > bs) throw this.err("corrupt", `fragment ${n.fragIndex} does not hold the file's tail`, p);
    }
    return new SquashfsFile(this, `${this.src.path}:${p}`, p, n.size, words, starts, n.fragOffset ?? 0, tail);
  }

  async close(): Promise<void> {
    this.meta.clear();
    this.data.clear();
    this.inodes.clear();
    this.listings.clear();
  }
}
