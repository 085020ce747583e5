/** The embedded driver: ClickHouse in this process (libchdb), one data directory per process. */
import { mkdirSync, rmSync, closeSync, openSync, writeSync } from "node:fs";
import { join, resolve } from "node:path";
import { DbError } from "../errors";
import { QUERY_SETTINGS, rowsFromJsonCompact } from "../result";
import { quoteIdent, quoteString } from "../sql";
import { rowDataChunks, rowDataLength, type Db, type InsertOptions, type QueryOptions, type Row, type RowData, type Settings } from "../types";
import { ChdbConnection, loadLibchdb } from "./libchdb";
import { lockDataDir, type DirLock } from "./lock";
import { cleanSpool, spoolDir } from "./spool";

export interface EmbeddedOptions {
  /** Data directory; created when missing. */
  path: string;
  database: string;
  /** Explicit path of libchdb.so (config key database.embedded.libchdb). */
  libchdb?: string;
}

/** The data directory this process has opened, shared by every EmbeddedDb of the process. */
let opened: { path: string; lock: DirLock; users: number } | undefined;
/** Data directories whose spool this process has cleaned (once each, before its first insert). */
const cleaned = new Set<string>();
const live = new Set<ChdbConnection>();

process.on("exit", () => {
  // libchdb can abort at exit when a connection is still open
  for (const c of live) c.close();
  live.clear();
});

function acquire(path: string): void {
  if (opened) {
    if (opened.path !== path) {
      throw new DbError(`this process already uses the embedded database at ${opened.path}; it cannot open ${path} too`);
    }
    opened.users++;
    return;
  }
  try {
    mkdirSync(path, { recursive: true });
  } catch (e) {
    throw new DbError(`cannot create data directory ${path}: ${(e as Error).message}`, "set database.embedded.path to a writable directory");
  }
  opened = { path, lock: lockDataDir(path), users: 1 };
  if (!cleaned.has(path)) {
    // no insert of this process has run here yet: every spool file is a dead process's leftover
    try {
      cleanSpool(spoolDir(path));
    } catch (e) {
      release();
      throw new DbError(`cannot clean the insert spool ${spoolDir(path)}: ${(e as Error).message}`, "check the permissions of the data directory");
    }
    cleaned.add(path);
  }
}

function release(): void {
  if (!opened) return;
  if (--opened.users === 0) {
    opened.lock.release();
    opened = undefined;
  }
}

function settingsSql(settings: Settings): string[] {
  return Object.entries(settings).map(([k, v]) => `SET ${quoteIdent(k)} = ${typeof v === "string" ? quoteString(v) : Number(v)}`);
}

let insertSeq = 0;

export class EmbeddedDb implements Db {
  readonly kind = "embedded" as const;
  readonly database: string;
  private conn: ChdbConnection | undefined;
  private readonly spool: string;

  constructor(opts: EmbeddedOptions) {
    const path = resolve(opts.path);
    const { lib } = loadLibchdb(opts.libchdb);
    acquire(path);
    try {
      this.conn = new ChdbConnection(lib, path);
    } catch (e) {
      release();
      throw e;
    }
    live.add(this.conn);
    this.database = opts.database;
    this.spool = spoolDir(path);
    for (const s of settingsSql(QUERY_SETTINGS)) this.conn.query(s);
    this.conn.query(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(opts.database)}`);
    this.conn.query(`USE ${quoteIdent(opts.database)}`);
  }

  private run(sql: string | Uint8Array, format: string, settings?: Settings): Buffer {
    const conn = this.conn;
    if (!conn) throw new DbError("the database connection is closed");
    if (!settings || Object.keys(settings).length === 0) return conn.query(sql, format);
    for (const s of settingsSql(settings)) conn.query(s);
    try {
      return conn.query(sql, format);
    } finally {
      for (const k of Object.keys(settings)) conn.query(`SET ${quoteIdent(k)} = DEFAULT`);
    }
  }

  async query<T = Row>(sql: string, opts?: QueryOptions): Promise<T[]> {
    return rowsFromJsonCompact<T>(this.run(sql, "JSONCompact", opts?.settings).toString("utf8"));
  }

  async queryRaw(sql: string, format: string, opts?: QueryOptions): Promise<Uint8Array> {
    return this.run(sql, format, opts?.settings);
  }

  async command(sql: string, opts?: QueryOptions): Promise<void> {
    this.run(sql, "TSV", opts?.settings);
  }

  async insertRowBinary(table: string, columns: readonly string[], data: RowData, opts?: InsertOptions): Promise<void> {
    if (rowDataLength(data) === 0) return;
    // Inline data after FORMAT is cut short by the engine for some binary content; a spool file is exact.
    const file = join(this.spool, `${process.pid}-${++insertSeq}.bin`);
    const fd = openSync(file, "w");
    try {
      for (const chunk of rowDataChunks(data)) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    try {
      const cols = columns.map(quoteIdent).join(", ");
      // The token makes the engine drop a repeated batch (MergeTree tables with a deduplication
      // window, sql/0106), in the materialized views' target tables too.
      // pread: the engine's default mmap of the file would add the whole batch to the RSS again
      const settings = {
        storage_file_read_method: "pread",
        ...(opts?.dedupToken !== undefined ? { insert_deduplication_token: opts.dedupToken, deduplicate_blocks_in_dependent_materialized_views: 1 } : {}),
        ...opts?.settings,
      };
      this.run(`INSERT INTO ${quoteIdent(table)} (${cols}) FROM INFILE ${quoteString(file)} FORMAT RowBinary`, "TSV", settings);
    } finally {
      rmSync(file, { force: true });
    }
  }

  async close(): Promise<void> {
    if (!this.conn) return;
    this.conn.close();
    live.delete(this.conn);
    this.conn = undefined;
    release();
  }
}
