/** task/* and info.json → the task state (reference _parse_task_state). */
import { InputError } from "../../errors";
import type { TaskFs } from "../fs";
import type { TaskState } from "../model";
import { nonEmptyLines, parseIntStrict, printable, utf8OrUndefined } from "../text";

/** Python truthiness of a JSON value. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === "object") return Object.keys(v).length > 0;
  return !!v;
}

/** An integer file: 0 when missing or empty; garbage is an InputError (the value names rows). */
function intFile(fs: TaskFs, rel: string, max = 0xffffffff): number {
  const raw = fs.raw(rel);
  if (raw.trim() === "") return 0;
  const n = parseIntStrict(raw);
  if (n === undefined || n < 0 || n > max) throw new InputError(`not a number: ${JSON.stringify(printable(raw).slice(0, 40))}`, fs.abs(rel));
  return n;
}

export function parseState(fs: TaskFs): TaskState {
  if (!fs.isDir("")) throw new InputError("not a directory", fs.root);
  if (!fs.exists("task/id")) throw new InputError("not a girar task directory: task/id is missing", fs.root);
  const taskId = intFile(fs, "task/id");
  if (taskId === 0) throw new InputError("failed to get the task id", fs.abs("task/id"));
  if (!fs.exists("task/state")) throw new InputError(`task ${taskId}: task/state is missing, the task state is unknown`, fs.abs("task/state"));
  const state = fs.text("task/state");
  let changed = fs.mtime("task/state") ?? 0;
  const infoTime = fs.mtime("info.json");
  if (infoTime !== undefined && infoTime > changed) changed = infoTime;

  const depends: number[] = [];
  for (const line of nonEmptyLines(fs.raw("task/depends"))) {
    const n = parseIntStrict(line);
    if (n === undefined || n > 0xffffffff) fs.problem("task/depends", `ignored a line that is not a task id: ${JSON.stringify(printable(line))}`);
    else depends.push(n);
  }

  let shared = 0;
  const info = fs.raw("info.json");
  if (info) {
    try {
      const json = JSON.parse(utf8OrUndefined(info) ?? info);
      shared = json && typeof json === "object" && !Array.isArray(json) && truthy(json.shared) ? 1 : 0;
    } catch {
      fs.warn("info.json", "not valid JSON; task_shared = 0");
    }
  }

  let prev = 0;
  const target = fs.symlinkTargetName("build/repo/prev");
  if (target !== undefined) {
    const n = parseIntStrict(target);
    if (n === undefined) fs.warn("build/repo/prev", `symlink target ${JSON.stringify(target)} is not a task number; task_prev = 0`);
    else prev = n;
  }

  return {
    taskId,
    state,
    changed,
    runby: fs.text("task/run"),
    try: intFile(fs, "task/try", 0xffff),
    iter: intFile(fs, "task/iter", 0xff),
    message: fs.text("task/message"),
    version: fs.text("task/version"),
    depends,
    testonly: fs.exists("task/test-only") ? 1 : 0,
    failearly: fs.exists("task/fail-early") ? 1 : 0,
    shared,
    prev,
    repo: fs.text("task/repo"),
    owner: fs.text("task/owner"),
  };
}
