/**
 * Shared set-up of the task loader tests, and the expected rows of a task derived independently
 * from its files and the reference rules (repo-and-task-loaders.md §3) — not from the loader's code.
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { mmhash, murmur32 } from "../../src/hash";
import { getEntry, readRpm, Tag } from "../fixtures/header-codec";

export { contextFor, migratedDb } from "../helpers/context";

const mtime = (p: string) => Math.floor(statSync(p).mtimeMs / 1000);
const text = (p: string) => (existsSync(p) && statSync(p).isFile() ? readFileSync(p, "latin1").trim() : "");
const dirs = (p: string) => (existsSync(p) ? readdirSync(p).filter((n) => statSync(join(p, n)).isDirectory()).sort() : []);

/** pkg_hash of an RPM file: ((BUILDTIME − 1e9) << 32) | murmur32(SHA1HEADER bytes ‖ SIGMD5 ‖ SIGGPG) (§1.6.1). */
export function pkgHashOf(path: string): bigint {
  const { header, signature } = readRpm(readFileSync(path));
  const bt = new DataView(getEntry(header, Tag.BUILDTIME)!.data.buffer, getEntry(header, Tag.BUILDTIME)!.data.byteOffset).getUint32(0);
  const sha1hex = Buffer.from(getEntry(signature, Tag.SHA1HEADER)!.data).toString("latin1").replace(/\0.*$/s, "");
  const md5 = getEntry(signature, Tag.SIG_MD5)?.data ?? new Uint8Array(0);
  const gpg = getEntry(signature, 1005)?.data ?? new Uint8Array(0);
  const low = murmur32(Buffer.concat([Buffer.from(sha1hex, "hex"), md5, gpg]));
  return (BigInt(bt - 1_000_000_000) << 32n) | BigInt(low);
}

export interface ExpectedLog {
  path: string;
  hash: bigint;
  type: "events" | "build" | "srpm";
}

/** The logs of a task tree and their hashes (§3.3.5, §3.3.6). */
export function expectedLogs(root: string): ExpectedLog[] {
  const id = Number(text(join(root, "task/id")));
  const tr = Number(text(join(root, "task/try")) || 0);
  const it = Number(text(join(root, "task/iter")) || 0);
  const out: ExpectedLog[] = [];
  for (const sub of dirs(join(root, "build")).filter((d) => /^[0-7]/.test(d)))
    for (const arch of dirs(join(root, "build", sub))) {
      for (const [file, type] of [
        ["log", "build"],
        ["srpm.log", "srpm"],
      ] as const) {
        const p = join(root, "build", sub, arch, file);
        if (existsSync(p) && statSync(p).size > 0) out.push({ path: `build/${sub}/${arch}/${file}`, type, hash: mmhash(`${type}${id}${Number(sub)}${tr}${it}${arch}`) });
      }
    }
  if (existsSync(join(root, "logs")))
    for (const f of readdirSync(join(root, "logs"))) {
      const m = /^events\.([^.]+)\.([^.]+)\.log$/.exec(f);
      if (m) out.push({ path: `logs/${f}`, type: "events", hash: mmhash(`events${id}${m[1]}${m[2]}`) });
    }
  return out;
}

/** The reference log parser written out in Python (tests/task/oracle_logs.py): [line, ts, message]. */
export function oracleLog(root: string, l: ExpectedLog): [number, number, string][] {
  const p = join(root, l.path);
  const r = spawnSync("python3", [join(import.meta.dir, "oracle_logs.py"), p, l.type, String(mtime(p))], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

export function expectedStateRow(root: string) {
  let changed = mtime(join(root, "task/state"));
  if (existsSync(join(root, "info.json"))) changed = Math.max(changed, mtime(join(root, "info.json")));
  let shared = 0;
  try {
    shared = JSON.parse(readFileSync(join(root, "info.json"), "utf8")).shared ? 1 : 0;
  } catch {
    shared = 0;
  }
  let prev = 0;
  const prevLink = join(root, "build/repo/prev");
  let isLink = false;
  try {
    isLink = lstatSync(prevLink).isSymbolicLink();
  } catch {
    isLink = false;
  }
  if (isLink) prev = Number(basename(readlinkSync(prevLink)));
  return {
    task_changed: changed,
    task_id: Number(text(join(root, "task/id"))),
    task_state: text(join(root, "task/state")),
    task_runby: text(join(root, "task/run")),
    task_depends: text(join(root, "task/depends")).split("\n").filter(Boolean).map(Number),
    task_try: Number(text(join(root, "task/try")) || 0),
    task_testonly: existsSync(join(root, "task/test-only")) ? 1 : 0,
    task_failearly: existsSync(join(root, "task/fail-early")) ? 1 : 0,
    task_shared: shared,
    task_message: text(join(root, "task/message")),
    task_version: text(join(root, "task/version")),
    task_prev: prev,
    task_eventlog_hash: expectedLogs(root)
      .filter((l) => l.type === "events")
      .map((l) => l.hash)
      .sort((a, b) => (a < b ? -1 : 1)),
  };
}

/** Tasks rows (§3.3.4) for gears/<N>. */
export function expectedTaskRows(root: string) {
  const st = expectedStateRow(root);
  return dirs(join(root, "gears"))
    .filter((d) => /^[0-7]/.test(d))
    .map((sub) => {
      const g = (f: string) => join(root, "gears", sub, f);
      const files = readdirSync(join(root, "gears", sub));
      const sid = existsSync(g("sid")) ? readFileSync(g("sid"), "latin1") : "";
      const deleted = !files.includes("dir") && !files.includes("srpm") && !files.includes("package");
      let type = sid ? sid.split(":")[0] : "";
      let from = "";
      const nonEmpty = (f: string) => existsSync(g(f)) && statSync(g(f)).size > 0;
      if (!deleted) {
        if (nonEmpty("package") && !nonEmpty("dir")) {
          if (nonEmpty("copy_repo")) [type, from] = ["copy", text(g("copy_repo"))];
          else type = "delete";
        }
        if (existsSync(g("rebuild"))) [type, from] = ["rebuild", text(g("rebuild"))];
        if (existsSync(g("rebuild_from"))) [type, from] = ["rebuild", text(g("rebuild_from"))];
      }
      if (deleted || !["srpm", "gear", "copy", "delete", "rebuild"].includes(type)) type = "unknown";
      const nevr = deleted || !existsSync(g("nevr")) ? "" : readFileSync(g("nevr"), "latin1");
      const [nm, evr] = nevr.includes("\t") ? nevr.split("\t") : [nevr, ""];
      const dirTime = mtime(join(root, "gears", sub));
      return {
        task_id: st.task_id,
        subtask_id: Number(sub),
        task_repo: text(join(root, "task/repo")),
        task_owner: text(join(root, "task/owner")),
        task_changed: st.task_changed,
        subtask_changed: existsSync(g("userid")) ? Math.max(mtime(g("userid")), dirTime) : dirTime,
        subtask_deleted: deleted ? 1 : 0,
        subtask_userid: text(g("userid")),
        subtask_dir: deleted ? "" : text(g("dir")),
        subtask_package: deleted ? "" : text(g("package")),
        subtask_type: type,
        subtask_pkg_from: from,
        subtask_sid: sid ? (sid.split(":")[1] ?? sid).trim() : "",
        subtask_tag_author: deleted ? "" : Buffer.from(text(g("tag_author")), "latin1").toString("utf8"),
        subtask_tag_id: deleted ? "" : text(g("tag_id")),
        subtask_tag_name: deleted ? "" : text(g("tag_name")),
        subtask_srpm: deleted ? "" : text(g("srpm")),
        subtask_srpm_name: nm.trim(),
        subtask_srpm_evr: evr.trim(),
      };
    });
}

/** TaskIterations rows (§3.3.5) with package hashes computed from the RPM headers. */
export function expectedIterationRows(root: string) {
  const st = expectedStateRow(root);
  const tr = st.task_try;
  const it = Number(text(join(root, "task/iter")) || 0);
  const planSrc = new Map<number, string>();
  const planBin = new Map<string, string[]>();
  for (const l of text(join(root, "plan/add-src")).split("\n").filter(Boolean)) {
    const f = l.split("\t");
    planSrc.set(Number(f[f.length - 1]), f[f.length - 2]);
  }
  for (const l of text(join(root, "plan/add-bin")).split("\n").filter(Boolean)) {
    const f = l.split("\t");
    const k = `${Number(f[5])}/${f[2]}`;
    planBin.set(k, [...(planBin.get(k) ?? []), f[4]]);
  }
  const logs = expectedLogs(root);
  const rows = [];
  for (const sub of dirs(join(root, "build")).filter((d) => /^[0-7]/.test(d))) {
    const archs = dirs(join(root, "build", sub));
    const ordered = ["x86_64", "i586"].filter((a) => archs.includes(a)).concat(archs.filter((a) => a !== "x86_64" && a !== "i586"));
    for (const arch of ordered) {
      const d = join(root, "build", sub, arch);
      const ls = (x: string) => (existsSync(join(d, x)) ? readdirSync(join(d, x)).filter((n) => n.endsWith(".rpm")).sort() : []);
      let status = existsSync(join(d, "status")) ? text(join(d, "status")) || "failed" : "failed";
      const ts = existsSync(join(d, "status")) ? mtime(join(d, "status")) : mtime(d);
      if (ls("srpm").length || ls("rpms").length) status = "built";
      if (!planSrc.has(Number(sub)) && ls("srpm").length) planSrc.set(Number(sub), `build/${sub}/${arch}/srpm/${ls("srpm")[0]}`);
      const srpm = planSrc.get(Number(sub));
      const rpms = ls("rpms").length ? ls("rpms").map((r) => `build/${sub}/${arch}/rpms/${r}`) : (planBin.get(`${Number(sub)}/${arch}`) ?? []);
      const hashOf = (rel: string) => {
        try {
          return pkgHashOf(join(root, rel));
        } catch {
          return undefined;
        }
      };
      const pkgs = rpms.map(hashOf).filter((h): h is bigint => h !== undefined);
      const chroot = (f: string) =>
        text(join(d, f))
          .split("\n")
          .filter(Boolean)
          .map((l) => mmhash(Buffer.from(l.split("\t").pop()!.trim(), "hex")));
      rows.push({
        row: {
          task_id: st.task_id,
          task_changed: st.task_changed,
          subtask_id: Number(sub),
          subtask_arch: arch,
          titer_ts: ts,
          titer_status: status,
          task_try: tr,
          task_iter: it,
          titer_srcrpm_hash: srpm ? (hashOf(srpm) ?? 0n) : 0n,
          titer_pkgs_hash: pkgs.length ? pkgs : [0n],
          titer_buildlog_hash: logs.find((l) => l.path === `build/${sub}/${arch}/log`)?.hash ?? 0n,
          titer_srpmlog_hash: logs.find((l) => l.path === `build/${sub}/${arch}/srpm.log`)?.hash ?? 0n,
        },
        chrootBase: chroot("chroot_base"),
        chrootBr: chroot("chroot_BR"),
      });
    }
  }
  // delete subtasks without a build get a synthetic "deleted" iteration
  for (const t of expectedTaskRows(root)) {
    if (t.subtask_deleted || t.subtask_type !== "delete" || rows.some((r) => r.row.subtask_id === t.subtask_id)) continue;
    rows.push({
      row: {
        task_id: st.task_id,
        task_changed: st.task_changed,
        subtask_id: t.subtask_id,
        subtask_arch: "x86_64",
        titer_ts: mtime(join(root, "build")),
        titer_status: "deleted",
        task_try: tr,
        task_iter: it,
        titer_srcrpm_hash: 0n,
        titer_pkgs_hash: [0n],
        titer_buildlog_hash: 0n,
        titer_srpmlog_hash: 0n,
      },
      chrootBase: [],
      chrootBr: [],
    });
  }
  return rows;
}

/** TaskPlanPackages / TaskPlanPkgHash rows from the plan files (§3.3.2, §3.4, §3.6 step 5). */
export function expectedPlanRows(root: string) {
  const st = expectedStateRow(root);
  const it = Number(text(join(root, "task/iter")) || 0);
  const h = (arch: string) => mmhash(`${st.task_id}${st.task_try}${it}${arch}`);
  // the freshness gate (§3.3.2): a stale plan of an unfinished task is not loaded
  const mt = (p: string) => (existsSync(join(root, p)) ? statSync(join(root, p)).mtimeMs : undefined);
  const planTime = mt("plan");
  const fresh = st.task_state === "DONE" || (st.task_try !== 0 && it !== 0 && planTime !== undefined && planTime > Math.max(mt("task/try") ?? 0, mt("task/iter") ?? 0));
  if (!fresh) return { pkgs: [], hashes: [] };
  const lines = (f: string) => text(join(root, "plan", f)).split("\n").filter(Boolean).map((l) => l.split("\t"));
  const add = new Map<string, string[]>();
  for (const f of lines("add-src")) add.set(f[2], [f[4], ""]);
  for (const f of lines("add-bin")) add.set(f[3], [f[5], f[6] ?? ""]);
  const rm = new Map<string, string>();
  for (const f of lines("rm-bin")) rm.set(f[3], f[4] ?? "");
  const pkgs: Record<string, unknown>[] = [];
  for (const diff of readdirSync(join(root, "plan")).filter((f) => f.endsWith(".list.diff"))) {
    const src = diff === "src.list.diff";
    for (const l of readFileSync(join(root, "plan", diff), "latin1").split("\n")) {
      if (!/^[+-][^+\- ]/.test(l)) continue;
      const f = l.slice(1).split("\t");
      const [name, evr, arch, file, srpm] = src ? [f[0], f[1], "src", f[2], f[2]] : f;
      const action = l[0] === "+" ? "add" : "delete";
      const a = action === "add" ? add.get(file) : undefined;
      pkgs.push({
        tplan_hash: h(arch),
        tplan_action: action,
        tplan_pkg_name: name,
        tplan_pkg_evr: evr,
        tplan_bin_file: file,
        tplan_src_file: srpm,
        tplan_arch: arch,
        tplan_comp: action === "add" ? (a?.[1] ?? "") : (rm.get(file) ?? ""),
        tplan_subtask: action === "add" ? Number(a?.[0] ?? 0) : 0,
      });
    }
  }
  const hashes: Record<string, unknown>[] = [];
  for (const diff of readdirSync(join(root, "plan")).filter((f) => f.endsWith(".hash.diff"))) {
    const arch = diff.split(".")[0];
    for (const l of readFileSync(join(root, "plan", diff), "latin1").split("\n")) {
      const m = /^([+-])([0-9a-f]{64})\s/.exec(l);
      if (m) hashes.push({ tplan_hash: h(arch), tplan_action: m[1] === "+" ? "add" : "delete", tplan_sha256: m[2].toUpperCase() });
    }
  }
  return { pkgs, hashes };
}

/** Sorts rows for order-insensitive comparison. */
export function sorted<T>(rows: T[]): T[] {
  const key = (r: T) => JSON.stringify(r, (_k, v) => (typeof v === "bigint" ? v.toString() : v));
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
