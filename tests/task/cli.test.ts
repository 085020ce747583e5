/**
 * `altrepodb task load|clean` as a user runs them: a separate process with its own config and
 * embedded database. Kill -9 at the worst moments, then run again: the end state is complete
 * and has every row once.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, closeSync, openSync, readFileSync, renameSync, statSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../fixtures/_util";
import { makeTask, type TaskResult } from "../fixtures/task";
import { CLI, cli, expectExit, newConfig as newConfig_, query } from "../helpers/cli";
import { slowOr, slowTest } from "../helpers/slow";
import { expectedIterationRows, expectedLogs, expectedTaskRows, oracleLog } from "./_task";

setDefaultTimeout(300_000);


/** Starts a load that stops at a hook point, and kills it with SIGKILL once it is there. */
async function killAt(config: string, args: string[], point: string): Promise<void> {
  const p = Bun.spawn([...CLI, "-c", config, ...args], { env: { ...process.env, ALTREPODB_TEST_TASK_HOOK: point }, stdout: "ignore", stderr: "pipe" });
  const reader = p.stderr.getReader();
  let seen = "";
  const dec = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += dec.decode(value);
    if (seen.includes(`altrepodb-hook ${point}`)) break;
  }
  expect(seen).toContain(`altrepodb-hook ${point}`);
  p.kill("SIGKILL");
  await p.exited;
  expect(p.signalCode).toBe("SIGKILL");
}

const newConfig = () => newConfig_("task-cli", true);

const KEYS: Record<string, string> = {
  Tasks: "task_id, subtask_id, task_changed, subtask_changed, subtask_deleted",
  TaskStates: "task_changed, task_id, task_state, task_try",
  TaskIterations: "task_id, subtask_id, subtask_arch, task_changed, titer_ts, titer_status, task_try, task_iter",
  TaskChroots: "tch_chroot",
  TaskLogs: "tlog_message, tlog_line, tlog_hash",
  TaskPlanPackages: "tplan_hash, tplan_action, tplan_src_file, tplan_bin_file",
  TaskPlanPkgHash: "tplan_hash, tplan_action, tplan_sha256",
  TaskApprovals: "task_id, subtask_id, tapp_type, tapp_revoked, tapp_date, tapp_name",
  Packages: "pkg_hash",
  Files: "pkg_hash, file_hashname",
  Depends: "pkg_hash, dp_name, dp_version, dp_flag, dp_type",
  PackageHash: "pkgh_mmh",
};

/** Every table: no row twice; the task's rows are all there (few queries: each is a process). */
function expectCompleteOnce(config: string, t: TaskResult): void {
  const parts = Object.entries(KEYS).map(([table, key]) => `SELECT '${table}' AS t, count() AS n, uniqExact(${key}) AS u FROM ${table}`);
  for (const r of query(config, parts.join(" UNION ALL "))) expect({ table: r.t, n: Number(r.n) }).toEqual({ table: r.t, n: Number(r.u) });
  const [c] = query(
    config,
    `SELECT (SELECT count() FROM TaskStates WHERE task_id = ${t.id}) AS states, (SELECT count() FROM Tasks WHERE task_id = ${t.id}) AS tasks,
            (SELECT count() FROM TaskIterations WHERE task_id = ${t.id}) AS iterations`,
  );
  expect({ states: Number(c.states), tasks: Number(c.tasks), iterations: Number(c.iterations) }).toEqual({
    states: 1,
    tasks: expectedTaskRows(t.root).length,
    iterations: expectedIterationRows(t.root).length,
  });
  const logs = expectedLogs(t.root);
  const got = new Map(query(config, `SELECT toString(tlog_hash) AS h, count() AS n FROM TaskLogs WHERE tlog_hash IN (${logs.map((l) => l.hash).join(",")}) GROUP BY tlog_hash`).map((r) => [r.h, Number(r.n)]));
  for (const l of logs) expect({ log: l.path, n: got.get(String(l.hash)) }).toEqual({ log: l.path, n: oracleLog(t.root, l).length });
}

let task: TaskResult;
let bigLogTask: TaskResult;
beforeAll(async () => {
  const base = scratchDir("task-cli-trees");
  task = await makeTask(join(base, "340201"), {
    id: 340201,
    state: "DONE",
    try: 1,
    iter: 1,
    subtasks: [
      { type: "gear", generate: { name: "task-cli-a", version: "1.0", subpackages: ["libtask-cli-a"] }, approvals: [{ user: "alice" }] },
      { type: "gear", generate: { name: "task-cli-b", version: "1.0", noarch: true } },
    ],
  });
  // a build log of 250,000 lines: written in several batches
  bigLogTask = await makeTask(join(base, "340202"), { id: 340202, state: "TESTED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-cli-big", version: "1.0" } }] });
  const log = join(bigLogTask.root, "build/100/x86_64/log");
  const m = statSync(log).mtime;
  const lines: string[] = [];
  for (let i = 0; i < 250_000; i++) lines.push(`[00:${String(Math.floor(i / 6000) % 60).padStart(2, "0")}:${String(Math.floor(i / 100) % 60).padStart(2, "0")}] line ${i} of a long build`);
  appendFileSync(log, lines.join("\n") + "\n");
  utimesSync(log, m, m);
}, 600_000);

describe("task load from the command line", () => {
  test("load, JSON report, second run writes nothing", () => {
    const cfg = newConfig();
    const r = cli(cfg, ["task", "load", task.root, "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ task_id: 340201, state: "DONE", complete: true, skipped: [] });
    expect(report.rows.TaskStates).toBe(1);
    const again = cli(cfg, ["task", "load", `${task.root}/`, "--json"]);
    expect(again.code).toBe(0);
    const r2 = JSON.parse(again.stdout);
    expect(Object.values(r2.rows).every((n) => n === 0)).toBe(true);
    expectCompleteOnce(cfg, task);
    const text = cli(cfg, ["task", "load", task.root]);
    expect(text.stdout).toContain("task 340201 DONE");
    expect(text.stdout).toContain("none (already loaded)");
  });

  test("usage, input and incomplete-load errors: messages and exit codes", () => {
    const cfg = newConfig();
    const bad = cli(cfg, ["task", "load", "/nonexistent/tasks/1"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("/nonexistent/tasks/1: not a directory");
    expect(bad.stderr).not.toContain("    at ");
    const notTask = cli(cfg, ["task", "load", scratchDir("empty")]);
    expect(notTask.code).toBe(1);
    expect(notTask.stderr).toContain("not a girar task directory: task/id is missing");
    // one bad path among good ones: the good one is loaded, the exit code says not everything was
    const mixed = cli(cfg, ["task", "load", "/nonexistent/x", task.root, "--json"]);
    expect(mixed.code).toBe(1);
    const lines = mixed.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ path: "/nonexistent/x", complete: false });
    expect(lines[1]).toMatchObject({ task_id: 340201, complete: true });
    expect(cli(cfg, ["task", "load", task.root, "--backfill", "sometimes"]).code).toBe(2);
    expect(cli(cfg, ["task", "load"]).code).toBe(2);
  });

  test("a truncated RPM: exit 1 naming the file, the good rows written, no state until the file is fixed", async () => {
    const t = await makeTask(join(scratchDir("task-cli-trees"), "340203"), {
      id: 340203,
      state: "TESTED",
      try: 1,
      iter: 1,
      subtasks: [{ type: "gear", generate: { name: "task-cli-trunc", version: "1.0", subpackages: ["libtask-cli-trunc"] } }],
      garbage: { truncatedRpm: true },
    });
    const cfg = newConfig();
    const r = cli(cfg, ["task", "load", t.root]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/skipped: .*build\/100\/x86_64\/rpms\/.*\.rpm: /);
    expect(r.stderr).toContain("not loaded completely");
    expect(r.stdout).toContain("state not written");
    // the state row says "completely loaded": it is not written, everything else is
    expect(query(cfg, "SELECT task_state FROM TaskStates WHERE task_id = 340203")).toEqual([]);
    expect(Number(query(cfg, "SELECT count() AS n FROM Tasks WHERE task_id = 340203")[0].n)).toBeGreaterThan(0);
    expect(Number(query(cfg, "SELECT count() AS n FROM TaskLogs")[0].n)).toBeGreaterThan(0);
  });

  test("a 64 MiB log line: the loader holds it once, the load's peak memory stays bounded, the line is stored whole", async () => {
    const t = await makeTask(join(scratchDir("task-cli-trees"), "340204"), { id: 340204, state: "TESTED", try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: "task-cli-wide", version: "1.0" } }] });
    // peak RSS of a whole `task load` process (kB), from /usr/bin/time (package time, .ci/setup)
    const peak = (config: string, ...extra: string[]): number => {
      const r = Bun.spawnSync(["/usr/bin/time", "-f", "peak %M", ...CLI, "-c", config, "task", "load", t.root, ...extra], { stdout: "pipe", stderr: "pipe" });
      const err = r.stderr.toString();
      expect({ code: r.exitCode, err: err.includes("ERROR") ? err : "" }).toEqual({ code: 0, err: "" });
      return Number(/peak (\d+)\s*$/.exec(err)![1]) * 1024;
    };
    // the same task without the long line, each in a database of its own
    const base = peak(newConfig());
    const dryBase = peak(newConfig(), "--dry-run");
    const size = 64 << 20;
    const log = join(t.root, "build/100/x86_64/log");
    const before = oracleLog(t.root, expectedLogs(t.root).find((x) => x.path === "build/100/x86_64/log")!).length;
    expect(readFileSync(log, "latin1").endsWith("\n")).toBe(true);
    const m = statSync(log).mtime;
    const fd = openSync(log, "a");
    writeSync(fd, "[00:00:20] ");
    const chunk = Buffer.alloc(1 << 20, "make[2]: wide output ");
    for (let i = 0; i < size >> 20; i++) writeSync(fd, chunk);
    writeSync(fd, "\n[00:00:21] after the wide line\n");
    closeSync(fd);
    utimesSync(log, m, m);
    // the loader itself holds the line once (a dry run: everything but the insert; it took 4×)
    expect(peak(newConfig(), "--dry-run") - dryBase).toBeLessThan(2 * size);
    // the embedded engine needs about 5× a row to insert it into TaskLogs, whose sorting key
    // starts with the message (measured on a single-row insert); the whole load took ≈ 10×
    const cfg = newConfig();
    const wide = peak(cfg);
    expect(wide - base).toBeLessThan(7.5 * size);
    const [row] = query(cfg, "SELECT length(tlog_message) AS n, tlog_line AS l FROM TaskLogs WHERE length(tlog_message) > 1000000");
    expect({ n: Number(row.n), l: Number(row.l) }).toEqual({ n: size, l: before + 1 });
  });

  // every kill point with ALTREPODB_SLOW_TESTS=1
  for (const point of slowOr(["packages", "rows", "states"], ["rows"])) {
    test(`killed with SIGKILL at "${point}", run again: complete, every row once`, async () => {
      const cfg = newConfig();
      await killAt(cfg, ["task", "load", task.root], point);
      // the state row is written last: a killed load has none
      expect(query(cfg, `SELECT task_id FROM TaskStates WHERE task_id = ${task.id}`)).toEqual([]);
      const rerun = cli(cfg, ["task", "load", task.root]);
      expect(rerun.stderr).not.toContain("ERROR");
      expect(rerun.code).toBe(0);
      expectCompleteOnce(cfg, task);
    });
  }

  slowTest("killed with SIGKILL in the middle of a 250,000-line log, run again: the log is complete, every line once", async () => {
    const cfg = newConfig();
    await killAt(cfg, ["task", "load", bigLogTask.root], "logs");
    const [partial] = query(cfg, "SELECT count() AS n FROM TaskLogs");
    expect(Number(partial.n)).toBeGreaterThan(0);
    const rerun = cli(cfg, ["task", "load", bigLogTask.root, "--json"]);
    expect(rerun.code).toBe(0);
    const report = JSON.parse(rerun.stdout);
    expect(report.logs.find((l: { path: string }) => l.path === "build/100/x86_64/log")).toMatchObject({ lines: 250_000 + 7 });
    expectCompleteOnce(cfg, bigLogTask);
  });

  slowTest("killed by the store's own crash points inside a package checkpoint, run again: every row once", () => {
    const cfg = newConfig();
    const killed = cli(cfg, ["task", "load", task.root], { ALTREPODB_CRASH_AT: "after-Packages" });
    expect(killed.signal).toBe("SIGKILL");
    expect(cli(cfg, ["task", "load", task.root]).code).toBe(0);
    expectCompleteOnce(cfg, task);
  });
});

describe("task clean from the command line", () => {
  test("gone tasks become DELETED, differing states are listed, dry run writes nothing", async () => {
    const cfg = newConfig();
    const tasks = scratchDir("clean-tasks");
    const mk = (id: number, state: "TESTED" | "EPERM" | "DONE") => makeTask(join(tasks, String(id)), { id, state, try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name: `task-clean-${id}`, version: "1.0" } }] });
    await mk(340301, "TESTED");
    await mk(340302, "EPERM");
    await mk(340303, "TESTED");
    await mk(340304, "DONE");
    for (const id of [340301, 340302, 340303, 340304]) expectExit(cli(cfg, ["task", "load", join(tasks, String(id))]), 0);
    renameSync(join(tasks, "340302"), join(scratchDir("elsewhere"), "340302")); // gone
    writeFileSync(join(tasks, "340303", "task/state"), "FAILED\n"); // the DB has TESTED
    renameSync(join(tasks, "340304"), join(scratchDir("elsewhere"), "340304")); // DONE: never touched

    const dry = expectExit(cli(cfg, ["task", "clean", tasks, "--dry-run", "--json"]), 0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ checked: 3, deleted: [340302], unclear: [{ task_id: 340303, db: "TESTED", fs: "FAILED" }], rows: 0 });
    expect(query(cfg, "SELECT count() AS n FROM TaskStates WHERE task_state = 'DELETED'")).toEqual([{ n: "0" }]);

    const real = expectExit(cli(cfg, ["task", "clean", tasks]), 0);
    expect(real.stdout).toBe("340303\t@DB\tTESTED\t@FS\tFAILED\n");
    expect(query(cfg, "SELECT task_id, task_message FROM TaskStates WHERE task_state = 'DELETED'")).toEqual([{ task_id: 340302, task_message: "task found as deleted by task_cleaner" }]);
    // idempotent: a DELETED task is no longer open
    const again = JSON.parse(expectExit(cli(cfg, ["task", "clean", tasks, "--json"]), 0).stdout);
    expect(again.deleted).toEqual([]);
    expect(again.checked).toBe(2);
    const one = JSON.parse(expectExit(cli(cfg, ["task", "clean", tasks, "--task", "340301", "--json"]), 0).stdout);
    expect(one).toMatchObject({ checked: 1, deleted: [], unclear: [] });
    const closed = JSON.parse(expectExit(cli(cfg, ["task", "clean", tasks, "--task", "340302", "--json"]), 0).stdout);
    expect(closed).toMatchObject({ checked: 0, not_open: 340302 });
    // an empty (unmounted?) tasks directory is refused
    const empty = expectExit(cli(cfg, ["task", "clean", scratchDir("empty-tasks")]), 1);
    expect(empty.stderr).toContain("the tasks directory is empty");
    expectExit(cli(cfg, ["task", "clean", tasks, "--task", "abc"]), 2);
  });
});
