/** Input and report of the girar task loader (CLI `task load`, daemon task.state/task.progress). */
import type { RowCounts } from "../../db";
import type { FailedItem } from "../context";

/** The Depends file back-fill after the task's packages: see src/loaders/task/save/backfill.ts. */
export type DependsBackfill = "task" | "full" | "off";

export interface TaskLoadInput {
  /** Task directory, e.g. /tasks/283337 or /archive/tasks/done/_276/283337. */
  path: string;
  /** Re-parse and re-insert every package of the task even if known. */
  force?: boolean;
  dryRun?: boolean;
  /** Derive TaskApprovals from acl/ files (CLI: yes; daemon: no, approvals come as messages). Default false. */
  storeApprovals?: boolean;
  /** Load logs of tasks in state NEW too (CLI: yes; daemon: no). Default false. */
  storeLogsForNew?: boolean;
  /** Depends back-fill scope (default "task": only names the task's packages touch). */
  dependsBackfill?: DependsBackfill;
  /** Package parser threads (default: config load.workers). */
  workers?: number;
}

export interface TaskLoadReport {
  taskId: number;
  state: string;
  path: string;
  /** True when every part of the task was loaded. */
  complete: boolean;
  dryRun: boolean;
  packages: { seen: number; known: number; parsed: number; failed: number };
  /** What could not be loaded, and why (the load is then incomplete). */
  skipped: FailedItem[];
  /** What was loaded after a correction (defaults, fixes of reference crashes). */
  warnings: FailedItem[];
  /** Rows written (dry run: rows that would be written), per table. */
  rows: RowCounts;
  /** Rows already in the database, not written again, per table. */
  present: RowCounts;
  /** Task logs: lines in the files and what was done with each. */
  logs: { path: string; lines: number; written: number; action: string }[];
  seconds: number;
}
