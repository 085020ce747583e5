/**
 * task_cleaner (reference bin/task_cleaner, repo-and-task-loaders.md §3.10): tasks whose latest
 * state in TaskStates is neither DONE nor DELETED are looked up under TASKS_DIR/<id>. A task
 * directory that is gone gets a DELETED state row; a task whose task/state differs from the DB
 * is reported as an "unclear state" (the reference appended those lines to
 * ./unclear_state_tasks.log; we return them, the CLI prints them).
 *
 * Differences: rows go to TaskStates directly (no Buffer table, so no OPTIMIZE), and a TASKS_DIR
 * that is empty is refused — an unmounted tasks directory would otherwise mark every open task
 * as deleted.
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { insertRows } from "../../../db";
import type { LoadContext } from "../../context";
import { InputError } from "../../errors";
import { TaskFs } from "../fs";
import { writeSearch } from "../events/write";
import { deletedStateRow, type TaskStateRow } from "../rows/states";
import { printable } from "../text";

export const CLEANER_MESSAGE = "task found as deleted by task_cleaner";

export interface TaskCleanInput {
  /** The live girar tasks root, e.g. /tasks. */
  tasksDir: string;
  /** Only this task. */
  taskId?: number;
  dryRun?: boolean;
}

export interface UnclearTask {
  taskId: number;
  db: string;
  fs: string;
}

export interface TaskCleanReport {
  tasksDir: string;
  dryRun: boolean;
  /** Open tasks (latest state not DONE/DELETED) that were checked. */
  checked: number;
  /** Tasks found deleted (a DELETED row was written, or would be in a dry run). */
  deleted: number[];
  unclear: UnclearTask[];
  /** The task given with taskId is not an open task in the DB. */
  notOpen?: number;
  rows: number;
  seconds: number;
}

export async function cleanTasks(ctx: LoadContext, input: TaskCleanInput): Promise<TaskCleanReport> {
  const started = performance.now();
  const tasksDir = resolve(input.tasksDir);
  let entries: string[];
  try {
    if (!statSync(tasksDir).isDirectory()) throw new InputError("not a directory", tasksDir);
    entries = readdirSync(tasksDir);
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read the tasks directory: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, tasksDir);
  }
  const report: TaskCleanReport = { tasksDir, dryRun: !!input.dryRun, checked: 0, deleted: [], unclear: [], rows: 0, seconds: 0 };
  const filter = input.taskId !== undefined ? `WHERE task_id = ${Math.trunc(input.taskId)}` : "";
  const open = await ctx.db.query<{ id: number; state: string }>(
    `SELECT task_id AS id, state FROM (SELECT task_id, argMax(task_state, task_changed) AS state FROM TaskStates ${filter} GROUP BY task_id)
     WHERE state NOT IN ('DONE', 'DELETED') ORDER BY task_id`,
  );
  if (input.taskId !== undefined && open.length === 0) {
    ctx.log.info("task is not open in the database (no state, or DONE/DELETED): nothing to do", { task: input.taskId });
    report.notOpen = input.taskId;
  }
  if (open.length > 0 && entries.length === 0) throw new InputError("the tasks directory is empty (not mounted?): refusing to mark every open task as deleted", tasksDir);

  const now = Math.floor(Date.now() / 1000);
  const rows: TaskStateRow[] = [];
  for (const t of open) {
    const id = Number(t.id);
    report.checked++;
    const dir = join(tasksDir, String(id));
    let isDir = false;
    try {
      isDir = statSync(dir).isDirectory();
    } catch {
      isDir = false;
    }
    if (!isDir) {
      rows.push(deletedStateRow(id, now, CLEANER_MESSAGE));
      report.deleted.push(id);
      ctx.log.info("task directory is gone: state DELETED", { task: id, db: t.state });
      continue;
    }
    const fsState = printable(new TaskFs(dir).text("task/state"));
    if (fsState !== t.state) report.unclear.push({ taskId: id, db: t.state, fs: fsState });
  }
  if (!input.dryRun) {
    report.rows = await insertRows(ctx.db, "TaskStates", rows as unknown as Record<string, unknown>[]);
    // GlobalSearch: the task's last search string with the state DELETED (the API hides those)
    for (const id of report.deleted) await writeSearch(ctx.db, { lead: String(id), type: "task", search_string: "|||DELETED|" });
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** The reference's line format for unclear tasks: `<id>\t@DB\t<db>\t@FS\t<fs>`. */
export function unclearLine(u: UnclearTask): string {
  return `${u.taskId}\t@DB\t${u.db}\t@FS\t${u.fs}`;
}
