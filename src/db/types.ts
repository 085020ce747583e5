/** The one database interface every loader, the daemon and the CLI use. */

export type Row = Record<string, unknown>;

/** Encoded rows: one buffer or several, concatenated on the way (never copied into one). */
export type RowData = Uint8Array | readonly Uint8Array[];

export function rowDataChunks(data: RowData): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}

export function rowDataLength(data: RowData): number {
  let n = 0;
  for (const c of rowDataChunks(data)) n += c.length;
  return n;
}
export type Settings = Record<string, string | number | boolean>;

export interface QueryOptions {
  settings?: Settings;
}

export interface InsertOptions {
  settings?: Settings;
  /** Same token for a retried batch: the server drops the second copy. */
  dedupToken?: string;
}

/** A column as `DESCRIBE TABLE` reports it. */
export interface ColumnInfo {
  name: string;
  type: string;
  /** "", "DEFAULT", "MATERIALIZED", "ALIAS", "EPHEMERAL" */
  defaultKind: string;
}

export interface Db {
  readonly kind: "embedded" | "http";
  /** Database every unqualified name refers to. */
  readonly database: string;
  /** Rows as objects; 64-bit and wider integers come back as bigint. */
  query<T = Row>(sql: string, opts?: QueryOptions): Promise<T[]>;
  /** The server's own output in `format` (TSV, JSONEachRow, Pretty, …), for the `sql` command. */
  queryRaw(sql: string, format: string, opts?: QueryOptions): Promise<Uint8Array>;
  /** A statement without a result (DDL, INSERT … SELECT, SET, OPTIMIZE). */
  command(sql: string, opts?: QueryOptions): Promise<void>;
  /** Sends RowBinary-encoded rows for `columns` of `table` (one buffer, or chunks sent back to back). */
  insertRowBinary(table: string, columns: readonly string[], data: RowData, opts?: InsertOptions): Promise<void>;
  close(): Promise<void>;
}
