/**
 * The task-level rows (everything but packages and logs), each table diffed against what the
 * database already holds for this task state (see existing.ts), then written in dependency
 * order. TaskStates is written last of all, so a task whose state row is visible has all its
 * other rows in the database too.
 */
import { BatchWriter, quoteIntList, type Db, type RowCounts } from "../../../db";
import { deleteByKey, diffRows, type RowSet } from "./existing";

export const KEYS = {
  TaskChroots: ["tch_chroot"],
  TaskIterations: ["task_id", "subtask_id", "subtask_arch", "task_changed", "titer_ts", "titer_status", "task_try", "task_iter"],
  TaskPlanPackages: ["tplan_hash", "tplan_action", "tplan_src_file", "tplan_bin_file"],
  TaskPlanPkgHash: ["tplan_hash", "tplan_action", "tplan_sha256"],
  Tasks: ["task_id", "subtask_id", "task_changed", "subtask_changed", "subtask_deleted"],
  TaskStates: ["task_changed", "task_id", "task_state", "task_try"],
} as const;

export function inList(column: string, values: readonly bigint[]): string {
  return values.length ? `${column} IN ${quoteIntList(values)}` : "0";
}

/** Diffs each set, deletes replaced rows, writes the rest; in the given order. */
export async function syncTables(db: Db, sets: RowSet<object>[], opts: { dryRun: boolean; written: RowCounts; present: RowCounts }): Promise<void> {
  const diffs = [];
  for (const set of sets) diffs.push({ set, diff: await diffRows(db, set) });
  for (const { set, diff } of diffs) {
    opts.present[set.table] = (opts.present[set.table] ?? 0) + diff.present;
    opts.written[set.table] = (opts.written[set.table] ?? 0) + diff.write.length;
  }
  if (opts.dryRun) return;
  const tables = diffs.filter((d) => d.diff.write.length).map((d) => d.set.table);
  if (tables.length === 0) return;
  const writer = await BatchWriter.open(db, [...new Set(tables)]);
  for (const { set, diff } of diffs) {
    await deleteByKey(db, set.table, set.where, set.key, diff.replace);
    for (const r of diff.write) await writer.add(set.table, r as Record<string, unknown>);
  }
  await writer.close();
}
