/** Input and report of the girar task loader (CLI `task load`, daemon task.state/task.progress). */
import type { RowCounts } from "../../db";
import type { FailedItem } from "../repo/types";

export interface TaskLoadInput {
  /** Task directory, e.g. /tasks/283337 or /archive/tasks/done/_276/283337. */
  path: string;
  /** Re-parse and re-insert every package of the task even if known. */
  force?: boolean;
  dryRun?: boolean;
  /** Derive TaskApprovals from acl/ files (CLI: yes; daemon: no, approvals come as messages). */
  storeApprovals?: boolean;
  /** Load logs of tasks in state NEW too (CLI: yes; daemon: no). */
  storeLogsForNew?: boolean;
}

export interface TaskLoadReport {
  taskId: number;
  state: string;
  path: string;
  /** True when every part of the task was loaded. */
  complete: boolean;
  dryRun: boolean;
  packages: { seen: number; known: number; parsed: number; failed: number };
  skipped: FailedItem[];
  rows: RowCounts;
  seconds: number;
}
