/**
 * Rows from girar task events: TaskApprovals (approve/disapprove messages, reference §3.12),
 * the DELETED TaskStates row, and the newer TaskProgress / TaskSubtaskProgress / GlobalSearch
 * logs (schema-newer-tables.md §2.1–2.3). Plain functions, no I/O.
 */
import { InputError } from "../../errors";
import { parseApprovalText } from "../parse/approvals";
import { deletedStateRow, type TaskStateRow } from "../rows/states";
import type { SubtaskInfo, TaskApprovalEvent, TaskProgressEvent, TaskStateEvent } from "./schema";

/** When the event happened: its _timestamp, else the AMQP timestamp, else now (whole seconds). */
export function eventTime(ev: { _timestamp?: number }, publishedAt?: Date, now = new Date()): number {
  if (ev._timestamp !== undefined) return Math.floor(ev._timestamp);
  return Math.floor((publishedAt ?? now).getTime() / 1000);
}

export interface ApprovalRow {
  task_id: number;
  subtask_id: number;
  tapp_type: "approve" | "disapprove";
  tapp_revoked: number;
  tapp_date: number;
  tapp_name: string;
  tapp_message: string;
}

export function approvalRow(ev: TaskApprovalEvent, type: "approve" | "disapprove"): ApprovalRow {
  const base = { task_id: ev.taskid, subtask_id: ev.subtaskid, tapp_type: type };
  if (ev.revoke || ev.revoked) {
    return { ...base, tapp_revoked: 1, tapp_date: Math.floor(ev._timestamp!), tapp_name: ev.girar_user!, tapp_message: "" };
  }
  const b64 = ev.base64_message!.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new InputError("base64_message is not base64");
  const text = new TextDecoder("utf-8", { fatal: false }).decode(Buffer.from(b64, "base64"));
  const parsed = parseApprovalText(text);
  if (parsed === null) throw new InputError("base64_message is empty");
  if (typeof parsed === "string") throw new InputError(`base64_message: ${parsed}`);
  return { ...base, tapp_revoked: 0, tapp_date: parsed.date, tapp_name: parsed.name, tapp_message: parsed.message };
}

/** The row for a task girar deleted (reference: message "task deleted"). */
export function deletedRow(taskId: number, changed: number): TaskStateRow {
  return deletedStateRow(taskId, changed, "task deleted");
}

export interface ProgressRow {
  task_id: number;
  task_repo: string;
  task_owner: string;
  task_state: string;
  task_try: number;
  task_iter: number;
  task_testonly: number;
  task_changed: number;
  task_message: string;
  task_depends: number[];
  stage: string;
  stage_status: string;
  type: "state" | "progress";
}

function testonly(ev: { test_only?: boolean; testonly?: boolean }): number {
  return ev.test_only || ev.testonly ? 1 : 0;
}

export function stateProgressRow(ev: TaskStateEvent, changed: number): ProgressRow {
  return {
    task_id: ev.taskid,
    task_repo: ev.repo,
    task_owner: ev.owner,
    task_state: ev.state.toUpperCase(),
    task_try: ev.try,
    task_iter: ev.iter,
    task_testonly: testonly(ev),
    task_changed: changed,
    task_message: ev.message,
    task_depends: ev.depends,
    stage: "",
    stage_status: "",
    type: "state",
  };
}

/** A progress event without a state is taken as BUILDING (progress happens while building). */
export function stageProgressRow(ev: TaskProgressEvent, changed: number): ProgressRow {
  return {
    ...stateProgressRow({ ...ev, subtasks: {} }, changed),
    task_state: ev.state === "unknown" ? "BUILDING" : ev.state.toUpperCase(),
    stage: ev.stage,
    stage_status: ev.stage_status,
    type: "progress",
  };
}

export interface SubtaskProgressRow {
  task_id: number;
  subtask_id: number;
  task_repo: string;
  task_owner: string;
  subtask_type: string;
  subtask_srpm: string;
  subtask_srpm_name: string;
  subtask_srpm_evr: string;
  subtask_dir: string;
  subtask_tag_id: string;
  subtask_tag_name: string;
  subtask_tag_author: string;
  subtask_package: string;
  subtask_pkg_from: string;
  subtask_changed: number;
  type: string;
  arch: string;
  stage: string;
  stage_status: string;
  status: string;
}

/** name-evr.src.rpm → [name, evr] (the last two dash-separated fields are version and release). */
export function splitSrpm(file: string): [string, string] {
  const base = file.replace(/\.src\.rpm$/, "");
  const parts = base.split("-");
  if (!file.endsWith(".src.rpm") || parts.length < 3) return ["", ""];
  return [parts.slice(0, -2).join("-"), parts.slice(-2).join("-")];
}

/** Girar subtask ids are octal-looking strings ("100", "2240"); the reference stores int(text). */
function subtaskId(key: string): number | undefined {
  return /^\d+$/.test(key) ? Number(key) : undefined;
}

function subtaskKind(s: SubtaskInfo): string {
  if (s.type === "repo") return "gear";
  return s.type || (s.dir ? "gear" : s.srpm ? "srpm" : s.copy_repo ? "copy" : "unknown");
}

/** One row per subtask a task.state event lists (type "create": the subtask exists). */
export function subtaskRows(ev: TaskStateEvent, changed: number): SubtaskProgressRow[] {
  const out: SubtaskProgressRow[] = [];
  for (const [key, s] of Object.entries(ev.subtasks)) {
    const id = subtaskId(key);
    if (id === undefined) continue;
    const srpm = s.srpm.split("/").pop() ?? "";
    const [name, evr] = splitSrpm(srpm);
    out.push({
      task_id: ev.taskid,
      subtask_id: id,
      task_repo: ev.repo,
      task_owner: ev.owner,
      subtask_type: subtaskKind(s),
      subtask_srpm: srpm,
      subtask_srpm_name: name,
      subtask_srpm_evr: evr,
      subtask_dir: s.dir,
      subtask_tag_id: s.tag_id,
      subtask_tag_name: s.tag_name,
      subtask_tag_author: s.tag_author,
      subtask_package: s.package || s.pkgname || name,
      subtask_pkg_from: s.copy_repo,
      subtask_changed: changed,
      type: "create",
      arch: "all",
      stage: "",
      stage_status: "",
      status: "",
    });
  }
  return out;
}

/** The per-arch build progress row of a task.progress event naming a subtask; undefined otherwise. */
export function subtaskProgressRow(ev: TaskProgressEvent, changed: number): SubtaskProgressRow | undefined {
  if (ev.subtaskid === undefined) return undefined;
  return {
    task_id: ev.taskid,
    subtask_id: ev.subtaskid,
    task_repo: ev.repo,
    task_owner: ev.owner,
    subtask_type: "",
    subtask_srpm: "",
    subtask_srpm_name: "",
    subtask_srpm_evr: "",
    subtask_dir: "",
    subtask_tag_id: "",
    subtask_tag_name: "",
    subtask_tag_author: "",
    subtask_package: "",
    subtask_pkg_from: "",
    subtask_changed: changed,
    type: "progress",
    arch: ev.arch || "all",
    stage: ev.stage,
    stage_status: ev.stage_status,
    status: ev.status,
  };
}

export interface SearchRow {
  lead: string;
  type: "task";
  search_string: string;
}

function component(s: SubtaskInfo): string {
  const fromDir = s.dir.split("/").pop()?.replace(/\.git$/, "") ?? "";
  return s.pkgname || s.package || fromDir || splitSrpm(s.srpm.split("/").pop() ?? "")[0];
}

/**
 * "<repo>|<owner>|<?>|<STATE>|<components>". The third field's meaning is unknown (the API never
 * reads it); it is left empty. '|' and ',' inside values would break the format and are dropped.
 */
export function searchRow(ev: TaskStateEvent): SearchRow {
  const clean = (s: string) => s.replace(/[|,]/g, "");
  const comps = [...new Set(Object.values(ev.subtasks).map(component).filter(Boolean).map(clean))];
  return { lead: String(ev.taskid), type: "task", search_string: [clean(ev.repo), clean(ev.owner), "", ev.state.toUpperCase(), comps.join(",")].join("|") };
}
