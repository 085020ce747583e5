/** Tasks rows, one per subtask (reference _save_task_subtasks, §3.6 step 2). */
import type { Task } from "../model";
import { toBytes } from "../text";

export interface TaskRow {
  task_id: number;
  subtask_id: number;
  task_repo: Uint8Array;
  task_owner: Uint8Array;
  task_changed: number;
  subtask_changed: number;
  subtask_deleted: number;
  subtask_userid: Uint8Array;
  subtask_dir: Uint8Array;
  subtask_package: Uint8Array;
  subtask_type: string;
  subtask_pkg_from: Uint8Array;
  subtask_sid: Uint8Array;
  subtask_tag_author: Uint8Array;
  subtask_tag_id: Uint8Array;
  subtask_tag_name: Uint8Array;
  subtask_srpm: Uint8Array;
  subtask_srpm_name: Uint8Array;
  subtask_srpm_evr: Uint8Array;
}

export function taskRows(task: Task): TaskRow[] {
  const s = task.state;
  return task.subtasks.map((sub) => ({
    task_id: s.taskId,
    subtask_id: sub.subtaskId,
    task_repo: toBytes(s.repo),
    task_owner: toBytes(s.owner),
    task_changed: s.changed,
    subtask_changed: sub.changed,
    subtask_deleted: sub.deleted,
    subtask_userid: toBytes(sub.userid),
    subtask_dir: toBytes(sub.dir),
    subtask_package: toBytes(sub.package),
    subtask_type: sub.type,
    subtask_pkg_from: toBytes(sub.pkgFrom),
    subtask_sid: toBytes(sub.sid),
    subtask_tag_author: toBytes(sub.tagAuthor),
    subtask_tag_id: toBytes(sub.tagId),
    subtask_tag_name: toBytes(sub.tagName),
    subtask_srpm: toBytes(sub.srpm),
    subtask_srpm_name: toBytes(sub.srpmName),
    subtask_srpm_evr: toBytes(sub.srpmEvr),
  }));
}
