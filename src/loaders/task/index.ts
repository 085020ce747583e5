/**
 * The girar task loader (reference task_loader, repo-and-task-loaders.md §3).
 *
 * 1. Parse the task directory completely (nothing is written for a directory that is not a task).
 * 2. Packages of the iterations and arepo through the PackageStore (each parsed at most once).
 * 3. Depends file back-fill for the task's packages.
 * 4. TaskChroots, TaskIterations, TaskPlanPackages, TaskPlanPkgHash, TaskApprovals.
 * 5. TaskLogs, streamed.
 * 6. Tasks, then TaskStates — last, and only when nothing was skipped, so a visible state means
 *    the whole task is stored.
 *
 * Idempotency (no row is ever stored twice): every table is compared with what the database
 * holds for this task before writing — rows keyed by task_id + task_changed (Tasks, TaskStates,
 * TaskIterations), by plan hash (the plan tables), by chroot hash (TaskChroots), by the log
 * journal (TaskLogs), by digest (packages). Identical rows are skipped, rows whose sorting key
 * is stored with other values replace the stored ones. Reloading the same task writes nothing;
 * a new try/iteration or state writes exactly the rows that differ; a load killed at any point
 * is completed by running it again.
 */
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { insertRows, type RowCounts } from "../../db";
import type { LoadContext } from "../context";
import { throwIfAborted } from "../errors";
import { withLoadLock } from "../lock";
import { TaskFs } from "./fs";
import { hook } from "./hook";
import type { Task } from "./model";
import { parseTask } from "./parse";
import { approvalRowsFromDisk, approvalRowsToWrite, type TaskApprovalRow } from "./rows/approvals";
import { iterationRow, type TaskChrootRow, type TaskIterationRow } from "./rows/iterations";
import { planHashRows, planPackageRows } from "./rows/plan";
import { taskSearchRow } from "./rows/search";
import { taskStateRow } from "./rows/states";
import { writeSearch } from "./events/write";
import { taskRows } from "./rows/tasks";
import { backfillDepends } from "./save/backfill";
import { chrootKey, serverArrayHashes } from "./save/chroots";
import { saveLogs } from "./save/logs";
import { loadTaskPackages } from "./save/packages";
import { inList, KEYS, syncTables } from "./save/rows";
import { fsName, printable } from "./text";
import type { TaskLoadInput, TaskLoadReport } from "./types";

export type { TaskLoadInput, TaskLoadReport } from "./types";

function addCounts(into: RowCounts, from: RowCounts): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

async function latestApprovals(ctx: LoadContext, taskId: number): Promise<TaskApprovalRow[]> {
  const order = "(ts, tapp_date, tapp_revoked)";
  const rows = await ctx.db.query<{ s: number; t: string; r: number; d: number; n: string; m: string }>(
    `SELECT subtask_id AS s, toString(tapp_type) AS t, argMax(tapp_revoked, ${order}) AS r, toUInt32(argMax(tapp_date, ${order})) AS d,
            hex(tapp_name) AS n, hex(argMax(tapp_message, ${order})) AS m
     FROM TaskApprovals WHERE task_id = ${taskId} GROUP BY subtask_id, tapp_type, tapp_name`,
  );
  return rows.map((r) => ({
    task_id: taskId,
    subtask_id: Number(r.s),
    tapp_type: r.t as "approve" | "disapprove",
    tapp_revoked: Number(r.r),
    tapp_date: Number(r.d),
    tapp_name: Buffer.from(r.n, "hex"),
    tapp_message: Buffer.from(r.m, "hex"),
  }));
}

/**
 * Loads the task holding the lease on its id (src/loaders/lock.ts): a second load of the same
 * task, in any process on any host, waits for the first or fails with LoadLocked. A dry run, or
 * a directory without a readable task/id (the load then reports it), takes no lease.
 */
export async function loadTask(ctx: LoadContext, input: TaskLoadInput): Promise<TaskLoadReport> {
  const id = input.dryRun ? undefined : taskIdOf(input.path);
  if (id === undefined) return loadTaskHeld(ctx, input);
  return withLoadLock(ctx, `task ${id}`, (c) => loadTaskHeld(c, input), ctx.lock);
}

function taskIdOf(path: string): number | undefined {
  try {
    const file = join(path, "task", "id");
    if (!statSync(file).isFile()) return undefined;
    const id = Number(readFileSync(file, "utf8").trim());
    return Number.isSafeInteger(id) && id > 0 ? id : undefined;
  } catch {
    return undefined;
  }
}

async function loadTaskHeld(ctx: LoadContext, input: TaskLoadInput): Promise<TaskLoadReport> {
  const started = performance.now();
  const db = ctx.db;
  const dryRun = !!input.dryRun;
  const fs = new TaskFs(resolve(input.path.replace(/(.)\/+$/, "$1")));
  const log = ctx.log;

  const task: Task = await parseTask(fs, log);
  const s = task.state;
  const report: TaskLoadReport = {
    taskId: s.taskId,
    state: printable(s.state),
    path: fs.root,
    complete: false,
    dryRun,
    packages: { seen: 0, known: 0, parsed: 0, failed: 0 },
    skipped: [],
    warnings: [],
    rows: {},
    present: {},
    logs: [],
    seconds: 0,
  };
  log.info("task parsed", { task: s.taskId, state: report.state, try: s.try, iter: s.iter, subtasks: task.subtasks.length, iterations: task.iterations.length, logs: task.logs.length });
  throwIfAborted(ctx.signal);

  // packages
  const pk = await loadTaskPackages(ctx, task, fs, { force: !!input.force, dryRun, workers: input.workers ?? ctx.config.load.workers });
  report.packages = pk.stats;
  report.skipped.push(...pk.failures);
  report.warnings.push(...pk.warnings);
  addCounts(report.rows, pk.rows);
  for (const f of pk.failures) log.error("package not loaded", { task: s.taskId, file: f.path, error: f.error });
  if (!dryRun) await backfillDepends(db, input.dependsBackfill ?? "task", [...pk.hashes.values()]);
  await hook("packages");
  throwIfAborted(ctx.signal);

  // iterations and chroots
  const chrootHashes = await serverArrayHashes(
    db,
    task.iterations.flatMap((it) => [it.chrootBase, it.chrootBr]),
  );
  const chrootRows: TaskChrootRow[] = [];
  const iterationRows: TaskIterationRow[] = [];
  for (const it of task.iterations) {
    // an iteration with a package that could not be read is not written stripped of it (nor does
    // it replace a stored row): the next load after the file is fixed writes it whole
    const unread = [it.srpm, ...it.rpms].filter((f) => f && pk.failed.has(fsName(f)));
    if (unread.length) {
      log.warn("iteration row not written: a package could not be read", { task: s.taskId, subtask: it.subtaskId, arch: it.arch, files: unread.length });
      continue;
    }
    const chroot = (list: bigint[]) => {
      if (!list.length) return 0n;
      chrootRows.push({ tch_chroot: list });
      return chrootHashes.get(chrootKey(list))!;
    };
    const srcrpm = it.srpm ? (pk.hashes.get(fsName(it.srpm)) ?? 0n) : 0n;
    const pkgs = it.rpms.map((r) => pk.hashes.get(fsName(r))).filter((h): h is bigint => h !== undefined);
    iterationRows.push(iterationRow(task, it, { srcrpm, pkgs, chrootBase: chroot(it.chrootBase), chrootBr: chroot(it.chrootBr) }));
  }
  const planHashes = [...task.plan.hashes.values()];
  const sets = [
    { table: "TaskChroots", where: inList("tch_hash", [...new Set(chrootHashes.values())]), key: KEYS.TaskChroots, rows: chrootRows },
    { table: "TaskIterations", where: `task_id = ${s.taskId} AND task_changed = ${s.changed}`, key: KEYS.TaskIterations, rows: iterationRows },
    { table: "TaskPlanPackages", where: inList("tplan_hash", planHashes), key: KEYS.TaskPlanPackages, rows: planPackageRows(task.plan) },
    { table: "TaskPlanPkgHash", where: inList("tplan_hash", planHashes), key: KEYS.TaskPlanPkgHash, rows: planHashRows(task.plan) },
  ];
  await syncTables(db, sets, { dryRun, written: report.rows, present: report.present });

  // approvals (diffed against the latest rows, as the reference does)
  if (input.storeApprovals) {
    const disk = approvalRowsFromDisk(s.taskId, task.approvals);
    const inDb = await latestApprovals(ctx, s.taskId);
    const write = approvalRowsToWrite(disk, inDb, Math.floor(Date.now() / 1000));
    report.rows.TaskApprovals = (report.rows.TaskApprovals ?? 0) + write.length;
    report.present.TaskApprovals = (report.present.TaskApprovals ?? 0) + disk.length - write.filter((r) => r.tapp_revoked === 0).length;
    if (!dryRun) await insertRows(db, "TaskApprovals", write as unknown as Record<string, unknown>[]);
  }
  await hook("rows");
  throwIfAborted(ctx.signal);

  // logs
  if (s.state !== "NEW" || input.storeLogsForNew) {
    const logs = await saveLogs(ctx, task, fs, { dryRun });
    report.logs = logs.logs;
    report.rows.TaskLogs = (report.rows.TaskLogs ?? 0) + logs.rows;
  }
  await hook("states");
  throwIfAborted(ctx.signal);

  // Tasks, then TaskStates: the state row comes last, and only for a complete load, so a task
  // whose state is visible is completely loaded (a rerun once the files are fixed writes it)
  const where = `task_id = ${s.taskId} AND task_changed = ${s.changed}`;
  await syncTables(db, [{ table: "Tasks", where, key: KEYS.Tasks, rows: taskRows(task) }], { dryRun, written: report.rows, present: report.present });
  report.skipped.push(...fs.problems);
  report.warnings.push(...fs.warnings);
  report.complete = report.skipped.length === 0;
  if (report.complete) {
    await syncTables(db, [{ table: "TaskStates", where, key: KEYS.TaskStates, rows: [taskStateRow(task)] }], { dryRun, written: report.rows, present: report.present });
    // the API's task search (GlobalSearch): a new row when the state (or owner, components) changed
    const n = dryRun ? 0 : await writeSearch(db, taskSearchRow(task));
    if (n) report.rows.GlobalSearch = (report.rows.GlobalSearch ?? 0) + n;
  } else log.warn("state not written: the load is incomplete", { task: s.taskId, skipped: report.skipped.length });

  for (const p of fs.problems) log.warn("skipped", { task: s.taskId, file: p.path, reason: p.error });
  for (const w of fs.warnings) log.debug("corrected", { task: s.taskId, file: w.path, note: w.error });
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
