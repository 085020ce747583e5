/**
 * plan/ → the task plan (reference _parse_task_plan, §3.3.2, formats §3.4).
 * Lines that do not fit their format are skipped and reported (the reference aborted the load).
 */
import { mmhash } from "../../../hash";
import type { TaskFs } from "../fs";
import type { PlanPackage, TaskPlan, TaskState } from "../model";
import { fromHexStrict } from "./hex";
import { nonEmptyLines, parseIntStrict, printable, strip, type ByteString } from "../text";

interface AddRm {
  name: ByteString;
  evr: ByteString;
  arch: ByteString;
  file: ByteString;
  path: ByteString;
  subtask: number;
  comp: ByteString;
}

function bad(fs: TaskFs, rel: string, line: string, why: string): void {
  fs.problem(rel, `ignored line (${why}): ${JSON.stringify(printable(line).slice(0, 200))}`);
}

/** plan/add-src, add-bin, rm-src, rm-bin (reference parse_add_rm_plan). */
export function parseAddRm(fs: TaskFs, rel: string, isAdd: boolean, isSrc: boolean): AddRm[] {
  const out: AddRm[] = [];
  for (const line of nonEmptyLines(fs.raw(rel))) {
    const s = line.split("\t");
    if (isAdd) {
      const need = isSrc ? 5 : 6;
      if (s.length < need) {
        bad(fs, rel, line, `expected at least ${need} tab-separated fields`);
        continue;
      }
      const sub = parseIntStrict(isSrc ? s[4] : s[5]);
      if (sub === undefined) {
        bad(fs, rel, line, "subtask is not a number");
        continue;
      }
      if (isSrc) out.push({ name: s[0], evr: s[1], arch: "src", file: s[2], path: s[3], subtask: sub, comp: "" });
      else out.push({ name: s[0], evr: s[1], arch: s[2], file: s[3], path: s[4], subtask: sub, comp: s.length >= 7 ? s[6] : "" });
    } else {
      const need = isSrc ? 3 : 4;
      if (s.length < need) {
        bad(fs, rel, line, `expected at least ${need} tab-separated fields`);
        continue;
      }
      if (isSrc) out.push({ name: s[0], evr: s[1], arch: "src", file: s[2], path: "", subtask: 0, comp: "" });
      else out.push({ name: s[0], evr: s[1], arch: s[2], file: s[3], path: "", subtask: 0, comp: s.length >= 5 ? s[4] : "" });
    }
  }
  return out;
}

export interface DiffPackage {
  name: ByteString;
  evr: ByteString;
  file: ByteString;
  srpm: ByteString;
  arch: ByteString;
}

/**
 * A `*.list.diff` line: sign, then the package name up to the first whitespace, then tab fields.
 * Fix of the reference (§3.4.1): its pattern `^[+-]+[a-zA-Z0-9]+\S+` needs two characters after
 * the sign, so 1-character package names were silently dropped; ours takes any name that does
 * not start with a sign or whitespace (file headers `--- `/`+++ ` still never match).
 */
const DIFF_LINE = /^([+-])([^\s+-]\S*)/;

export function parseListDiff(fs: TaskFs, rel: string, isSrc: boolean): { add: DiffPackage[]; del: DiffPackage[] } {
  const add: DiffPackage[] = [];
  const del: DiffPackage[] = [];
  for (const line of nonEmptyLines(fs.raw(rel))) {
    const m = DIFF_LINE.exec(line);
    if (!m) continue;
    const name = strip(m[2]);
    const rest = line
      .slice(m[0].length)
      .split("\t")
      .filter((x) => x.length > 0)
      .map(strip);
    let p: DiffPackage;
    if (isSrc) {
      if (rest.length !== 2) {
        bad(fs, rel, line, "a src list line has 3 fields: name, EVR, file");
        continue;
      }
      p = { name, evr: rest[0], file: rest[1], srpm: rest[1], arch: "src" };
    } else {
      if (rest.length !== 4) {
        bad(fs, rel, line, "a bin list line has 5 fields: name, EVR, arch, file, source file");
        continue;
      }
      p = { name, evr: rest[0], arch: rest[1], file: rest[2], srpm: rest[3] };
    }
    (m[1] === "+" ? add : del).push(p);
  }
  return { add, del };
}

const HASH_LINE = /^([+-])([0-9a-f]{64})\s+/;

/** A `*.hash.diff`: `±<sha256>  <file>`; later lines win for the same file. */
export function parseHashDiff(fs: TaskFs, rel: string): { add: Map<ByteString, Uint8Array>; del: Map<ByteString, Uint8Array> } {
  const add = new Map<ByteString, Uint8Array>();
  const del = new Map<ByteString, Uint8Array>();
  for (const line of nonEmptyLines(fs.raw(rel))) {
    const m = HASH_LINE.exec(line);
    if (!m) continue;
    const name = strip(line.slice(m[0].length));
    (m[1] === "+" ? add : del).set(name, fromHexStrict(m[2])!);
  }
  return { add, del };
}

/** mmhash("<task_id><try><iter><arch>"), the key of TaskPlanPackages / TaskPlanPkgHash rows. */
export function planHash(taskId: number, taskTry: number, taskIter: number, arch: ByteString): bigint {
  return mmhash(Buffer.from(`${taskId}${taskTry}${taskIter}${arch}`, "latin1"));
}

function emptyPlan(): TaskPlan {
  return { loaded: false, hashes: new Map(), add: new Map(), del: new Map(), hashAdd: new Map(), hashDel: new Map() };
}

/**
 * The freshness gate (girar bug 40728 workaround): with try and iter set, the plan is loaded
 * only when plan/ is newer than task/try and task/iter; a DONE task's plan is always loaded.
 * Fix: a missing plan/ directory means "no plan" (the reference crashed comparing with None).
 */
export function planIsFresh(fs: TaskFs, state: TaskState): boolean {
  if (state.state === "DONE") return true;
  if (state.try !== 0 && state.iter !== 0) {
    const planTime = fs.mtimeMs("plan");
    if (planTime === undefined) return false;
    const tryIter = Math.max(fs.mtimeMs("task/try") ?? 0, fs.mtimeMs("task/iter") ?? 0);
    return planTime > tryIter;
  }
  return false;
}

export function parsePlan(fs: TaskFs, state: TaskState, log?: { warn(msg: string, f?: Record<string, unknown>): void }): TaskPlan {
  const plan = emptyPlan();
  if (!planIsFresh(fs, state)) {
    if (state.try !== 0 && state.iter !== 0 && fs.exists("plan")) log?.warn("plan is outdated, not loaded", { task: state.taskId });
    return plan;
  }
  plan.loaded = true;
  const pkgAdd = new Map<ByteString, AddRm>();
  for (const [rel, isSrc] of [
    ["plan/add-src", true],
    ["plan/add-bin", false],
  ] as const)
    if (fs.exists(rel)) for (const p of parseAddRm(fs, rel, true, isSrc)) pkgAdd.set(p.file, p);
  const pkgDel = new Map<ByteString, AddRm>();
  for (const [rel, isSrc] of [
    ["plan/rm-src", true],
    ["plan/rm-bin", false],
  ] as const)
    if (fs.exists(rel)) for (const p of parseAddRm(fs, rel, false, isSrc)) pkgDel.set(p.file, p);

  const entries = fs.list("plan");
  for (const name of entries.filter((n) => n.endsWith(".list.diff"))) {
    const { add, del } = parseListDiff(fs, `plan/${name}`, name === "src.list.diff");
    for (const [list, lookup, target] of [
      [add, pkgAdd, plan.add],
      [del, pkgDel, plan.del],
    ] as const) {
      for (const p of list) {
        const pp = lookup.get(p.file);
        const info: PlanPackage = {
          file: p.file,
          name: p.name,
          evr: p.evr,
          srpm: p.srpm,
          arch: p.arch,
          comp: pp?.comp ?? "",
          path: pp?.path ?? "",
          subtask: pp?.subtask ?? 0,
        };
        let byArch = target.get(p.arch);
        if (!byArch) target.set(p.arch, (byArch = new Map()));
        byArch.set(p.file, info);
      }
    }
  }
  for (const name of entries.filter((n) => n.endsWith(".hash.diff"))) {
    const arch = name.split(".")[0];
    const { add, del } = parseHashDiff(fs, `plan/${name}`);
    plan.hashAdd.set(arch, add);
    plan.hashDel.set(arch, del);
  }
  const archs = new Set<ByteString>([...plan.add.keys(), ...plan.del.keys(), ...plan.hashAdd.keys(), ...plan.hashDel.keys()]);
  for (const arch of archs) plan.hashes.set(arch, planHash(state.taskId, state.try, state.iter, arch));
  return plan;
}
