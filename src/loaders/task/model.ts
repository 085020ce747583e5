/** The parsed task (reference altrepodb/task/base.py Task), before any row is built. */
import type { ByteString } from "./text";

export interface TaskState {
  taskId: number;
  state: ByteString;
  /** max(mtime task/state, mtime info.json), epoch seconds. */
  changed: number;
  runby: ByteString;
  try: number;
  iter: number;
  message: ByteString;
  version: ByteString;
  depends: number[];
  testonly: number;
  failearly: number;
  shared: number;
  prev: number;
  repo: ByteString;
  owner: ByteString;
}

/** A package of the plan (TaskPlanPackages row source). */
export interface PlanPackage {
  file: ByteString;
  name: ByteString;
  evr: ByteString;
  srpm: ByteString;
  arch: ByteString;
  comp: ByteString;
  path: ByteString;
  subtask: number;
}

export interface TaskPlan {
  /** Whether the plan was fresh enough to be loaded (reference load_plan). */
  loaded: boolean;
  /** arch → plan hash mmhash("<id><try><iter><arch>"). */
  hashes: Map<ByteString, bigint>;
  /** arch → file → package (Map keeps the reference's insertion order). */
  add: Map<ByteString, Map<ByteString, PlanPackage>>;
  del: Map<ByteString, Map<ByteString, PlanPackage>>;
  /** arch → file name → sha256 (32 bytes). */
  hashAdd: Map<ByteString, Map<ByteString, Uint8Array>>;
  hashDel: Map<ByteString, Map<ByteString, Uint8Array>>;
}

/** Digests known for a task package, by file base name (reference task.pkg_hashes). */
export interface KnownDigests {
  md5?: Uint8Array;
  sha256?: Uint8Array;
  blake2b?: Uint8Array;
}

export interface TaskApproval {
  subtaskId: number;
  type: "approve" | "disapprove";
  /** epoch seconds, UTC */
  date: number;
  name: ByteString;
  message: ByteString;
}

export type SubtaskType = "unknown" | "srpm" | "gear" | "copy" | "delete" | "rebuild";

export interface TaskSubtask {
  subtaskId: number;
  changed: number;
  deleted: number;
  userid: ByteString;
  dir: ByteString;
  package: ByteString;
  type: SubtaskType;
  pkgFrom: ByteString;
  sid: ByteString;
  tagAuthor: ByteString;
  tagId: ByteString;
  tagName: ByteString;
  srpm: ByteString;
  srpmName: ByteString;
  srpmEvr: ByteString;
}

export interface TaskIteration {
  subtaskId: number;
  arch: ByteString;
  ts: number;
  status: ByteString;
  /** mmhash of each SHA1HEADER of chroot_base / chroot_BR, in file order. */
  chrootBase: bigint[];
  chrootBr: bigint[];
  /** Task-relative paths. */
  srpm: ByteString;
  rpms: ByteString[];
}

export type LogType = "events" | "build" | "srpm";

export interface TaskLog {
  type: LogType;
  /** Task-relative path. */
  path: string;
  hash: bigint;
  /** For build/srpm logs: the iteration they belong to. */
  subtaskId?: number;
  arch?: string;
}

export interface Task {
  path: string;
  state: TaskState;
  plan: TaskPlan;
  digests: Map<ByteString, KnownDigests>;
  approvals: TaskApproval[];
  subtasks: TaskSubtask[];
  iterations: TaskIteration[];
  logs: TaskLog[];
  arepo: ByteString[];
}
