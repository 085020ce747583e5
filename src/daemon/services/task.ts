/**
 * task: girar's task events (reference feeds-images-daemon.md §3.7, repo-and-task-loaders.md §3.12).
 *
 *   task.state      TaskProgress/TaskSubtaskProgress/GlobalSearch rows (progress_tables); then
 *                   state in load_states → loadTask on the task directory; "deleted" → a DELETED
 *                   TaskStates row; "eperm" → nothing more (girar sends it before the hashes
 *                   exist; the build-task progress message loads the task); other states → done.
 *   task.progress   progress rows; stage "build-task" with state eperm and stage_status
 *                   processed/failed → loadTask (the reference meant to check stage_status but
 *                   did not).
 *   task.subtask.approve / .disapprove → one TaskApprovals row (whatever the task state: the
 *                   reference dropped approvals of tasks in non-final states).
 *
 * The task directory is <task_dirs.tasks>/<id>, else <task_dirs.archive>/_<id/1024>/<id> (the
 * reference looked in the archive for DONE tasks only); none of them → refused (dead-lettered).
 */
import * as v from "valibot";
import { InputError } from "../../loaders/errors";
import { loadTask } from "../../loaders/task";
import {
  approvalRow,
  eventTime,
  findTaskDir,
  searchRow,
  stageProgressRow,
  stateProgressRow,
  subtaskProgressRow,
  subtaskRows,
  taskDirCandidates,
  TaskApprovalEvent,
  TaskProgressEvent,
  TaskStateEvent,
  writeApproval,
  writeDeleted,
  writeProgress,
  writeSearch,
  writeSubtaskProgress,
} from "../../loaders/task/events";
import type { RowCounts } from "../../db";
import type { HandleResult, ServiceContext, ServiceModule } from "../types";
import { fireTriggers } from "../../triggers";

export const TASK_KEYS = {
  state: "task.state",
  progress: "task.progress",
  approve: "task.subtask.approve",
  disapprove: "task.subtask.disapprove",
} as const;

const Options = v.strictObject({
  /** States whose task.state message loads the task directory. */
  load_states: v.optional(v.array(v.pipe(v.string(), v.regex(/^[a-z]+$/, "a lower-case state name"))), ["done", "eperm", "failed", "new", "tested"]),
  /** Write TaskProgress, TaskSubtaskProgress and GlobalSearch rows. */
  progress_tables: v.optional(v.boolean(), true),
});
type Opts = v.InferOutput<typeof Options>;

type Payload = TaskStateEvent | TaskProgressEvent | TaskApprovalEvent;

function add(into: RowCounts, table: string, n: number): void {
  if (n) into[table] = (into[table] ?? 0) + n;
}

async function load(ctx: ServiceContext<Opts>, taskId: number, rows: RowCounts, why: string): Promise<HandleResult> {
  const path = findTaskDir(ctx.config.taskDirs, taskId);
  if (!path) throw new InputError(`task ${taskId} has no directory (looked in ${taskDirCandidates(ctx.config.taskDirs, taskId).join(" and ")})`);
  const lc = { db: ctx.db, config: ctx.config, log: ctx.log, signal: ctx.signal };
  const report = await loadTask(lc, { path, storeApprovals: false, storeLogsForNew: false });
  for (const [t, n] of Object.entries(report.rows)) add(rows, t, n);
  const p = report.packages;
  const summary = `task ${report.taskId} ${report.state} (${why}) from ${path}: ${p.seen} packages, ${p.parsed} parsed, ${p.failed} failed in ${report.seconds.toFixed(1)} s`;
  if (!report.complete) {
    void fireTriggers(lc, "task.load", report, { failed: true });
    const first = report.skipped.slice(0, 3).map((f) => `${f.path}: ${f.error}`).join("; ");
    throw new Error(`task ${report.taskId} loaded incompletely: ${report.skipped.length} item(s) skipped (${first})`);
  }
  return { summary, rows, after: () => void fireTriggers(lc, "task.load", report) };
}

async function onState(ctx: ServiceContext<Opts>, ev: TaskStateEvent, publishedAt?: Date): Promise<HandleResult> {
  const changed = eventTime(ev, publishedAt);
  const rows: RowCounts = {};
  if (ctx.options.progress_tables) {
    add(rows, "TaskProgress", await writeProgress(ctx.db, [stateProgressRow(ev, changed)]));
    add(rows, "TaskSubtaskProgress", await writeSubtaskProgress(ctx.db, subtaskRows(ev, changed)));
    add(rows, "GlobalSearch", await writeSearch(ctx.db, searchRow(ev)));
  }
  if (ev.state === "deleted") {
    add(rows, "TaskStates", await writeDeleted(ctx.db, ev.taskid, changed));
    return { summary: `task ${ev.taskid} deleted`, rows };
  }
  if (ev.state === "eperm") return { summary: `task ${ev.taskid} eperm: loaded by its build-task progress message`, rows, skipped: true };
  if (ctx.options.load_states.includes(ev.state)) return load(ctx, ev.taskid, rows, `state ${ev.state}`);
  return { summary: `task ${ev.taskid} ${ev.state}: no load for this state`, rows, skipped: !Object.keys(rows).length };
}

async function onProgress(ctx: ServiceContext<Opts>, ev: TaskProgressEvent, publishedAt?: Date): Promise<HandleResult> {
  const changed = eventTime(ev, publishedAt);
  const rows: RowCounts = {};
  if (ctx.options.progress_tables) {
    add(rows, "TaskProgress", await writeProgress(ctx.db, [stageProgressRow(ev, changed)]));
    const sub = subtaskProgressRow(ev, changed);
    if (sub) add(rows, "TaskSubtaskProgress", await writeSubtaskProgress(ctx.db, [sub]));
  }
  const finished = ev.stage_status === "processed" || ev.stage_status === "failed";
  if (ev.stage === "build-task" && ev.state === "eperm" && finished && ctx.options.load_states.includes("eperm")) {
    return load(ctx, ev.taskid, rows, `build-task ${ev.stage_status}`);
  }
  return { summary: `task ${ev.taskid} progress ${ev.stage || "-"} ${ev.stage_status || "-"}`, rows, skipped: !Object.keys(rows).length };
}

async function onApproval(ctx: ServiceContext<Opts>, ev: TaskApprovalEvent, type: "approve" | "disapprove"): Promise<HandleResult> {
  const row = approvalRow(ev, type);
  const n = await writeApproval(ctx.db, row);
  const what = row.tapp_revoked ? `${type} revoked` : type;
  return { summary: `task ${row.task_id} subtask ${row.subtask_id}: ${what} by ${row.tapp_name}${n ? "" : " (already stored)"}`, rows: n ? { TaskApprovals: n } : {}, skipped: n === 0 };
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Girar's approval date line format, UTC: 2026-Nov-20 12:34:56. */
export function girarDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}-${MONTHS[d.getUTCMonth()]}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function wholeNumber(s: string | undefined, what: string): number {
  if (s === undefined || !/^\d+$/.test(s)) throw new Error(`${what} must be a whole number, got ${JSON.stringify(s ?? "")}`);
  return Number(s);
}

function approvalVerb(type: "approve" | "disapprove") {
  return {
    name: `task-${type}`,
    usage: "<task-id> <subtask-id> <user> [message…]",
    description: `A task.subtask.${type} message (as girar sends when <user> ${type}s a subtask)`,
    build(args: readonly string[]) {
      if (args.length < 3) throw new Error(`task-${type} takes <task-id> <subtask-id> <user> [message…]`);
      const now = new Date();
      const text = `${girarDate(now)} :: ${type}d by ${args[2]}\n${args.slice(3).join(" ")}`.trimEnd();
      const key = type === "approve" ? TASK_KEYS.approve : TASK_KEYS.disapprove;
      return {
        routingKey: key,
        payload: {
          taskid: wholeNumber(args[0], "task id"),
          subtaskid: wholeNumber(args[1], "subtask id"),
          girar_user: args[2],
          base64_message: Buffer.from(text + "\n").toString("base64"),
          _timestamp: now.getTime() / 1000,
          _routing_key: key,
        },
      };
    },
  };
}

export const task: ServiceModule<Payload, Opts> = {
  name: "task",
  description: "Girar task events: loads tasks, writes approvals, task states and progress",
  defaults: { queue: "task-loader-q", exchange: "girar-ex", routingKeys: [TASK_KEYS.state, TASK_KEYS.progress, TASK_KEYS.approve, TASK_KEYS.disapprove] },
  schema(key) {
    if (key === TASK_KEYS.state) return TaskStateEvent;
    if (key === TASK_KEYS.progress) return TaskProgressEvent;
    if (key === TASK_KEYS.approve || key === TASK_KEYS.disapprove) return TaskApprovalEvent;
    return undefined;
  },
  options: Options,
  // every message of a task (state, progress, approvals) waits for the one running: TESTED and
  // DONE arriving together must not load the task twice at once
  key: (msg) => `task ${msg.payload.taskid}`,
  handle(ctx, msg) {
    switch (msg.routingKey) {
      case TASK_KEYS.state:
        return onState(ctx, msg.payload as TaskStateEvent, msg.publishedAt);
      case TASK_KEYS.progress:
        return onProgress(ctx, msg.payload as TaskProgressEvent, msg.publishedAt);
      case TASK_KEYS.approve:
        return onApproval(ctx, msg.payload as TaskApprovalEvent, "approve");
      case TASK_KEYS.disapprove:
        return onApproval(ctx, msg.payload as TaskApprovalEvent, "disapprove");
      default:
        throw new InputError(`unexpected routing key ${msg.routingKey}`);
    }
  },
  fire: [
    {
      name: "task",
      usage: "<task-id> <state>",
      description: "A task.state message (done, failed, new, tested, eperm, deleted, …)",
      build(args) {
        if (args.length !== 2) throw new Error("task takes <task-id> <state>");
        return { routingKey: TASK_KEYS.state, payload: { taskid: wholeNumber(args[0], "task id"), state: args[1].toUpperCase(), _timestamp: Date.now() / 1000 } };
      },
    },
    {
      name: "task-progress",
      usage: "<task-id> <stage> <stage-status> [state]",
      description: "A task.progress message (e.g. 412345 build-task processed eperm)",
      build(args) {
        if (args.length < 3 || args.length > 4) throw new Error("task-progress takes <task-id> <stage> <stage-status> [state]");
        return {
          routingKey: TASK_KEYS.progress,
          payload: { taskid: wholeNumber(args[0], "task id"), stage: args[1], stage_status: args[2], ...(args[3] ? { state: args[3].toUpperCase() } : {}), _timestamp: Date.now() / 1000 },
        };
      },
    },
    approvalVerb("approve"),
    approvalVerb("disapprove"),
    {
      name: "task-revoke",
      usage: "<task-id> <subtask-id> <user> approve|disapprove",
      description: "Revoke an approval or disapproval of <user>",
      build(args) {
        if (args.length !== 4 || (args[3] !== "approve" && args[3] !== "disapprove")) throw new Error("task-revoke takes <task-id> <subtask-id> <user> approve|disapprove");
        const key = args[3] === "approve" ? TASK_KEYS.approve : TASK_KEYS.disapprove;
        return {
          routingKey: key,
          payload: { taskid: wholeNumber(args[0], "task id"), subtaskid: wholeNumber(args[1], "subtask id"), girar_user: args[2], revoke: true, _timestamp: Date.now() / 1000, _routing_key: key },
        };
      },
    },
  ],
};
