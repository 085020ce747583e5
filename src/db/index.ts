/** Public entry of the database layer. */
import type { Db } from "./types";
import { EmbeddedDb } from "./embedded";

export type { Db, Row, ColumnInfo, QueryOptions, InsertOptions, Settings } from "./types";
export { DbError } from "./errors";
export { BatchWriter, insertRows, dedupToken, type RowCounts, type TableSpec } from "./batch";
export { EncodedRows } from "./rowset";
export { RowWriter, compileLayout, compileType, type RowEncoder, type LayoutColumn } from "./rowbinary";
export { describeTable, insertLayout, tableEncoder } from "./layout";
export { quoteIdent, quoteString, quoteIntArray, quoteIntList, hexLiteral } from "./sql";

export interface EmbeddedConfig {
  driver: "embedded";
  database: string;
  path: string;
  libchdb?: string;
}

export interface HttpConfig {
  driver: "http";
  database: string;
  url: string;
  user: string;
  password: string;
  ca?: string;
  compression: boolean;
  requestTimeoutMs: number;
  maxRetries: number;
  /** Accept a server older than MIN_SERVER_VERSION (driver-level tests against Debian's 18.16 only). */
  allowOldServer?: boolean;
}

export type DbConfig = EmbeddedConfig | HttpConfig;

export async function openDb(config: DbConfig): Promise<Db> {
  if (config.driver === "embedded") return new EmbeddedDb({ path: config.path, database: config.database, libchdb: config.libchdb });
  const { HttpDb } = await import("./http");
  return HttpDb.connect(config);
}
