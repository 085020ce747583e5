/**
 * Girar's AMQP task events as the daemon takes them (reference feeds-images-daemon.md §3.7).
 * Girar adds fields freely, so the objects are loose: only the fields used are checked.
 * Numbers may arrive as numeric strings; states are lower-cased.
 */
import * as v from "valibot";

const uint = v.pipe(
  v.union([v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.regex(/^\s*\d+\s*$/, "a whole number"))]),
  v.transform((x) => Number(x)),
  v.minValue(0),
);
export const TaskId = v.pipe(uint, v.minValue(1, "a task id > 0"), v.maxValue(0xffffffff));
const flag = v.pipe(
  v.union([v.boolean(), v.number(), v.string(), v.null()]),
  v.transform((x) => (typeof x === "string" ? /^(1|yes|true|on)$/i.test(x.trim()) : Boolean(x))),
);
/** Unix seconds, possibly fractional, possibly a string. */
const seconds = v.pipe(
  v.union([v.number(), v.pipe(v.string(), v.regex(/^\s*\d+(\.\d*)?\s*$/, "unix seconds"))]),
  v.transform((x) => Number(x)),
  v.minValue(0),
);
const text = v.optional(v.pipe(v.union([v.string(), v.number()]), v.transform(String)), "");
const state = v.optional(
  v.pipe(
    v.string(),
    v.transform((s) => s.trim().toLowerCase()),
  ),
  "unknown",
);
const depends = v.optional(
  v.union([
    v.array(uint),
    v.pipe(
      v.string(),
      v.transform((s) => s.split(/[\s,]+/).filter(Boolean)),
      v.array(v.pipe(v.string(), v.regex(/^\d+$/, "task ids")), "task ids"),
      v.transform((a) => a.map(Number)),
    ),
  ]),
  [],
);

export const SubtaskInfo = v.looseObject({
  type: text,
  dir: text,
  tag_name: text,
  tag_id: text,
  tag_author: text,
  srpm: text,
  package: text,
  pkgname: text,
  copy_repo: text,
  rebuild_from: text,
});

const common = {
  taskid: TaskId,
  state,
  repo: text,
  owner: text,
  try: v.optional(uint, 0),
  iter: v.optional(uint, 0),
  test_only: v.optional(flag),
  testonly: v.optional(flag),
  message: text,
  depends,
  _timestamp: v.optional(seconds),
};

/** task.state: the task's info.json-like state. */
export const TaskStateEvent = v.looseObject({
  ...common,
  subtasks: v.optional(v.record(v.string(), SubtaskInfo), {}),
});

/** task.progress: a build stage of the task or of one subtask/arch. */
export const TaskProgressEvent = v.looseObject({
  ...common,
  stage: text,
  stage_status: text,
  subtaskid: v.optional(uint),
  arch: text,
  status: text,
});

/** task.subtask.approve / task.subtask.disapprove. */
export const TaskApprovalEvent = v.pipe(
  v.looseObject({
    taskid: TaskId,
    subtaskid: uint,
    revoke: v.optional(flag),
    revoked: v.optional(flag),
    base64_message: v.optional(v.string()),
    girar_user: v.optional(v.string()),
    _timestamp: v.optional(seconds),
    _routing_key: v.optional(v.string()),
  }),
  v.check((e) => Boolean(e.revoke || e.revoked) || typeof e.base64_message === "string", "an approval needs base64_message"),
  v.check((e) => !(e.revoke || e.revoked) || (Boolean(e.girar_user) && e._timestamp !== undefined), "a revocation needs girar_user and _timestamp"),
);

export type TaskStateEvent = v.InferOutput<typeof TaskStateEvent>;
export type TaskProgressEvent = v.InferOutput<typeof TaskProgressEvent>;
export type TaskApprovalEvent = v.InferOutput<typeof TaskApprovalEvent>;
export type SubtaskInfo = v.InferOutput<typeof SubtaskInfo>;
