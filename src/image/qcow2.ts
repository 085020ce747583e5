/**
 * A QCOW2 image's guest disk as a ByteSource, read-only, without qemu-nbd or a mount.
 *
 * Supported: versions 2 and 3 (compat 0.10 and 1.1), cluster sizes 512 B–2 MiB, the active L1
 * and L2 tables (snapshots are not looked at), unallocated clusters read as zeros (there is
 * never a backing file), zero clusters (v3), compressed clusters (deflate, and zstd when the
 * header's compression type says so), extended L2 entries (subclusters: an unallocated or zero
 * subcluster reads as zeros), the dirty and corrupt bits (tolerated: every offset is bounds-checked).
 * L2 tables are kept in a bounded LRU cache; the last decompressed cluster is kept too.
 *
 * Refused with an ImageError naming the image: backing files (the path named in an image is
 * never opened on the host), encryption (old AES and LUKS), an external data file, unknown
 * incompatible features, L1/L2/data offsets beyond the file, misaligned L2 tables, a compressed
 * cluster that does not inflate to exactly one cluster.
 */
import { inflateRawSync } from "node:zlib";
import { ImageError, type ImageErrorCode } from "./errors.ts";
import type { ByteSource } from "./tree.ts";

const MAGIC = 0x514649fb; // "QFI\xfb"
const INCOMPAT_DIRTY = 1n;
const INCOMPAT_CORRUPT = 2n;
const INCOMPAT_DATA_FILE = 4n;
const INCOMPAT_COMPRESSION = 8n;
const INCOMPAT_EXTL2 = 16n;
const KNOWN_INCOMPAT = INCOMPAT_DIRTY | INCOMPAT_CORRUPT | INCOMPAT_DATA_FILE | INCOMPAT_COMPRESSION | INCOMPAT_EXTL2;
const OFFSET_MASK = 0x00ff_ffff_ffff_fe00n;
const MAX_L1_BYTES = 64 * 1024 * 1024;

export interface Qcow2Options {
  /** Bytes of L2 tables kept in memory (default 8 MiB; at least one table). */
  l2CacheBytes?: number;
}

export interface Qcow2Header {
  version: number;
  clusterBits: number;
  size: number;
  l1Size: number;
  l1Offset: number;
  compression: "zlib" | "zstd";
  extendedL2: boolean;
}

/** Whether the first bytes of a file are a QCOW2 magic. */
export function isQcow2(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x51 && head[1] === 0x46 && head[2] === 0x49 && head[3] === 0xfb;
}

function readExact(src: ByteSource, pos: number, n: number, what: string): Uint8Array {
  const b = new Uint8Array(n);
  const got = src.readAt(b, pos);
  if (got !== n) throw new ImageError("truncated", `the file ends inside ${what} (byte ${pos}, ${n} bytes wanted, ${got} there)`, src.path);
  return b;
}

/** The header, checked; throws for anything this reader refuses. */
export function readQcow2Header(src: ByteSource): Qcow2Header {
  const fail = (code: ImageErrorCode, msg: string): never => {
    throw new ImageError(code, msg, src.path);
  };
  if (src.size < 72) fail("truncated", `${src.size} bytes: too small for a QCOW2 header`);
  const b = readExact(src, 0, Math.min(src.size, 4096), "the header");
  const dv = new DataView(b.buffer);
  if (dv.getUint32(0) !== MAGIC) fail("format", "not a QCOW2 image (no QFI\\xfb magic)");
  const version = dv.getUint32(4);
  if (version !== 2 && version !== 3) fail("unsupported", `QCOW2 version ${version} is not supported (2 and 3 are)`);
  const backingOffset = dv.getBigUint64(8);
  if (backingOffset !== 0n) {
    const len = Math.min(dv.getUint32(16), 256);
    const off = Number(backingOffset);
    const name = off + len <= b.length ? new TextDecoder().decode(b.subarray(off, off + len)).replace(/[^\x20-\x7e]/g, "?") : "?";
    fail("unsupported", `the image has a backing file ("${name}"); images with backing files are not opened (a host path named in an image is never followed)`);
  }
  const clusterBits = dv.getUint32(20);
  if (clusterBits < 9 || clusterBits > 21) fail("corrupt", `cluster bits ${clusterBits} outside 9..21`);
  const size = Number(dv.getBigUint64(24));
  const crypt = dv.getUint32(32);
  if (crypt !== 0) fail("unsupported", `the image is encrypted (${crypt === 1 ? "AES" : crypt === 2 ? "LUKS" : `method ${crypt}`}); encrypted images are not supported`);
  const l1Size = dv.getUint32(36);
  const l1Offset = Number(dv.getBigUint64(40));
  let compression: "zlib" | "zstd" = "zlib";
  let extendedL2 = false;
  if (version === 3) {
    const incompat = dv.getBigUint64(72);
    const unknown = incompat & ~KNOWN_INCOMPAT;
    if (unknown) fail("unsupported", `unknown incompatible features 0x${unknown.toString(16)}`);
    if (incompat & INCOMPAT_DATA_FILE) fail("unsupported", "the image keeps its data in an external data file, which is never opened");
    const headerLength = dv.getUint32(100);
    if (incompat & INCOMPAT_COMPRESSION) {
      if (headerLength <= 104) fail("corrupt", "the compression type bit is set but the header has no compression type");
      const t = b[104];
      if (t === 1) compression = "zstd";
      else if (t !== 0) fail("unsupported", `compression type ${t} is not supported (0 deflate, 1 zstd)`);
    }
    extendedL2 = (incompat & INCOMPAT_EXTL2) !== 0n;
    if (extendedL2 && clusterBits < 14) fail("corrupt", "extended L2 entries need clusters of 16 KiB or more");
  }
  const cs = 2 ** clusterBits;
  const l2Entries = cs / (extendedL2 ? 16 : 8);
  const need = Math.ceil(size / (cs * l2Entries));
  if (l1Size < need) fail("corrupt", `the L1 table has ${l1Size} entries, ${need} needed for ${size} bytes`);
  if (l1Size * 8 > MAX_L1_BYTES) fail("corrupt", `an L1 table of ${l1Size} entries is more than this reader holds`);
  if (l1Offset % cs !== 0 || l1Offset + l1Size * 8 > src.size) fail("corrupt", `the L1 table at byte ${l1Offset} is misaligned or beyond the end of the file`);
  return { version, clusterBits, size, l1Size, l1Offset, compression, extendedL2 };
}

/** The guest disk of a QCOW2 image. */
export function openQcow2(src: ByteSource, opts: Qcow2Options = {}): Qcow2Source {
  return new Qcow2Source(src, readQcow2Header(src), opts);
}

interface ZstdCtx {
  decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number];
}
// zstd-napi's binding loaded the way src/rpm/decompress.ts does (so `bun build --compile` embeds it)
let zstdBinding: { DCtx: new () => ZstdCtx } | undefined;

export class Qcow2Source implements ByteSource {
  readonly size: number;
  readonly path: string;
  private readonly cs: number;
  private readonly l1: DataView;
  private readonly l2Entries: number;
  private readonly entryBytes: number;
  private readonly l2Cache = new Map<number, DataView>();
  private readonly l2CacheMax: number;
  private lastCompressed: { key: bigint; data: Uint8Array } | undefined;

  constructor(
    private readonly src: ByteSource,
    readonly header: Qcow2Header,
    opts: Qcow2Options,
  ) {
    this.size = header.size;
    this.path = src.path;
    this.cs = 2 ** header.clusterBits;
    this.entryBytes = header.extendedL2 ? 16 : 8;
    this.l2Entries = this.cs / this.entryBytes;
    this.l2CacheMax = Math.max(1, Math.floor((opts.l2CacheBytes ?? 8 * 1024 * 1024) / this.cs));
    const l1 = readExact(src, header.l1Offset, header.l1Size * 8, "the L1 table");
    this.l1 = new DataView(l1.buffer);
  }

  private fail(code: ImageErrorCode, msg: string): never {
    throw new ImageError(code, msg, this.src.path);
  }

  private l2Table(l1Index: number): DataView | null {
    const off = Number(this.l1.getBigUint64(l1Index * 8) & OFFSET_MASK);
    if (off === 0) return null;
    const hit = this.l2Cache.get(off);
    if (hit) {
      this.l2Cache.delete(off);
      this.l2Cache.set(off, hit);
      return hit;
    }
    if (off % this.cs !== 0) this.fail("corrupt", `L1 entry ${l1Index}: L2 table offset ${off} is not cluster-aligned`);
    if (off + this.cs > this.src.size) this.fail("corrupt", `L1 entry ${l1Index}: L2 table at byte ${off} is beyond the end of the file (${this.src.size} bytes)`);
    const t = new DataView(readExact(this.src, off, this.cs, `the L2 table at byte ${off}`).buffer);
    if (this.l2Cache.size >= this.l2CacheMax) this.l2Cache.delete(this.l2Cache.keys().next().value!);
    this.l2Cache.set(off, t);
    return t;
  }

  readAt(dst: Uint8Array, pos: number): number {
    if (pos >= this.size) return 0;
    const want = Math.min(dst.length, this.size - pos);
    let done = 0;
    while (done < want) {
      const at = pos + done;
      const cluster = Math.floor(at / this.cs);
      const within = at - cluster * this.cs;
      const n = Math.min(want - done, this.cs - within);
      this.readCluster(cluster, within, dst.subarray(done, done + n));
      done += n;
    }
    return want;
  }

  /** Fill `out` from byte `within` of guest cluster `cluster`. */
  private readCluster(cluster: number, within: number, out: Uint8Array): void {
    const l1Index = Math.floor(cluster / this.l2Entries);
    const table = this.l2Table(l1Index);
    if (!table) {
      out.fill(0);
      return;
    }
    const idx = (cluster % this.l2Entries) * this.entryBytes;
    const entry = table.getBigUint64(idx);
    if (entry & (1n << 62n)) {
      out.set(this.compressed(entry, cluster).subarray(within, within + out.length));
      return;
    }
    const host = Number(entry & OFFSET_MASK);
    if (!this.header.extendedL2) {
      if ((entry & 1n) !== 0n || host === 0) {
        out.fill(0); // a zero cluster, or unallocated with no backing file
        return;
      }
      this.readHost(host, within, out, cluster);
      return;
    }
    // extended L2: 32 subclusters, allocation bits 0..31 and zero bits 32..63 of the bitmap
    const alloc = table.getUint32(idx + 12);
    const sub = this.cs / 32;
    let done = 0;
    while (done < out.length) {
      const w = within + done;
      const s = Math.floor(w / sub);
      const n = Math.min(out.length - done, (s + 1) * sub - w);
      if (alloc & (1 << s)) {
        if (host === 0) this.fail("corrupt", `guest cluster ${cluster}: subcluster ${s} allocated without a host cluster`);
        this.readHost(host, w, out.subarray(done, done + n), cluster);
      } else out.fill(0, done, done + n);
      done += n;
    }
  }

  private readHost(host: number, within: number, out: Uint8Array, cluster: number): void {
    if (host % this.cs !== 0) this.fail("corrupt", `guest cluster ${cluster}: host offset ${host} is not cluster-aligned`);
    const pos = host + within;
    if (pos + out.length > this.src.size) this.fail("truncated", `guest cluster ${cluster}: data at byte ${host} is beyond the end of the file (${this.src.size} bytes)`);
    const got = this.src.readAt(out, pos);
    if (got !== out.length) this.fail("truncated", `guest cluster ${cluster}: the file ends inside its data at byte ${pos}`);
  }

  private compressed(entry: bigint, cluster: number): Uint8Array {
    if (this.lastCompressed?.key === entry) return this.lastCompressed.data;
    const x = BigInt(62 - (this.header.clusterBits - 8));
    const desc = entry & ((1n << 62n) - 1n);
    const off = Number(desc & ((1n << x) - 1n));
    const sectors = Number(desc >> x) + 1;
    const csize = sectors * 512 - (off & 511);
    if (off >= this.src.size) this.fail("corrupt", `guest cluster ${cluster}: compressed data at byte ${off} is beyond the end of the file (${this.src.size} bytes)`);
    const input = new Uint8Array(Math.min(csize, this.src.size - off));
    this.src.readAt(input, off);
    const data = this.header.compression === "zstd" ? this.unzstd(input, cluster) : this.inflate(input, cluster);
    this.lastCompressed = { key: entry, data };
    return data;
  }

  private inflate(input: Uint8Array, cluster: number): Uint8Array {
    let out: Uint8Array;
    try {
      out = inflateRawSync(input, { maxOutputLength: this.cs });
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ERR_BUFFER_TOO_LARGE") this.fail("corrupt", `guest cluster ${cluster}: compressed data inflates beyond the cluster size (${this.cs} bytes)`);
      this.fail("corrupt", `guest cluster ${cluster}: compressed data cannot be inflated: ${(e as Error).message}`);
    }
    if (out.length !== this.cs) this.fail("corrupt", `guest cluster ${cluster}: compressed data inflates to ${out.length} bytes, not one cluster (${this.cs})`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  private unzstd(input: Uint8Array, cluster: number): Uint8Array {
    zstdBinding ??= require("zstd-napi/build/Release/binding.node") as { DCtx: new () => ZstdCtx };
    const ctx = new zstdBinding.DCtx(); // a fresh context per frame: a failed frame leaves none dirty
    const out = new Uint8Array(this.cs);
    let produced = 0;
    let used = 0;
    try {
      while (true) {
        const [ret, p, c] = ctx.decompressStream(out.subarray(produced), input.subarray(used));
        produced += p;
        used += c;
        if (ret === 0) break;
        if (produced === out.length) {
          // the output is full: the frame may only have its epilogue left, or more data (refused)
          const [ret2, extra, c2] = ctx.decompressStream(new Uint8Array(1), input.subarray(used));
          used += c2;
          if (extra > 0) this.fail("corrupt", `guest cluster ${cluster}: compressed data inflates beyond the cluster size (${this.cs} bytes)`);
          if (ret2 === 0) break;
          if (c2 === 0) this.fail("corrupt", `guest cluster ${cluster}: the zstd frame ends early`);
          continue;
        }
        if (p === 0 && c === 0) this.fail("corrupt", `guest cluster ${cluster}: the zstd frame ends early`);
      }
    } catch (e) {
      if (e instanceof ImageError) throw e;
      this.fail("corrupt", `guest cluster ${cluster}: zstd data cannot be decompressed: ${(e as Error).message}`);
    }
    if (produced !== this.cs) this.fail("corrupt", `guest cluster ${cluster}: compressed data inflates to ${produced} bytes, not one cluster (${this.cs})`);
    return out;
  }
}
