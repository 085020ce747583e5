/**
 * The task loader end to end on girar task trees with real RPMs (tests/fixtures/task.ts), through
 * `loadTask`, the function the CLI and the daemon call. Every table's rows are compared with
 * values derived independently from the files (tests/task/_task.ts, the Python log oracle).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { rmSync, unlinkSync } from "node:fs";
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

/** Compares every task table's rows for this tree with the independently derived ones. */
async function expectTaskRows(root: string): Promise<void> {
  const st = expectedStateRow(root);
  const id = st.task_id;
  const states = await q(
    `SELECT toUInt32(task_changed) AS task_changed, task_id, task_state, task_runby, task_depends, task_try, task_testonly, task_failearly, task_shared,
            task_message, task_version, task_prev, arraySort(task_eventlog_hash) AS task_eventlog_hash
     FROM TaskStates WHERE task_id = ${id} AND task_changed = ${st.task_changed}`,
  );
  expect(states).toEqual([{ ...st, task_eventlog_hash: st.task_eventlog_hash } as never]);

  const tasks = await q(
    `SELECT task_id, subtask_id, task_repo, task_owner, toUInt32(task_changed) AS task_changed, toUInt32(subtask_changed) AS subtask_changed, subtask_deleted,
            subtask_userid, subtask_dir, subtask_package, toString(subtask_type) AS subtask_type, subtask_pkg_from, subtask_sid, subtask_tag_author,
            subtask_tag_id, subtask_tag_name, subtask_srpm, subtask_srpm_name, subtask_srpm_evr
     FROM Tasks WHERE task_id = ${id} AND task_changed = ${st.task_changed}`,
  );
  expect(sorted(tasks)).toEqual(sorted(expectedTaskRows(root)) as never);

  const its = expectedIterationRows(root);
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
