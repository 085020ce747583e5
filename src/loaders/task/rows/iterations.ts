/** TaskIterations and TaskChroots rows (reference titer_load_worker_pool, §3.6 step 3). */
import type { Task, TaskIteration } from "../model";
import { toBytes } from "../text";

export interface TaskIterationRow {
  task_id: number;
  task_changed: number;
  subtask_id: number;
  subtask_arch: Uint8Array;
  titer_ts: number;
  titer_status: Uint8Array;
  task_try: number;
  task_iter: number;
  titer_srcrpm_hash: bigint;
  titer_pkgs_hash: bigint[];
  titer_chroot_base: bigint;
  titer_chroot_br: bigint;
  titer_buildlog_hash: bigint;
  titer_srpmlog_hash: bigint;
}

export interface TaskChrootRow {
  tch_chroot: bigint[];
}

export interface IterationHashes {
  /** pkg_hash of the iteration's srpm, 0 without one. */
  srcrpm: bigint;
  /** pkg_hash of each binary that could be loaded, in order. */
  pkgs: bigint[];
  /** murmurHash3_64 of the chroot arrays, computed by the server; 0 for an empty chroot. */
  chrootBase: bigint;
  chrootBr: bigint;
}

export function iterationRow(task: Task, it: TaskIteration, h: IterationHashes): TaskIterationRow {
  const log = (type: "build" | "srpm") => task.logs.find((l) => l.type === type && l.subtaskId === it.subtaskId && l.arch === it.arch)?.hash ?? 0n;
  return {
    task_id: task.state.taskId,
    task_changed: task.state.changed,
    subtask_id: it.subtaskId,
    subtask_arch: Buffer.from(it.arch, "utf8"),
    titer_ts: it.ts,
    titer_status: toBytes(it.status),
    task_try: task.state.try,
    task_iter: task.state.iter,
    titer_srcrpm_hash: h.srcrpm,
    // the reference stores [0] for an iteration without binaries
    titer_pkgs_hash: h.pkgs.length ? h.pkgs : [0n],
    titer_chroot_base: h.chrootBase,
    titer_chroot_br: h.chrootBr,
    titer_buildlog_hash: log("build"),
    titer_srpmlog_hash: log("srpm"),
  };
}
