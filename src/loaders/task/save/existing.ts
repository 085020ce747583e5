/**
 * "Is this row already in the database?" for the task tables, by row fingerprint.
 *
 * A row's fingerprint is murmurHash3_64 of its RowBinary encoding: the client hashes the bytes
 * it would send, the server hashes `formatRow('RowBinary', <columns>)` of the stored rows, so
 * both sides agree byte for byte (strings with invalid UTF-8 included). Rows whose fingerprint
 * is stored are not written again; a row whose sorting key is stored with other values (the
 * ReplacingMergeTree would keep only one of them) replaces the stored one: it is deleted first.
 */
import { compileLayout, insertLayout, quoteIdent, quoteIntList, RowWriter, type Db, type RowEncoder } from "../../../db";
import { mmhash } from "../../../hash";

export interface RowSet<R> {
  table: string;
  /** SQL condition selecting the stored rows these rows can collide with (uses the table's index). */
  where: string;
  /** The table's sorting key columns (ReplacingMergeTree ORDER BY). */
  key: readonly string[];
  rows: R[];
}

export interface RowDiff<R> {
  /** Rows not stored yet (each distinct row once). */
  write: R[];
  /** Key fingerprints of stored rows to delete before writing (same key, other values). */
  replace: bigint[];
  /** Rows already stored. */
  present: number;
}

interface Encoders {
  full: RowEncoder;
  key: RowEncoder;
}

const encoders = new WeakMap<Db, Map<string, Promise<Encoders>>>();

async function encodersFor(db: Db, table: string, key: readonly string[]): Promise<Encoders> {
  let perDb = encoders.get(db);
  if (!perDb) encoders.set(db, (perDb = new Map()));
  const id = `${table}:${key.join(",")}`;
  let e = perDb.get(id);
  if (!e) {
    e = (async () => ({ full: compileLayout(table, await insertLayout(db, table)), key: compileLayout(table, await insertLayout(db, table, key)) }))();
    perDb.set(id, e);
  }
  return e;
}

export function fingerprint(enc: RowEncoder, row: object): bigint {
  const w = new RowWriter(256);
  enc.encode(w, row as Record<string, unknown>);
  return mmhash(w.bytes());
}

function formatRow(columns: readonly string[]): string {
  return `murmurHash3_64(formatRow('RowBinary', ${columns.map(quoteIdent).join(", ")}))`;
}

export async function diffRows<R extends object>(db: Db, set: RowSet<R>): Promise<RowDiff<R>> {
  if (set.rows.length === 0) return { write: [], replace: [], present: 0 };
  const enc = await encodersFor(db, set.table, set.key);
  const stored = await db.query<{ f: bigint; k: bigint }>(
    `SELECT ${formatRow(enc.full.columns)} AS f, ${formatRow(enc.key.columns)} AS k FROM ${quoteIdent(set.table)} WHERE ${set.where}`,
  );
  const storedRows = new Set(stored.map((r) => r.f));
  const storedKeys = new Set(stored.map((r) => r.k));
  const seen = new Set<bigint>();
  const write: R[] = [];
  const replace = new Set<bigint>();
  let present = 0;
  for (const row of set.rows) {
    const f = fingerprint(enc.full, row);
    if (storedRows.has(f)) {
      present++;
      continue;
    }
    if (seen.has(f)) continue;
    seen.add(f);
    write.push(row);
    const k = fingerprint(enc.key, row);
    if (storedKeys.has(k)) replace.add(k);
  }
  return { write, replace: [...replace], present };
}

/** Deletes the stored rows (within `where`) whose key fingerprint is listed. */
export async function deleteByKey(db: Db, table: string, where: string, key: readonly string[], keys: readonly bigint[]): Promise<void> {
  if (keys.length === 0) return;
  const enc = await encodersFor(db, table, key);
  await db.command(`DELETE FROM ${quoteIdent(table)} WHERE (${where}) AND ${formatRow(enc.key.columns)} IN ${quoteIntList(keys)}`);
}
