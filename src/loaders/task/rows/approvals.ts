/**
 * TaskApprovals rows: the file-system approvals diffed against the database (reference
 * _save_task_approvals, §3.6 step 6). The latest DB row per (subtask, type, approver) that is
 * not revoked and no longer on disk is written again as revoked (date = now); disk approvals not
 * equal to their latest DB row are written. Differences from the reference: the latest row is
 * taken per (subtask, type, approver) — the reference grouped by (subtask, approver), so a user
 * who both approved and disapproved a subtask had one of the two re-inserted on every load —,
 * ties on the insert time are broken by date and revocation, and dates are compared as UTC
 * epochs (the reference converted "local → UTC" and re-inserted everything when the loader
 * host's timezone differed from the server's).
 */
import type { TaskApproval } from "../model";
import { toBytes } from "../text";

export interface TaskApprovalRow {
  task_id: number;
  subtask_id: number;
  tapp_type: "approve" | "disapprove";
  tapp_revoked: number;
  tapp_date: number;
  tapp_name: Uint8Array;
  tapp_message: Uint8Array;
}

const key = (r: TaskApprovalRow, revoked = r.tapp_revoked): string =>
  [r.task_id, r.subtask_id, r.tapp_type, revoked, r.tapp_date, Buffer.from(r.tapp_name).toString("hex"), Buffer.from(r.tapp_message).toString("hex")].join("|");

export function approvalRowsFromDisk(taskId: number, approvals: TaskApproval[]): TaskApprovalRow[] {
  return approvals.map((a) => ({
    task_id: taskId,
    subtask_id: a.subtaskId,
    tapp_type: a.type,
    tapp_revoked: 0,
    tapp_date: a.date,
    tapp_name: toBytes(a.name),
    tapp_message: toBytes(a.message),
  }));
}

/** Rows to insert, given the disk approvals and the latest DB row per (subtask, type, approver). */
export function approvalRowsToWrite(disk: TaskApprovalRow[], latestInDb: TaskApprovalRow[], now: number): TaskApprovalRow[] {
  const diskKeys = new Set(disk.map((r) => key(r, -1)));
  const dbKeys = new Set(latestInDb.map((r) => key(r)));
  const revocations = latestInDb.filter((r) => r.tapp_revoked === 0 && !diskKeys.has(key(r, -1))).map((r) => ({ ...r, tapp_revoked: 1, tapp_date: now }));
  return [...disk, ...revocations].filter((r) => !dbKeys.has(key(r)));
}
