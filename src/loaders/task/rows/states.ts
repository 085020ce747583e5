/** TaskStates row (reference _save_task state, §3.6 step 1). */
import type { Task } from "../model";
import { toBytes } from "../text";

export interface TaskStateRow {
  task_changed: number;
  task_id: number;
  task_state: Uint8Array;
  task_runby: Uint8Array;
  task_depends: number[];
  task_try: number;
  task_testonly: number;
  task_failearly: number;
  task_shared: number;
  task_message: Uint8Array;
  task_version: Uint8Array;
  task_prev: number;
  task_eventlog_hash: bigint[];
}

export function taskStateRow(task: Task): TaskStateRow {
  const s = task.state;
  return {
    task_changed: s.changed,
    task_id: s.taskId,
    task_state: toBytes(s.state),
    task_runby: toBytes(s.runby),
    task_depends: s.depends,
    task_try: s.try,
    task_testonly: s.testonly,
    task_failearly: s.failearly,
    task_shared: s.shared,
    task_message: toBytes(s.message),
    task_version: toBytes(s.version),
    task_prev: s.prev,
    task_eventlog_hash: task.logs.filter((l) => l.type === "events").map((l) => l.hash),
  };
}

/** The row task_cleaner and the daemon write for a task that no longer exists. */
export function deletedStateRow(taskId: number, changed: number, message: string): TaskStateRow {
  const empty = new Uint8Array(0);
  return {
    task_changed: changed,
    task_id: taskId,
    task_state: toBytes("DELETED"),
    task_runby: empty,
    task_depends: [],
    task_try: 0,
    task_testonly: 0,
    task_failearly: 0,
    task_shared: 0,
    task_message: Buffer.from(message, "utf8"),
    task_version: empty,
    task_prev: 0,
    task_eventlog_hash: [],
  };
}
