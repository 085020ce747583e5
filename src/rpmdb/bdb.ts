/**
 * Berkeley DB hash `Packages` (rpm ≤ 4.15, ALT, RHEL ≤ 8): hash versions 8 to 10, either byte
 * order, with or without page checksums, values on the bucket page itself or in overflow pages.
 *
 * Layout (Berkeley DB's db_page.h / hash.h):
 *   page 0  meta page: magic 0x061561 at byte 12 (its byte order is the file's), version, page
 *           size, flags, last_pgno, max_bucket, nelem (number of records), spares[32]
 *   bucket b lives on page b + spares[ceil(log2(b + 1))]; more pages of the same bucket follow
 *           through next_pgno
 *   page    26-byte header (pgno, prev, next, entries, hf_offset, level, type), +6 bytes with
 *           checksums, then `entries` u16 item offsets; items alternate key, data. The length of
 *           item i is (i ? offset[i-1] : page size) - offset[i]
 *   item    H_KEYDATA (1) + bytes | H_OFFPAGE (3) + 3 pad + pgno u32 + total length u32
 *   overflow pages (type 7): hf_offset = bytes on this page, data after the header, next_pgno
 *
 * rpm's records: key = header instance number (u32, written in the host's order, which is the
 * file's), value = header blob; key 0 holds rpm's instance counter, not a package.
 *
 * Every bucket and overflow chain is followed with a visited-page map: a chain that comes back to
 * a page is an error, never a hang. The records found must match the meta page's nelem.
 */
import { recordOf, type RpmdbRecord } from "./blob.ts";
import { RpmdbError } from "./errors.ts";
import type { ByteSource } from "./source.ts";

export const BDB_HASH_MAGIC = 0x061561;
export const BDB_BTREE_MAGIC = 0x053162;

const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_DUPLICATE = 2;
const H_OFFPAGE = 3;
const H_OFFDUP = 4;
const PAGE_HEADER = 26;
const CHKSUM_EXTRA = 6; // PG_CHKSUM: 2 unused + 4 checksum bytes
const DBMETA_CHKSUM = 0x01;
const DB_HASH_DUP = 0x01;
const DB_HASH_SUBDB = 0x02;
/** Bytes of the read-ahead window, and pages read ahead while walking bucket chains. */
const WINDOW = 1 << 20;
const BUCKET_AHEAD = 8;
/** librpm refuses headers over 256 MiB; a record cannot be larger. */
const MAX_RECORD = 0x10000000 + 65536 * 16 + 8;

interface Item {
  key: number;
  /** Page holding the data item. */
  page: number;
  /** On-page value: offset and length of the bytes inside `page`. */
  off: number;
  len: number;
  /** Off-page value: first overflow page (0 for an on-page value) and total length. */
  ovfl: number;
}

/** A Berkeley DB hash database opened for reading its records in the database's own order. */
export class BdbPackages {
  readonly format = "bdb" as const;
  readonly version: number;
  readonly pageSize: number;
  readonly littleEndian: boolean;
  /** Records announced by the meta page (nelem), rpm's key-0 counter included. */
  readonly nelem: number;
  /** Package records (every record but rpm's key-0 counter). */
  readonly count: number;
  private readonly lastPgno: number;
  private readonly dataStart: number;
  private readonly items: Item[] = [];
  private readonly bucketPages: Uint8Array;
  /** Read-ahead window of whole pages (overflow chains are mostly contiguous: one read each). */
  private readonly win: Uint8Array;
  private winStart = 0;
  private winCount = 0;
  /** The current page: a view into the window. */
  private page: Uint8Array;
  private view: DataView;

  constructor(private readonly src: ByteSource) {
    const path = src.path;
    const meta = new Uint8Array(512);
    if (src.readAt(meta, 0) < 512) throw new RpmdbError("truncated", `file of ${src.size} bytes is shorter than a Berkeley DB meta page`, path, "page 0");
    const mv = new DataView(meta.buffer);
    if (mv.getUint32(12, true) === BDB_HASH_MAGIC) this.littleEndian = true;
    else if (mv.getUint32(12, false) === BDB_HASH_MAGIC) this.littleEndian = false;
    else throw new RpmdbError("format", "not a Berkeley DB hash database (no magic 0x061561 at byte 12)", path, "page 0");
    const le = this.littleEndian;
    const u32 = (o: number) => mv.getUint32(o, le);
    this.version = u32(16);
    if (this.version < 8 || this.version > 10) {
      throw new RpmdbError("format", `Berkeley DB hash version ${this.version} is not supported (8 to 10 are: Berkeley DB 4.4 to 6, as librpm's bdb_ro)`, path, "page 0");
    }
    this.pageSize = u32(20);
    const ps = this.pageSize;
    if (ps < 512 || ps > 65536 || (ps & (ps - 1)) !== 0) throw new RpmdbError("corrupt", `page size ${ps} is not a power of two from 512 to 65536`, path, "page 0");
    if (meta[24] !== 0) throw new RpmdbError("format", `the database is encrypted (algorithm ${meta[24]}); encrypted databases are not supported`, path, "page 0");
    if (meta[25] !== P_HASHMETA) throw new RpmdbError("corrupt", `meta page has type ${meta[25]}, expected ${P_HASHMETA} (hash meta)`, path, "page 0");
    const flags = u32(48);
    if (flags & DB_HASH_SUBDB) throw new RpmdbError("format", "the file holds several databases (sub-databases); rpm's Packages is a single hash database", path, "page 0");
    if (flags & DB_HASH_DUP) throw new RpmdbError("format", "the database allows duplicate keys, which rpm's Packages never uses", path, "page 0");
    this.dataStart = PAGE_HEADER + (meta[26] & DBMETA_CHKSUM ? CHKSUM_EXTRA : 0);
    this.lastPgno = u32(32);
    const maxBucket = u32(72);
    this.nelem = u32(88);
    if (maxBucket > this.lastPgno) throw new RpmdbError("corrupt", `max_bucket ${maxBucket} is beyond the last page ${this.lastPgno}`, path, "page 0");
    const spares: number[] = [];
    for (let i = 0; i < 32; i++) spares.push(u32(96 + 4 * i));

    this.win = new Uint8Array(Math.max(ps, WINDOW));
    this.page = this.win.subarray(0, ps);
    this.view = new DataView(this.win.buffer, 0, ps);
    // one flag per page that can exist: a corrupt last_pgno must not size this from the meta page
    this.bucketPages = new Uint8Array(Math.min(this.lastPgno, Math.ceil(src.size / ps)) + 1);
    this.bucketPages[0] = 1;
    for (let b = 0; b <= maxBucket; b++) this.readBucket(b, b + spares[log2ceil(b + 1)]);
    if (this.items.length !== this.nelem) {
      throw new RpmdbError("count", `the meta page counts ${this.nelem} records but the hash buckets hold ${this.items.length}`, path, "page 0");
    }
    this.count = this.items.filter((i) => i.key !== 0).length;
  }

  private u16(o: number): number {
    return this.view.getUint16(o, this.littleEndian);
  }

  private u32(o: number): number {
    return this.view.getUint32(o, this.littleEndian);
  }

  /**
   * Make page `pg` the current page, reading it with up to `ahead` - 1 following pages when it is
   * not in the window. False for a never-written (all-zero) page.
   */
  private load(pg: number, what: string, ahead = 1): boolean {
    const path = this.src.path;
    const ps = this.pageSize;
    if (pg > this.lastPgno) throw new RpmdbError("corrupt", `${what} points to page ${pg}, beyond the last page ${this.lastPgno}`, path, `page ${pg}`);
    if (pg < this.winStart || pg >= this.winStart + this.winCount) {
      const count = Math.max(1, Math.min(ahead, this.win.length / ps, this.lastPgno + 1 - pg));
      const n = this.src.readAt(this.win.subarray(0, count * ps), pg * ps);
      this.winStart = pg;
      this.winCount = Math.floor(n / ps);
      if (this.winCount === 0) {
        throw new RpmdbError("truncated", `file of ${this.src.size} bytes ends inside page ${pg} (${what})`, path, `page ${pg}`);
      }
    }
    const at = (pg - this.winStart) * ps;
    this.page = this.win.subarray(at, at + ps);
    this.view = new DataView(this.win.buffer, this.win.byteOffset + at, ps);
    if (this.page[25] === 0 && this.u32(8) === 0 && this.page.every((b) => b === 0)) return false;
    if (this.u32(8) !== pg) throw new RpmdbError("corrupt", `page header says page ${this.u32(8)} (${what})`, path, `page ${pg}`);
    return true;
  }

  private readBucket(bucket: number, first: number): void {
    const path = this.src.path;
    const ps = this.pageSize;
    if (first === 0 || first > this.lastPgno) throw new RpmdbError("corrupt", `bucket ${bucket} maps to page ${first} (spares table)`, path, "page 0");
    let pg = first;
    let what = `bucket ${bucket}`;
    while (pg !== 0) {
      if (this.bucketPages[pg]) throw new RpmdbError("loop", `the page chain of bucket ${bucket} comes back to page ${pg}`, path, `page ${pg}`);
      if (!this.load(pg, what, BUCKET_AHEAD)) {
        if (pg !== first) throw new RpmdbError("corrupt", `empty (all-zero) page in the chain of bucket ${bucket}`, path, `page ${pg}`);
        return;
      }
      this.bucketPages[pg] = 1;
      const type = this.page[25];
      if (type !== P_HASH && type !== P_HASH_UNSORTED) throw new RpmdbError("corrupt", `page of bucket ${bucket} has type ${type}, expected a hash page (${P_HASH})`, path, `page ${pg}`);
      const entries = this.u16(20);
      const inpEnd = this.dataStart + 2 * entries;
      if (entries % 2 !== 0 || inpEnd > ps) throw new RpmdbError("corrupt", `bad item count ${entries}`, path, `page ${pg}`);
      let prev = ps;
      for (let i = 0; i < entries; i += 2) {
        const ko = this.u16(this.dataStart + 2 * i);
        const doff = this.u16(this.dataStart + 2 * i + 2);
        const klen = prev - ko;
        const dlen = ko - doff;
        prev = doff;
        if (ko < inpEnd || ko >= ps || klen < 1 || doff < inpEnd || dlen < 1) {
          throw new RpmdbError("corrupt", `item ${i} or ${i + 1} lies outside the page (offsets ${ko}, ${doff})`, path, `page ${pg}`);
        }
        if (this.page[ko] !== H_KEYDATA || klen !== 5) {
          throw new RpmdbError("corrupt", `key ${i / 2} is not a 4-byte header number (type ${this.page[ko]}, ${klen - 1} bytes)`, path, `page ${pg}`);
        }
        const key = this.u32(ko + 1);
        const dtype = this.page[doff];
        if (dtype === H_KEYDATA) {
          this.items.push({ key, page: pg, off: doff + 1, len: dlen - 1, ovfl: 0 });
        } else if (dtype === H_OFFPAGE) {
          if (dlen < 12) throw new RpmdbError("corrupt", `off-page item of key ${key} is ${dlen} bytes, expected 12`, path, `page ${pg}`);
          const ovfl = this.u32(doff + 4);
          const tlen = this.u32(doff + 8);
          if (ovfl === 0 || tlen > MAX_RECORD || tlen > this.src.size) throw new RpmdbError("corrupt", `off-page item of key ${key} points to page ${ovfl} with ${tlen} bytes`, path, `page ${pg}`);
          this.items.push({ key, page: pg, off: 0, len: tlen, ovfl });
        } else if (dtype === H_DUPLICATE || dtype === H_OFFDUP) {
          throw new RpmdbError("format", `key ${key} has duplicate values, which rpm's Packages never uses`, path, `page ${pg}`);
        } else {
          throw new RpmdbError("corrupt", `value of key ${key} has unknown item type ${dtype}`, path, `page ${pg}`);
        }
      }
      pg = this.u32(16);
      what = `next page of bucket ${bucket}`;
    }
  }

  /** The value of an item: a copy of its on-page bytes or of its overflow chain. */
  private value(item: Item, visited: Uint8Array): Uint8Array {
    const path = this.src.path;
    if (item.ovfl === 0) {
      this.load(item.page, `key ${item.key}`);
      return this.page.slice(item.off, item.off + item.len);
    }
    // not zero-filled: every byte is written below, or the chain is an error
    const out = Buffer.allocUnsafe(item.len);
    let filled = 0;
    let pg = item.ovfl;
    let what = `overflow chain of key ${item.key}`;
    const pages = Math.ceil(item.len / (this.pageSize - this.dataStart));
    while (pg !== 0) {
      if (visited[pg]) throw new RpmdbError("loop", `the overflow chain of key ${item.key} comes back to page ${pg}, already read`, path, `page ${pg}`);
      visited[pg] = 1;
      if (!this.load(pg, what, pages)) throw new RpmdbError("corrupt", `empty (all-zero) page in the overflow chain of key ${item.key}`, path, `page ${pg}`);
      if (this.page[25] !== P_OVERFLOW) throw new RpmdbError("corrupt", `page in the overflow chain of key ${item.key} has type ${this.page[25]}, expected ${P_OVERFLOW}`, path, `page ${pg}`);
      const n = this.u16(22);
      if (this.dataStart + n > this.pageSize) throw new RpmdbError("corrupt", `overflow page claims ${n} bytes`, path, `page ${pg}`);
      if (filled + n > out.length) throw new RpmdbError("corrupt", `overflow chain of key ${item.key} holds more than the ${item.len} bytes announced`, path, `page ${pg}`);
      out.set(this.page.subarray(this.dataStart, this.dataStart + n), filled);
      filled += n;
      pg = this.u32(16);
      what = `overflow chain of key ${item.key}`;
    }
    if (filled !== out.length) {
      throw new RpmdbError("corrupt", `overflow chain of key ${item.key} ends after ${filled} of the ${item.len} bytes announced`, path, `page ${item.ovfl}`);
    }
    return out;
  }

  /** Package records in bucket order (the order of a Berkeley DB cursor, i.e. `rpm -qa`). */
  *records(): Generator<RpmdbRecord> {
    const visited = this.bucketPages.slice();
    for (const item of this.items) {
      if (item.key === 0) continue;
      const blob = this.value(item, visited);
      yield recordOf(this.src.path, item.key, item.ovfl ? `page ${item.page}, overflow page ${item.ovfl}` : `page ${item.page}`, blob);
    }
  }
}

/** ceil(log2(n)), Berkeley DB's __db_log2. */
function log2ceil(n: number): number {
  let i = 0;
  for (let limit = 1; limit < n; limit *= 2) i++;
  return i;
}
