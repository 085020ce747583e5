/**
 * Streaming batched inserts into several tables.
 *
 * Rows are RowBinary-encoded as they arrive. When any table's batch passes the row or byte
 * limit, ALL tables are flushed, in the order they were declared. A loader that declares its
 * tables in dependency order (say Files, Packages, then PackageHash) therefore never has a
 * "completion" row in the database before the rows it vouches for.
 * `add` returns a promise: awaiting it is the backpressure.
 */
import { createHash } from "node:crypto";
import { rowDataChunks, type Db, type InsertOptions, type RowData } from "./types";
import { RowWriter, type RowEncoder } from "./rowbinary";
import { tableEncoder } from "./layout";

export interface BatchLimits {
  maxRows?: number;
  maxBytes?: number;
}

export interface TableSpec {
  table: string;
  /** Insert only these columns (default: every plain column of the table). */
  columns?: readonly string[];
}

interface Pending {
  spec: TableSpec;
  encoder: RowEncoder;
  /** Rows added one by one are encoded here. */
  writer: RowWriter;
  /** Encoded pieces waiting, in order (added ones are never copied). */
  chunks: Uint8Array[];
  bytes: number;
  rows: number;
}

export type RowCounts = Record<string, number>;

export class BatchWriter {
  readonly counts: RowCounts = {};
  private readonly tables = new Map<string, Pending>();
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private flushing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly db: Db,
    limits: BatchLimits,
    private readonly insertOptions: (table: string, data: RowData) => InsertOptions,
  ) {
    this.maxRows = limits.maxRows ?? 200_000;
    this.maxBytes = limits.maxBytes ?? 32 * 1024 * 1024;
  }

  /** Declares the tables (in flush order) and reads their layouts from the database. */
  static async open(db: Db, tables: readonly (string | TableSpec)[], limits: BatchLimits = {}): Promise<BatchWriter> {
    // the salt makes tokens unique per writer: a retry of a batch is recognised, but the same
    // rows sent again by a later run (after a delete, say) are not mistaken for a retry
    const salt = randomSalt();
    const w = new BatchWriter(db, limits, (table, data) => ({ dedupToken: dedupToken(table, data, salt) }));
    for (const t of tables) {
      const spec = typeof t === "string" ? { table: t } : t;
      const encoder = await tableEncoder(db, spec.table, spec.columns);
      w.tables.set(spec.table, { spec, encoder, writer: new RowWriter(), chunks: [], bytes: 0, rows: 0 });
      w.counts[spec.table] = 0;
    }
    return w;
  }

  /** The encoder of a declared table (workers encode with the same layout). */
  columnsOf(table: string): readonly string[] {
    return this.pending(table).encoder.columns;
  }

  private pending(table: string): Pending {
    const p = this.tables.get(table);
    if (!p) throw new Error(`BatchWriter: table ${table} was not declared`);
    return p;
  }

  /** Adds one row object. Resolves when the batch has room again. */
  add(table: string, row: object): Promise<void> | undefined {
    const p = this.pending(table);
    p.encoder.encode(p.writer, row as Record<string, unknown>);
    p.rows++;
    return this.maybeFlush(p);
  }

  /** Adds rows someone else encoded with this table's column layout; `data` is copied. */
  addEncoded(table: string, data: Uint8Array, rows: number): Promise<void> | undefined {
    const p = this.pending(table);
    p.writer.raw(data);
    p.rows += rows;
    return this.maybeFlush(p);
  }

  /**
   * Like addEncoded, but `data` is kept as it is until the flush, not copied: the caller gives it
   * up (the package store hands over whole worker replies this way).
   */
  addEncodedOwned(table: string, data: Uint8Array, rows: number): Promise<void> | undefined {
    const p = this.pending(table);
    this.settle(p);
    p.chunks.push(data);
    p.bytes += data.length;
    p.rows += rows;
    return this.maybeFlush(p);
  }

  /** Rows encoded by add() become a chunk, so that chunks keep the order rows came in. */
  private settle(p: Pending): void {
    if (p.writer.pos === 0) return;
    p.bytes += p.writer.pos;
    p.chunks.push(p.writer.detach());
  }

  private maybeFlush(p: Pending): Promise<void> | undefined {
    if (p.rows >= this.maxRows || p.bytes + p.writer.pos >= this.maxBytes) return this.flush();
    return undefined;
  }

  /** Called after each batch with its size and time (for debug logs and benchmarks). */
  onInsert?: (table: string, rows: number, bytes: number, ms: number) => void;

  /** Called after each table's batch is written (crash tests stop the process there). */
  afterTable?: (table: string) => void;

  /** Sends every pending batch, in declaration order. */
  flush(): Promise<void> {
    const batches: { p: Pending; data: Uint8Array[]; rows: number }[] = [];
    for (const p of this.tables.values()) {
      if (p.rows === 0) continue;
      this.settle(p);
      batches.push({ p, data: p.chunks, rows: p.rows });
      p.chunks = [];
      p.bytes = 0;
      p.rows = 0;
    }
    const run = async () => {
      for (const b of batches) {
        const t0 = performance.now();
        await this.db.insertRowBinary(b.p.spec.table, b.p.encoder.columns, b.data, this.insertOptions(b.p.spec.table, b.data));
        this.counts[b.p.spec.table] += b.rows;
        this.onInsert?.(b.p.spec.table, b.rows, b.data.length, performance.now() - t0);
        this.afterTable?.(b.p.spec.table);
      }
    };
    this.flushing = this.flushing.then(run);
    return this.flushing;
  }

  /** Rows waiting in memory, per table. */
  get pendingRows(): number {
    let n = 0;
    for (const p of this.tables.values()) n += p.rows;
    return n;
  }

  async close(): Promise<RowCounts> {
    await this.flush();
    return this.counts;
  }
}

/** A token for one batch: the same batch retried under the same salt is recognised by the server. */
export function dedupToken(table: string, data: RowData, salt: string): string {
  const h = createHash("sha256");
  for (const c of rowDataChunks(data)) h.update(c);
  return `${salt}:${table}:${h.digest("hex")}`;
}

function randomSalt(): string {
  return createHash("sha256").update(`${process.pid}:${Date.now()}:${Math.random()}`).digest("hex").slice(0, 16);
}

/** Inserts an array of row objects into one table in one batch. */
export async function insertRows(db: Db, table: string, rows: readonly object[], columns?: readonly string[]): Promise<number> {
  if (rows.length === 0) return 0;
  const enc = await tableEncoder(db, table, columns);
  const w = new RowWriter();
  for (const r of rows) enc.encode(w, r as Record<string, unknown>);
  const data = w.bytes();
  await db.insertRowBinary(table, enc.columns, data, { dedupToken: dedupToken(table, data, randomSalt()) });
  return rows.length;
}
