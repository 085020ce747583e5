/**
 * rpm databases: the only public entry of src/rpmdb (see README.md). A leaf library above src/rpm:
 * it imports only src/rpm and node/bun built-ins.
 *
 *   const db = openRpmdb("/img/var/lib/rpm");      // a directory or a file; detected by magic
 *   db.count;                                     // packages, from the database's own metadata
 *   for await (const r of db.records()) …         // { key, where, header, package | error }
 *   db.close();
 *
 * or `for await (const r of readRpmdb(path))`, which opens and closes.
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { BDB_BTREE_MAGIC, BDB_HASH_MAGIC, BdbPackages } from "./bdb.ts";
import type { RpmdbRecord } from "./blob.ts";
import { RpmdbError } from "./errors.ts";
import { NDB_MAGIC, NdbPackages } from "./ndb.ts";
import { type ByteSource, FileSource, readMagic } from "./source.ts";
import { SQLITE_MAGIC, SqlitePackages } from "./sqlite.ts";

export { RpmdbError, isRpmdbError } from "./errors.ts";
export type { RpmdbErrorCode } from "./errors.ts";
export type { RpmdbRecord } from "./blob.ts";
export type { ByteSource } from "./source.ts";

export type RpmdbFormat = "bdb" | "ndb" | "sqlite";

export interface Rpmdb {
  /** The database file that was opened. */
  readonly path: string;
  readonly format: RpmdbFormat;
  /**
   * Number of packages according to the database itself (BDB: the meta page's record count less
   * rpm's key-0 counter; NDB: used slots; sqlite: rows). records() yields exactly this many.
   */
  readonly count: number;
  /** Every package record, in rpm's order; structural damage throws an RpmdbError. */
  records(): AsyncGenerator<RpmdbRecord>;
  close(): void;
}

/** File names rpm uses in a database directory, newest backend first. */
export const DB_FILES = ["rpmdb.sqlite", "Packages.db", "Packages"] as const;

/** The format of a database file from its first bytes, or null. */
export function detectFormat(head: Uint8Array): RpmdbFormat | null {
  if (head.length >= 16 && new TextDecoder().decode(head.subarray(0, 16)) === SQLITE_MAGIC) return "sqlite";
  if (head.length < 16) return null;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (v.getUint32(0, true) === NDB_MAGIC) return "ndb";
  if (v.getUint32(12, true) === BDB_HASH_MAGIC || v.getUint32(12, false) === BDB_HASH_MAGIC) return "bdb";
  return null;
}

function isBtree(head: Uint8Array): boolean {
  if (head.length < 16) return false;
  const v = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return v.getUint32(12, true) === BDB_BTREE_MAGIC || v.getUint32(12, false) === BDB_BTREE_MAGIC;
}

/** The database file of a directory (by magic; sqlite, then NDB, then Berkeley DB) or a file. */
export function locateRpmdb(path: string): { file: string; format: RpmdbFormat } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new RpmdbError("io", `cannot open: ${(e as Error).message}`, path);
  }
  if (!st.isDirectory()) {
    const head = readMagic(path);
    const format = detectFormat(head);
    if (format) return { file: path, format };
    if (isBtree(head)) throw new RpmdbError("format", "a Berkeley DB btree file (an rpm index such as Name or Basenames), not the Packages database", path);
    throw new RpmdbError("format", "not an rpm database (no Berkeley DB hash, NDB or SQLite magic)", path);
  }
  const found: { file: string; format: RpmdbFormat }[] = [];
  for (const name of DB_FILES) {
    const file = join(path, name);
    if (!existsSync(file) || !statSync(file).isFile()) continue;
    const format = detectFormat(readMagic(file));
    if (format) found.push({ file, format });
  }
  const order: RpmdbFormat[] = ["sqlite", "ndb", "bdb"];
  found.sort((a, b) => order.indexOf(a.format) - order.indexOf(b.format));
  if (!found.length) throw new RpmdbError("format", `no rpm database in this directory (looked for ${DB_FILES.join(", ")})`, path);
  return found[0];
}

/** Open an rpm database: a file (Packages, Packages.db, rpmdb.sqlite) or a directory holding one. */
export function openRpmdb(path: string): Rpmdb {
  const { file, format } = locateRpmdb(path);
  if (format === "sqlite") {
    const db = new SqlitePackages(file);
    return wrap(file, format, db.count, () => db.records(), () => db.close());
  }
  const src = new FileSource(file);
  try {
    const db = format === "bdb" ? new BdbPackages(src) : new NdbPackages(src);
    return wrap(file, format, db.count, () => db.records(), () => src.close());
  } catch (e) {
    src.close();
    throw e;
  }
}

/**
 * Open a database from bytes that are not a file of their own (a file inside an image, read by
 * the image readers). The caller keeps and closes the source. Berkeley DB and NDB are read page by
 * page; an sqlite database is copied into a private temporary file first (SQLite reads files).
 */
export function openRpmdbSource(src: ByteSource): Rpmdb {
  const head = new Uint8Array(Math.min(16, src.size));
  src.readAt(head, 0);
  const format = detectFormat(head);
  if (format === "sqlite") {
    const db = new SqlitePackages(src.path, src);
    return wrap(src.path, format, db.count, () => db.records(), () => db.close());
  }
  if (format === "bdb" || format === "ndb") {
    const db = format === "bdb" ? new BdbPackages(src) : new NdbPackages(src);
    return wrap(src.path, format, db.count, () => db.records(), () => {});
  }
  if (isBtree(head)) throw new RpmdbError("format", "a Berkeley DB btree file (an rpm index such as Name or Basenames), not the Packages database", src.path);
  throw new RpmdbError("format", "not an rpm database (no Berkeley DB hash, NDB or SQLite magic)", src.path);
}

function wrap(path: string, format: RpmdbFormat, count: number, records: () => Generator<RpmdbRecord>, close: () => void): Rpmdb {
  return {
    path,
    format,
    count,
    async *records() {
      let n = 0;
      for (const r of records()) {
        n++;
        yield r;
      }
      if (n !== count) throw new RpmdbError("count", `the database counts ${count} packages but ${n} records were read`, path);
    },
    close,
  };
}

/** Every package record of a database (opened and closed here). */
export async function* readRpmdb(path: string): AsyncGenerator<RpmdbRecord> {
  const db = openRpmdb(path);
  try {
    yield* db.records();
  } finally {
    db.close();
  }
}
