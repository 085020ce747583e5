/**
 * Idempotent writers for the task-event rows: a row already stored (same values) is not written
 * again, so a message delivered twice leaves the same rows. The DELETED state row goes straight
 * to TaskStates (not the Buffer table) so it is on disk when the message is acknowledged.
 */
import { hexLiteral, insertRows, quoteIdent, quoteIntArray, quoteString, type Db } from "../../../db";
import type { TaskStateRow } from "../rows/states";
import { deletedRow, type ApprovalRow, type ProgressRow, type SearchRow, type SubtaskProgressRow } from "./rows";

function literal(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "string") return quoteString(v);
  if (v instanceof Uint8Array) return hexLiteral(v);
  if (Array.isArray(v)) return quoteIntArray(v as (number | bigint)[]);
  throw new Error(`no SQL literal for ${typeof v}`);
}

async function exists(db: Db, table: string, row: Record<string, unknown>, keys: readonly string[]): Promise<boolean> {
  const where = keys.map((k) => `${quoteIdent(k)} = ${literal(row[k])}`).join(" AND ");
  const r = await db.query<{ n: number | bigint }>(`SELECT count() AS n FROM ${quoteIdent(table)} WHERE ${where}`);
  return Number(r[0]?.n ?? 0) > 0;
}

/** Inserts the rows that are not stored yet; returns how many were written. */
export async function insertNew(db: Db, table: string, rows: readonly Record<string, unknown>[], keys?: readonly string[]): Promise<number> {
  const fresh: Record<string, unknown>[] = [];
  for (const row of rows) if (!(await exists(db, table, row, keys ?? Object.keys(row)))) fresh.push(row);
  return insertRows(db, table, fresh);
}

export function writeApproval(db: Db, row: ApprovalRow): Promise<number> {
  return insertNew(db, "TaskApprovals", [row as unknown as Record<string, unknown>]);
}

/** Written unless the task's latest state is already DELETED. */
export async function writeDeleted(db: Db, taskId: number, changed: number): Promise<number> {
  const r = await db.query<{ s: string }>(`SELECT toString(argMax(task_state, task_changed)) AS s FROM TaskStates_buffer WHERE task_id = ${taskId}`);
  if (r[0]?.s === "DELETED") return 0;
  const row: TaskStateRow = deletedRow(taskId, changed);
  return insertRows(db, "TaskStates", [row as unknown as Record<string, unknown>]);
}

export function writeProgress(db: Db, rows: readonly ProgressRow[]): Promise<number> {
  return insertNew(db, "TaskProgress", rows as unknown as Record<string, unknown>[]);
}

export function writeSubtaskProgress(db: Db, rows: readonly SubtaskProgressRow[]): Promise<number> {
  return insertNew(db, "TaskSubtaskProgress", rows as unknown as Record<string, unknown>[]);
}

/**
 * Fields of a new search string that are empty (repo, owner, components: a task.state message for
 * a deleted task carries only the id and the state) keep the task's previous values.
 */
export function mergeSearch(prev: string, next: string): string {
  const p = prev.split("|");
  const n = next.split("|");
  if (p.length !== 5 || n.length !== 5) return next;
  for (const i of [0, 1, 2, 4]) if (n[i] === "") n[i] = p[i];
  return n.join("|");
}

/** Appended only when the task's latest search string differs (after mergeSearch). */
export async function writeSearch(db: Db, row: SearchRow): Promise<number> {
  const r = await db.query<{ s: string; n: number | bigint }>(`SELECT argMax(search_string, ts) AS s, count() AS n FROM GlobalSearch WHERE lead = ${quoteString(row.lead)} AND type = ${quoteString(row.type)}`);
  const prev = r[0] && Number(r[0].n) > 0 ? r[0].s : undefined;
  const search_string = prev === undefined ? row.search_string : mergeSearch(prev, row.search_string);
  if (prev === search_string) return 0;
  return insertRows(db, "GlobalSearch", [{ ...row, search_string }]);
}
