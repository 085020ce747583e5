/**
 * The task loader end to end on girar task trees with real RPMs (tests/fixtures/task.ts), through
 * `loadTask`, the function the CLI and the daemon call. Every table's rows are compared with
 * values derived independently from the files (tests/task/_task.ts, the Python log oracle).
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { InputError } from "../../src/loaders/errors";
import { loadTask } from "../../src/loaders/task";
import type { TaskLoadReport } from "../../src/loaders/task/types";
import { scratchDir } from "../fixtures/_util";
import { makeTask, type TaskResult, type TaskSpec } from "../fixtures/task";
import {
  contextFor,
  expectedIterationRows,
  expectedLogs,
  expectedPlanRows,
  expectedStateRow,
  expectedTaskRows,
  migratedDb,
  oracleLog,
  pkgHashOf,
  sorted,
} from "./_task";

setDefaultTimeout(120_000);

let db: Db;
beforeAll(async () => {
  db = await migratedDb("task");
}, 120_000);

const load = (path: string, extra: Partial<Parameters<typeof loadTask>[1]> = {}) =>
  loadTask(contextFor(db), { path, storeApprovals: true, storeLogsForNew: true, ...extra });

async function q<T = Record<string, unknown>>(sql: string): Promise<T[]> {
  return db.query<T>(sql);
}

const TABLE_KEYS: Record<string, string> = {
  Tasks: "task_id, subtask_id, task_changed, subtask_changed, subtask_deleted",
  TaskStates: "task_changed, task_id, task_state, task_try",
  TaskIterations: "task_id, subtask_id, subtask_arch, task_changed, titer_ts, titer_status, task_try, task_iter",
  TaskChroots: "tch_chroot",
  TaskLogs: "tlog_message, tlog_line, tlog_hash",
  TaskPlanPackages: "tplan_hash, tplan_action, tplan_src_file, tplan_bin_file",
  TaskPlanPkgHash: "tplan_hash, tplan_action, tplan_sha256",
  Packages: "pkg_hash",
  PackageHash: "pkgh_mmh, pkgh_md5, pkgh_sha256",
};

/** No table holds two rows with the same sorting key (what a ReplacingMergeTree would merge). */
async function expectNoDuplicates(): Promise<void> {
  for (const [t, key] of Object.entries(TABLE_KEYS)) {
    const [r] = await q<{ n: bigint; u: bigint }>(`SELECT count() AS n, uniqExact(${key}) AS u FROM ${t}`);
    expect({ table: t, rows: Number(r.n) }).toEqual({ table: t, rows: Number(r.u) });
  }
  const [a] = await q<{ n: bigint; u: bigint }>("SELECT count() AS n, uniqExact(task_id, subtask_id, tapp_type, tapp_revoked, tapp_date, tapp_name, tapp_message) AS u FROM TaskApprovals");
  expect(Number(a.n)).toBe(Number(a.u));
}

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of [...Object.keys(TABLE_KEYS), "TaskApprovals", "Depends", "Files", "Changelog"]) out[t] = Number((await q<{ n: bigint }>(`SELECT count() AS n FROM ${t}`))[0].n);
  return out;
}

interface RowsExpected {
  /** Whether the state row is there (false: an incomplete load, whose state must not be visible). */
  state?: boolean;
  /** Iterations ("<subtask>/<arch>") whose rows are not written (a package of theirs could not be read). */
  withheld?: string[];
}

/** Compares every task table's rows for this tree with the independently derived ones. */
async function expectTaskRows(root: string, opts: RowsExpected = {}): Promise<void> {
  const st = expectedStateRow(root);
  const id = st.task_id;
  const states = await q(
    `SELECT toUInt32(task_changed) AS task_changed, task_id, task_state, task_runby, task_depends, task_try, task_testonly, task_failearly, task_shared,
            task_message, task_version, task_prev, arraySort(task_eventlog_hash) AS task_eventlog_hash
     FROM TaskStates WHERE task_id = ${id} AND task_changed = ${st.task_changed} AND task_state = '${st.task_state}'`,
  );
  expect(states).toEqual(opts.state === false ? [] : [{ ...st, task_eventlog_hash: st.task_eventlog_hash } as never]);

  const tasks = await q(
    `SELECT task_id, subtask_id, task_repo, task_owner, toUInt32(task_changed) AS task_changed, toUInt32(subtask_changed) AS subtask_changed, subtask_deleted,
            subtask_userid, subtask_dir, subtask_package, toString(subtask_type) AS subtask_type, subtask_pkg_from, subtask_sid, subtask_tag_author,
            subtask_tag_id, subtask_tag_name, subtask_srpm, subtask_srpm_name, subtask_srpm_evr
     FROM Tasks WHERE task_id = ${id} AND task_changed = ${st.task_changed}`,
  );
  expect(sorted(tasks)).toEqual(sorted(expectedTaskRows(root)) as never);

  const withheld = new Set(opts.withheld ?? []);
  const its = expectedIterationRows(root).filter((i) => !withheld.has(`${i.row.subtask_id}/${i.row.subtask_arch}`));
  const gotIts = await q<Record<string, unknown>>(
    `SELECT task_id, toUInt32(task_changed) AS task_changed, subtask_id, subtask_arch, toUInt32(titer_ts) AS titer_ts, titer_status, task_try, task_iter,
            titer_srcrpm_hash, titer_pkgs_hash, titer_buildlog_hash, titer_srpmlog_hash, titer_chroot_base, titer_chroot_br
     FROM TaskIterations WHERE task_id = ${id} AND task_changed = ${st.task_changed}`,
  );
  const stripChroot = (r: Record<string, unknown>) => {
    const { titer_chroot_base: _a, titer_chroot_br: _b, ...rest } = r;
    return rest;
  };
  expect(sorted(gotIts.map(stripChroot))).toEqual(sorted(its.map((i) => i.row)) as never);
  // chroot hashes: the server's murmurHash3_64 of the element list, which TaskChroots holds too
  for (const e of its) {
    const got = gotIts.find((g) => g.subtask_id === e.row.subtask_id && g.subtask_arch === e.row.subtask_arch)!;
    for (const [list, col] of [
      [e.chrootBase, "titer_chroot_base"],
      [e.chrootBr, "titer_chroot_br"],
    ] as const) {
      if (!list.length) {
        expect(got[col]).toBe(0n);
        continue;
      }
      const [srv] = await q<{ h: bigint }>(`SELECT murmurHash3_64(CAST([${list.join(",")}], 'Array(UInt64)')) AS h`);
      expect(got[col]).toBe(srv.h);
      const stored = await q<{ c: bigint[] }>(`SELECT tch_chroot AS c FROM TaskChroots WHERE tch_hash = ${srv.h}`);
      expect(stored).toEqual([{ c: list }]);
    }
  }

  const plan = expectedPlanRows(root);
  const planHashes = [...new Set(plan.pkgs.map((p) => p.tplan_hash as bigint).concat(plan.hashes.map((p) => p.tplan_hash as bigint)))];
  if (planHashes.length) {
    const pp = await q(
      `SELECT tplan_hash, toString(tplan_action) AS tplan_action, tplan_pkg_name, tplan_pkg_evr, tplan_bin_file, tplan_src_file, tplan_arch, tplan_comp, tplan_subtask
       FROM TaskPlanPackages WHERE tplan_hash IN (${planHashes.join(",")})`,
    );
    expect(sorted(pp)).toEqual(sorted(plan.pkgs) as never);
    const ph = await q(`SELECT tplan_hash, toString(tplan_action) AS tplan_action, hex(tplan_sha256) AS tplan_sha256 FROM TaskPlanPkgHash WHERE tplan_hash IN (${planHashes.join(",")})`);
    expect(sorted(ph)).toEqual(sorted(plan.hashes) as never);
  }

  for (const l of expectedLogs(root)) {
    const rows = await q<{ l: number; t: number; m: string }>(`SELECT tlog_line AS l, toUInt32(tlog_ts) AS t, tlog_message AS m FROM TaskLogs WHERE tlog_hash = ${l.hash} ORDER BY tlog_line`);
    expect({ log: l.path, rows: rows.map((r) => [r.l, r.t, r.m]) }).toEqual({ log: l.path, rows: oracleLog(root, l) });
  }
}

function expectComplete(r: TaskLoadReport): void {
  expect(r.skipped).toEqual([]);
  expect(r.complete).toBe(true);
}

const written = (r: TaskLoadReport) => Object.fromEntries(Object.entries(r.rows).filter(([, n]) => n > 0));

describe("a DONE task with every kind of subtask", () => {
  let t: TaskResult;
  beforeAll(async () => {
    t = await makeTask(join(scratchDir("task"), "340001"), {
      id: 340001,
      state: "DONE",
      try: 2,
      iter: 1,
      message: "update foo and friends",
      depends: [339990],
      subtasks: [
        { type: "gear", generate: { name: "task-foo", version: "2.1", subpackages: ["libtask-foo"], noarchSubpackages: ["task-foo-doc"] }, approvals: [{ user: "alice", message: "ok" }] },
        { type: "delete", package: "obsolete-pkg", removedEvr: "0.9-alt3", removedBinaries: [{ name: "obsolete-pkg", arch: "x86_64" }, { name: "obsolete-pkg-doc", arch: "noarch" }] },
        { id: "240", type: "rebuild", package: "task-bar", rebuildFrom: "sisyphus", generate: { name: "task-bar", version: "0.5", noarch: true }, disapprovals: [{ user: "bob" }] },
        { type: "gear", removed: true },
      ],
      arepo: "auto",
    });
  }, 600_000);

  test("first load writes every table, rows equal the files' values", async () => {
    const r = await load(t.root);
    expectComplete(r);
    expect(r).toMatchObject({ taskId: 340001, state: "DONE", dryRun: false });
    const files = new Set<string>();
    for (const s of t.subtasks) {
      if (s.srpm) files.add(s.srpm);
      for (const list of Object.values(s.rpms)) for (const f of list) files.add(f);
    }
    // one arepo package, the srpms once, every binary of every arch
    expect(r.packages.seen).toBe(files.size + 1);
    expect(r.packages.failed).toBe(0);
    await expectTaskRows(t.root);
    // every package of the iterations is in Packages under its header-derived pkg_hash
    for (const f of files) {
      const [p] = await q<{ h: bigint; src: bigint }>(`SELECT pkg_hash AS h, pkg_srcrpm_hash AS src FROM Packages WHERE pkg_hash = ${pkgHashOf(join(t.root, f))}`);
      expect(p).toBeDefined();
    }
    // arepo: pkg_srcrpm_hash = 0
    const arepo = await q<{ a: string; s: bigint }>("SELECT pkg_arch AS a, pkg_srcrpm_hash AS s FROM Packages WHERE pkg_filename LIKE 'i586-%'");
    expect(arepo).toEqual([{ a: "x86_64-i586", s: 0n }]);
    // binaries point at their iteration's source
    const bins = await q<{ n: bigint }>(
      "SELECT count() AS n FROM Packages WHERE pkg_sourcerpm != pkg_filename AND pkg_filename NOT LIKE 'i586-%' AND pkg_srcrpm_hash NOT IN (SELECT pkg_hash FROM Packages WHERE pkg_sourcerpm = pkg_filename)",
    );
    expect(Number(bins[0].n)).toBe(0);
    // approvals (and the disapproval of a subtask) as written in acl/
    const apps = await q("SELECT subtask_id, toString(tapp_type) AS type, tapp_revoked, tapp_name, tapp_message FROM TaskApprovals WHERE task_id = 340001 ORDER BY subtask_id");
    expect(apps).toEqual([
      { subtask_id: 100, type: "approve", tapp_revoked: 0, tapp_name: "alice", tapp_message: "ok" },
      { subtask_id: 240, type: "disapprove", tapp_revoked: 0, tapp_name: "bob", tapp_message: "Please fix the changelog first." },
    ]);
    await expectNoDuplicates();
  });

  test("loading the same task again writes nothing", async () => {
    const before = await counts();
    const r = await load(t.root);
    expectComplete(r);
    expect(written(r)).toEqual({});
    expect(r.packages.known).toBe(r.packages.seen);
    expect(r.logs.every((l) => l.action === "unchanged")).toBe(true);
    expect(await counts()).toEqual(before);
  });

  test("a dry run of a new task reads everything and writes nothing", async () => {
    const other = await makeTask(join(scratchDir("task"), "340011"), { id: 340011, state: "TESTED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-dry", version: "1.0" } }] });
    const before = await counts();
    const r = await load(other.root, { dryRun: true });
    expect(r.dryRun).toBe(true);
    expect(r.rows.TaskStates).toBe(1);
    expect(r.rows.TaskLogs).toBeGreaterThan(0);
    expect(await counts()).toEqual(before);
  });
});

describe("reload rules", () => {
  test("reloading after a new iteration adds exactly the new rows", async () => {
    const base = scratchDir("task");
    const spec: TaskSpec = { id: 340020, state: "FAILED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-iter", version: "1.0" } }] };
    const first = await makeTask(join(base, "it1", "340020"), spec);
    // the second iteration: girar keeps logs/events.1.1.log and writes everything else anew
    const second = await makeTask(join(base, "it2", "340020"), { ...spec, state: "TESTED", iter: 2, time: 1709294400 + 86400 });
    const { copyFileSync, statSync, utimesSync } = await import("node:fs");
    const ev = "logs/events.1.1.log";
    copyFileSync(join(first.root, ev), join(second.root, ev));
    const st = statSync(join(first.root, ev));
    utimesSync(join(second.root, ev), st.atime, st.mtime);

    expectComplete(await load(first.root));
    const before = await counts();
    const r = await load(second.root);
    expectComplete(r);
    await expectTaskRows(first.root); // the first iteration's rows are kept
    await expectTaskRows(second.root);
    await expectNoDuplicates();
    // exactly the new rows: one state, the subtasks and iterations under the new task_changed,
    // the new plan, the new logs; the kept events log is not written again
    const after = await counts();
    const added = (t: string) => after[t] - before[t];
    expect(added("TaskStates")).toBe(1);
    expect(added("Tasks")).toBe(expectedTaskRows(second.root).length);
    expect(added("TaskIterations")).toBe(expectedIterationRows(second.root).length);
    const plan = expectedPlanRows(second.root);
    expect(added("TaskPlanPackages")).toBe(plan.pkgs.length);
    expect(added("TaskPlanPkgHash")).toBe(plan.hashes.length);
    const kept = r.logs.find((l) => l.path === ev)!;
    expect(kept).toMatchObject({ action: "unchanged", written: 0 });
    const newLines = expectedLogs(second.root)
      .filter((l) => l.path !== ev)
      .reduce((n, l) => n + oracleLog(second.root, l).length, 0);
    expect(added("TaskLogs")).toBe(newLines);
    expect(r.rows.TaskLogs).toBe(newLines);
  });

  test("a half-written task (build running) loads, and the finished build completes it without duplicates", async () => {
    const base = scratchDir("task");
    const spec: TaskSpec = {
      id: 340030,
      state: "BUILDING",
      try: 1,
      iter: 1,
      halfWritten: true,
      subtasks: [{ type: "gear", generate: { name: "task-half-a", version: "1.0" } }, { type: "gear", generate: { name: "task-half-b", version: "2.0" } }],
    };
    const half = await makeTask(join(base, "half", "340030"), spec);
    const r1 = await load(half.root);
    expectComplete(r1);
    await expectTaskRows(half.root);
    // the same try/iter, finished: logs grew, status files and packages appeared
    const done = await makeTask(join(base, "done", "340030"), { ...spec, state: "TESTED", halfWritten: false });
    const r2 = await load(done.root);
    expectComplete(r2);
    await expectTaskRows(done.root);
    await expectNoDuplicates();
    // the half-written build log was extended, not written twice
    const grown = r2.logs.filter((l) => l.action === "appended");
    expect(grown.length).toBeGreaterThan(0);
    // iterations with the same key and other values replaced the half-written ones
    const [n] = await q<{ n: bigint }>(`SELECT count() AS n FROM TaskIterations WHERE task_id = 340030`);
    expect(Number(n.n)).toBe(expectedIterationRows(done.root).length);
  });

  test("a log whose content or mtime changed is rewritten; rows loaded before the journal existed are replaced", async () => {
    const t = await makeTask(join(scratchDir("task"), "340035"), { id: 340035, state: "TESTED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-relog", version: "1.0" } }] });
    expectComplete(await load(t.root));
    const { statSync, utimesSync, writeFileSync } = await import("node:fs");
    // a build log's timestamps follow its mtime: touching it changes every row
    const build = join(t.root, "build/100/x86_64/log");
    const m = statSync(build).mtimeMs / 1000;
    utimesSync(build, m + 100, m + 100);
    // an events log rewritten with other content
    const ev = join(t.root, "logs/events.1.1.log");
    const em = statSync(ev).mtime;
    writeFileSync(ev, "2024-Mar-01 13:00:00 :: rewritten\n");
    utimesSync(ev, em, em);
    const r = await load(t.root);
    expectComplete(r);
    expect(r.logs.find((l) => l.path === "build/100/x86_64/log")?.action).toBe("rewritten");
    expect(r.logs.find((l) => l.path === "logs/events.1.1.log")?.action).toBe("rewritten");
    await expectTaskRows(t.root);
    await expectNoDuplicates();
    // rows of a log written by an earlier loader (no journal entry): replaced, not duplicated
    const srpmLog = expectedLogs(t.root).find((l) => l.path === "build/100/i586/srpm.log")!;
    await db.command(`DELETE FROM altrepodb_task_logs WHERE tlog_hash = ${srpmLog.hash}`);
    await db.command(`INSERT INTO TaskLogs SELECT tlog_hash, tlog_line, tlog_ts + 1, tlog_message FROM TaskLogs WHERE tlog_hash = ${srpmLog.hash}`);
    const r2 = await load(t.root);
    expect(r2.logs.find((l) => l.path === srpmLog.path)?.action).toBe("rewritten");
    await expectTaskRows(t.root);
    await expectNoDuplicates();
  });

  test("a first log line longer than max_query_size (256 KiB) loads, reloads and is replaced like any other", async () => {
    const t = await makeTask(join(scratchDir("task"), "340036"), { id: 340036, state: "TESTED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-wide", version: "1.0" } }] });
    const { statSync, utimesSync, writeFileSync } = await import("node:fs");
    // first lines of 400 KiB (with quotes and backslashes, which SQL text would have to escape)
    const wide = "x'\\ ".repeat(100 * 1024);
    for (const [rel, first] of [
      ["build/100/x86_64/log", `[00:00:01] ${wide}`],
      ["logs/events.1.1.log", `2024-Mar-01 12:00:00 :: ${wide}`],
    ]) {
      const p = join(t.root, rel);
      const m = statSync(p).mtime;
      writeFileSync(p, `${first}\n${readFileSync(p, "latin1")}`, "latin1");
      utimesSync(p, m, m);
    }
    expectComplete(await load(t.root));
    await expectTaskRows(t.root);
    const again = await load(t.root);
    expectComplete(again);
    expect(again.rows.TaskLogs ?? 0).toBe(0);
    // written by an earlier loader (no journal entry): found by its first line and replaced
    const build = expectedLogs(t.root).find((l) => l.path === "build/100/x86_64/log")!;
    await db.command(`DELETE FROM altrepodb_task_logs WHERE tlog_hash = ${build.hash}`);
    await db.command(`INSERT INTO TaskLogs SELECT tlog_hash, tlog_line, tlog_ts + 1, tlog_message FROM TaskLogs WHERE tlog_hash = ${build.hash}`);
    const r = await load(t.root);
    expectComplete(r);
    expect(r.logs.find((l) => l.path === build.path)?.action).toBe("rewritten");
    await expectTaskRows(t.root);
    await expectNoDuplicates();
  });

  test("a task in state NEW loads without logs when the caller asks so (daemon)", async () => {
    const t = await makeTask(join(scratchDir("task"), "340040"), { id: 340040, state: "NEW", subtasks: [{ type: "gear", generate: { name: "task-new", version: "1.0" } }, { type: "delete", package: "old-thing" }] });
    const r = await loadTask(contextFor(db), { path: t.root, storeApprovals: false, storeLogsForNew: false });
    expectComplete(r);
    expect(r.logs).toEqual([]);
    const st = expectedStateRow(t.root);
    expect((await q(`SELECT task_state FROM TaskStates WHERE task_id = 340040`)).length).toBe(1);
    expect(st.task_try).toBe(0);
  });

  test("approvals: a removed approval is revoked once; approve and disapprove by one user are not re-inserted", async () => {
    const t = await makeTask(join(scratchDir("task"), "340050"), {
      id: 340050,
      state: "EPERM",
      try: 1,
      iter: 1,
      subtasks: [{ type: "gear", generate: { name: "task-acl", version: "1.0" }, approvals: [{ user: "carol" }, { user: "dave" }], disapprovals: [{ user: "dave" }] }],
    });
    await load(t.root);
    const rows = () => q<{ n: string; t: string; r: number }>("SELECT tapp_name AS n, toString(tapp_type) AS t, tapp_revoked AS r FROM TaskApprovals WHERE task_id = 340050 ORDER BY n, t, r");
    expect(await rows()).toEqual([
      { n: "carol", t: "approve", r: 0 },
      { n: "dave", t: "approve", r: 0 },
      { n: "dave", t: "disapprove", r: 0 },
    ]);
    await load(t.root);
    expect((await rows()).length).toBe(3);
    unlinkSync(join(t.root, "acl/approved/100/carol"));
    await load(t.root);
    await load(t.root);
    expect(await rows()).toEqual([
      { n: "carol", t: "approve", r: 0 },
      { n: "carol", t: "approve", r: 1 },
      { n: "dave", t: "approve", r: 0 },
      { n: "dave", t: "disapprove", r: 0 },
    ]);
  });
});

describe("bad input", () => {
  test("a path that is not a task: InputError naming it, nothing written", async () => {
    const before = await counts();
    await expect(load(scratchDir("not-a-task"))).rejects.toBeInstanceOf(InputError);
    await expect(load(join(scratchDir("x"), "missing"))).rejects.toThrow(/not a directory|task\/id is missing/);
    expect(await counts()).toEqual(before);
  });

  test("garbage files: what can be loaded is loaded, the rest is reported by file", async () => {
    const t = await makeTask(join(scratchDir("task"), "340060"), {
      id: 340060,
      state: "TESTED",
      try: 1,
      iter: 1,
      subtasks: [
        { type: "gear", generate: { name: "task-junk-a", version: "1.0" } },
        { type: "gear", generate: { name: "task-junk-b", version: "1.0" } },
      ],
      garbage: {
        strayFiles: true,
        emptyStatus: ["100/x86_64"],
        missingStatus: ["200/i586"],
        missingUserid: ["100"],
        nevrWithoutTab: ["200"],
        badAclHeader: ["100"],
        corruptPkglist: true,
        corruptInfoJson: true,
      },
    });
    // a malformed acl header needs an approval to be malformed
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(t.root, "acl/approved/100/eve"), "2024-Mar-01 12:00:00 approved by eve\nno separator\n");
    writeFileSync(join(t.root, "plan/add-bin"), "garbage line without tabs\n", { flag: "a" });
    // a directory where a file is expected: unreadable as a file
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(t.root, "task/message"));
    const r = await load(t.root);
    expect(r.complete).toBe(false);
    const why = r.skipped.map((s) => `${s.path.slice(t.root.length + 1)}: ${s.error}`);
    expect(why.some((w) => w.startsWith("acl/approved/100/eve: approval file ignored"))).toBe(true);
    expect(why.some((w) => w.startsWith("build/repo/") && w.includes("pkglist.task.xz: cannot read the header list"))).toBe(true);
    expect(why.some((w) => w.startsWith("plan/add-bin: ignored line"))).toBe(true);
    expect(why).toContain("task/message: is a directory, expected a file");
    const notes = r.warnings.map((s) => s.path.slice(t.root.length + 1));
    expect(notes).toContain("info.json");
    expect(notes).toContain("gears/200/nevr");
    // everything else is there: packages, iterations (missing userid, empty/missing status), logs;
    // the state row is not: a task whose state is visible is completely loaded
    expect(r.packages.failed).toBe(0);
    await expectTaskRows(t.root, { state: false });
    await expectNoDuplicates();
  });

  test("non-UTF-8 log lines are stored with \\xNN escapes, as the reference decodes them", async () => {
    const t = await makeTask(join(scratchDir("task"), "340070"), { id: 340070, state: "TESTED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-bin", version: "1.0" } }] });
    // latin-1, KOI8-R, a NUL and a lone CR, as raw bytes (the fixture's binaryLogs writes UTF-8)
    const { appendFileSync, statSync, utimesSync } = await import("node:fs");
    const raw = (s: string) => Buffer.from(s, "latin1");
    for (const [rel, bytes] of [
      ["build/100/x86_64/log", raw("[00:00:14] latin-1: caf\xe9 \x00 end\r[00:00:15] after a lone CR\n")],
      ["logs/events.1.1.log", raw("2024-Mar-01 12:59:00 :: koi8: \xf0\xd2\xc9\xd7\xc5\xd4\n")],
    ] as const) {
      const p = join(t.root, rel);
      const m = statSync(p).mtime;
      appendFileSync(p, bytes);
      utimesSync(p, m, m);
    }
    const r = await load(t.root);
    expectComplete(r);
    await expectTaskRows(t.root); // every line equals the Python oracle's
    const msgs = (await q<{ m: string }>("SELECT tlog_message AS m FROM TaskLogs WHERE tlog_hash IN (SELECT titer_buildlog_hash FROM TaskIterations WHERE task_id = 340070) ORDER BY tlog_line")).map((x) => x.m);
    expect(msgs).toContain("latin-1: caf\\xe9 \x00 end");
    expect(msgs).toContain("after a lone CR");
    const [koi] = await q<{ m: string }>("SELECT tlog_message AS m FROM TaskLogs WHERE tlog_message LIKE 'koi8:%' LIMIT 1");
    expect(koi.m).toBe("koi8: \\xf0\\xd2\\xc9\\xd7\\xc5\\xd4");
  });

  test("a truncated RPM in a first load: named, every good row written, no state row; fixed, a rerun completes the task", async () => {
    const t = await makeTask(join(scratchDir("task"), "340080"), {
      id: 340080,
      state: "TESTED",
      try: 1,
      iter: 1,
      subtasks: [
        { type: "gear", generate: { name: "task-trunc", version: "1.0", subpackages: ["libtask-trunc"] } },
        { type: "gear", generate: { name: "task-trunc-ok", version: "1.0" } },
      ],
    });
    const bad = t.subtasks[0].rpms.x86_64[0];
    const good = readFileSync(join(t.root, bad));
    writeFileSync(join(t.root, bad), good.subarray(0, Math.floor(good.length / 3)));
    const r = await load(t.root);
    expect(r.complete).toBe(false);
    expect(r.packages.failed).toBe(1);
    expect(r.skipped.map((s) => s.path)).toEqual([join(t.root, bad)]);
    expect(r.packages.parsed).toBe(r.packages.seen - 1);
    // every good row is there; the iteration with the unreadable file is not written stripped of
    // it, and the state row (which says "completely loaded") is not written
    await expectTaskRows(t.root, { state: false, withheld: ["100/x86_64"] });
    expect(await q("SELECT task_id FROM TaskStates WHERE task_id = 340080")).toEqual([]);
    expect(r.rows.TaskStates ?? 0).toBe(0);
    // the file fixed: the rerun writes the rest and the state
    writeFileSync(join(t.root, bad), good);
    const again = await load(t.root);
    expectComplete(again);
    expect(again.rows.TaskStates).toBe(1);
    await expectTaskRows(t.root);
    await expectNoDuplicates();
  });

  test("a reload after an RPM became unreadable keeps the stored iteration rows and state", async () => {
    const t = await makeTask(join(scratchDir("task"), "340081"), {
      id: 340081,
      state: "DONE",
      try: 1,
      iter: 1,
      subtasks: [{ type: "gear", generate: { name: "task-gone", version: "1.0", subpackages: ["libtask-gone"], noarchSubpackages: ["task-gone-doc"] } }],
    });
    expectComplete(await load(t.root));
    const iterations = async () => q("SELECT * FROM TaskIterations WHERE task_id = 340081 ORDER BY subtask_id, subtask_arch");
    const stored = await iterations();
    const rpms = t.subtasks[0].rpms.x86_64;
    // a noarch binary truncated (its digest is computed from the file, so it is read again)
    const noarch = rpms.find((f) => f.includes(".noarch.rpm"))!;
    const bytes = readFileSync(join(t.root, noarch));
    writeFileSync(join(t.root, noarch), bytes.subarray(0, 200));
    const r = await load(t.root);
    expect(r.complete).toBe(false);
    expect(r.skipped.map((s) => s.path)).toEqual([join(t.root, noarch)]);
    expect(r.rows.TaskIterations ?? 0).toBe(0);
    expect(await iterations()).toEqual(stored);
    expect((await q("SELECT task_id FROM TaskStates WHERE task_id = 340081")).length).toBe(1);
    await expectNoDuplicates();
  });

  test("paths out of the task directory (symlinks, `..` in plan files) are refused by name, never read", async () => {
    const base = scratchDir("task");
    const t = await makeTask(join(base, "340083"), {
      id: 340083,
      state: "TESTED",
      try: 1,
      iter: 1,
      subtasks: [
        { type: "gear", generate: { name: "task-jail-a", version: "1.0" } },
        { type: "gear", generate: { name: "task-jail-b", version: "1.0" } },
      ],
    });
    // outside the tree: a secret, a subtask directory, an RPM (of another task, never loaded)
    const other = await makeTask(join(base, "outside", "340084"), { id: 340084, state: "TESTED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-outside", version: "1.0" } }] });
    const out = join(base, "outside");
    writeFileSync(join(out, "passwd"), "root:x:0:0:SECRET-MARKER:/root:/bin/sh\n");
    const outsideRpm = join(other.root, other.subtasks[0].rpms.x86_64[0]);
    const srpmLog = "build/100/x86_64/srpm.log";
    rmSync(join(t.root, srpmLog));
    symlinkSync(join(out, "passwd"), join(t.root, srpmLog));
    symlinkSync(join(other.root, "gears/100"), join(t.root, "gears/300"));
    const evil = "build/100/x86_64/rpms/evil-1.0-alt1.x86_64.rpm";
    symlinkSync(outsideRpm, join(t.root, evil));
    // plan/add-src names the source package of subtask 200 by a path that climbs out
    const addSrc = join(t.root, "plan/add-src");
    const climb = `../outside/340084/${other.subtasks[0].srpm}`;
    const m = statSync(addSrc).mtime;
    writeFileSync(addSrc, readFileSync(addSrc, "latin1").replace(/^(.*\t)[^\t]+(\t200)$/m, `$1${climb}$2`), "latin1");
    utimesSync(addSrc, m, m);

    const r = await load(t.root);
    expect(r.complete).toBe(false);
    const why = r.skipped.map((s) => `${s.path.slice(t.root.length + 1)}: ${s.error}`);
    expect(why).toContain(`${srpmLog}: symlink to ${join(out, "passwd")}, outside the task directory; refused`);
    expect(why).toContain(`gears/300: symlink to ${join(other.root, "gears/100")}, outside the task directory; refused`);
    expect(why).toContain(`${evil}: symlink to ${outsideRpm}, outside the task directory; refused`);
    expect(r.skipped).toContainEqual({ path: join(t.root, climb), error: "path leaves the task directory; refused" });
    // nothing of it was read
    expect(await q("SELECT tlog_line FROM TaskLogs WHERE position(tlog_message, 'SECRET-MARKER') > 0")).toEqual([]);
    expect(await q("SELECT subtask_id FROM Tasks WHERE task_id = 340083 AND subtask_id = 300")).toEqual([]);
    expect(await q(`SELECT pkg_hash FROM Packages WHERE pkg_hash IN (${pkgHashOf(outsideRpm)}, ${pkgHashOf(join(other.root, other.subtasks[0].srpm!))})`)).toEqual([]);
    expect(await q("SELECT task_id FROM TaskStates WHERE task_id = 340083")).toEqual([]);
    // what is inside is loaded: subtask 100's packages and logs
    for (const f of [t.subtasks[0].srpm!, ...t.subtasks[0].rpms.x86_64]) expect((await q(`SELECT pkg_hash FROM Packages WHERE pkg_hash = ${pkgHashOf(join(t.root, f))}`)).length).toBe(1);
    expect(r.logs.map((l) => l.path)).toContain("build/100/x86_64/log");
    expect(r.logs.map((l) => l.path)).not.toContain(srpmLog);
  });

  test("an unreadable source package: its binaries are not stored with pkg_srcrpm_hash 0", async () => {
    const t = await makeTask(join(scratchDir("task"), "340082"), {
      id: 340082,
      state: "TESTED",
      try: 1,
      iter: 1,
      subtasks: [{ type: "gear", generate: { name: "task-nosrc", version: "1.0" } }],
    });
    const src = t.subtasks[0].srpm!;
    const good = readFileSync(join(t.root, src));
    writeFileSync(join(t.root, src), good.subarray(0, 300));
    const r = await load(t.root);
    expect(r.complete).toBe(false);
    const why = r.skipped.map((s) => `${s.path.slice(t.root.length + 1)}: ${s.error}`);
    expect(why.some((w) => w.startsWith(`${src}: `))).toBe(true);
    for (const b of t.subtasks[0].rpms.x86_64) expect(why).toContain(`${b}: not loaded: its source package ${src} could not be read`);
    const bins = t.subtasks[0].rpms.x86_64.map((b) => pkgHashOf(join(t.root, b)));
    expect(await q(`SELECT pkg_hash FROM Packages WHERE pkg_hash IN (${bins.join(",")})`)).toEqual([]);
    writeFileSync(join(t.root, src), good);
    expectComplete(await load(t.root));
    await expectTaskRows(t.root);
    const [bad] = await q<{ n: bigint }>(`SELECT count() AS n FROM Packages WHERE pkg_hash IN (${bins.join(",")}) AND pkg_srcrpm_hash != ${pkgHashOf(join(t.root, src))}`);
    expect(Number(bad.n)).toBe(0);
    await expectNoDuplicates();
  });
});
