/**
 * The repo and task services with the real loaders on fixture snapshots and girar task trees:
 * first their handlers directly (what is refused, what is loaded, what is skipped), then the
 * daemon process with both services, killed with -9 in the middle of the loads and restarted —
 * every message must end done exactly once in the database.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { loadConfig, parseConfigText, resolveConfig, type Config } from "../../src/config";
import { Daemon } from "../../src/daemon/daemon";
import type { Db } from "../../src/db";
import { AlreadyLoaded, InputError } from "../../src/loaders/errors";
import { log } from "../../src/log";
import { REGISTRY } from "../../src/daemon/services";
import { todays } from "../../src/daemon/services/repo";
import type { DaemonStatus } from "../../src/daemon/status";
import type { HandleResult, IncomingMessage, ServiceContext } from "../../src/daemon/types";
import { scratchDir } from "../fixtures/_util";
import { makeTask, type TaskSpec } from "../fixtures/task";
import { edgeSnapshot, migratedDb } from "../repo/_snapshot";
import { BROKER_UP, makeVhost, until } from "../amqp/_broker";
import { daemonConfigText, FlakyDb, TestClient } from "./_daemon";

setDefaultTimeout(60_000);

const ROOT = join(import.meta.dir, "..", "..");
const CLI = process.env.ALTREPODB_TEST_BINARY ? [join(ROOT, process.env.ALTREPODB_TEST_BINARY)] : [process.execPath, join(ROOT, "src/cli/main.ts")];

let base: string;
let snapshot: string;
let tasksDir: string;
let archiveDir: string;
const TASKS = { done: 341001, tested: 341002, archived: 341003, eperm: 341004 } as const;

function spec(id: number, state: TaskSpec["state"], name: string): TaskSpec {
  return { id, state, try: 1, iter: 1, subtasks: [{ type: "gear", generate: { name, version: "1.0" }, approvals: [{ user: "alice" }] }] };
}

beforeAll(async () => {
  base = scratchDir("dloads");
  snapshot = (await edgeSnapshot()).root;
  tasksDir = join(base, "tasks");
  archiveDir = join(base, "archive");
  await makeTask(join(tasksDir, String(TASKS.done)), spec(TASKS.done, "DONE", "dtask-a"));
  await makeTask(join(tasksDir, String(TASKS.tested)), spec(TASKS.tested, "TESTED", "dtask-b"));
  await makeTask(join(archiveDir, `_${Math.floor(TASKS.archived / 1024)}`, String(TASKS.archived)), spec(TASKS.archived, "DONE", "dtask-c"));
  await makeTask(join(tasksDir, String(TASKS.eperm)), spec(TASKS.eperm, "EPERM", "dtask-d"));
}, 900_000);

describe("service handlers with the real loaders", () => {
  let db: Db;
  let config: Config;
  beforeAll(async () => {
    db = await migratedDb("dsvc");
    config = loadConfig({ env: {}, cwd: "/nonexistent" });
    config.load.workers = 2;
    config.repoDirs = { b1: snapshot, gone: join(base, "missing") };
    config.taskDirs = { tasks: tasksDir, archive: archiveDir };
  }, 120_000);

  function call(service: "repo" | "task", routingKey: string, body: unknown, options: Record<string, unknown> = {}): Promise<HandleResult> {
    const m = REGISTRY[service];
    const payload = v.parse(m.schema(routingKey)!, body);
    const ctx: ServiceContext = { service, db, config, options: v.parse(m.options, options), log: log.child("test"), signal: new AbortController().signal };
    const msg: IncomingMessage = { routingKey, payload, attempt: 1, source: "amqp" };
    return m.handle(ctx, msg);
  }
  const count = async (sql: string) => Number((await db.query<{ n: bigint }>(`SELECT count() AS n FROM ${sql}`))[0].n);

  test("repo: refusals are InputErrors naming the reason", async () => {
    await expect(call("repo", "repo.load", { branch: "p11", date: "2026-11-20" })).rejects.toThrow('branch "p11" is not in repo_dirs (known: b1, gone)');
    await expect(call("repo", "repo.load", { branch: "b1", date: "2020-01-01" }, { validate_date: true })).rejects.toThrow("date 2020-01-01 is not today");
    await expect(call("repo", "repo.load", { branch: "gone", date: "2026-11-20" })).rejects.toBeInstanceOf(InputError);
    await expect(call("repo", "repo.load", { branch: "gone", date: "2026-11-20" })).rejects.toThrow("repo_dirs.gone is not a directory");
  });

  test("repo: loads repo_dirs[branch] with tag uploaderd; a second message finds it already loaded", async () => {
    const r = await call("repo", "repo.load", { branch: "b1", date: todays()[0] }, { validate_date: true });
    expect(r.summary).toMatch(/^b1 \d{4}-\d\d-\d\d: \d+ packages/);
    const [root] = await db.query<{ tag: string; c: number }>("SELECT pkgset_tag AS tag, pkgset_complete AS c FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = 'b1'");
    expect(root).toEqual({ tag: "uploaderd", c: 1 });
    await expect(call("repo", "repo.load", { branch: "b1", date: todays()[0] })).rejects.toBeInstanceOf(AlreadyLoaded);
  }, 300_000);

  test("task.state done: loads from task_dirs.tasks, then from the archive; again writes nothing new", async () => {
    const a = await call("task", "task.state", { taskid: TASKS.done, state: "DONE", repo: "sisyphus", owner: "alice", _timestamp: 1795300000 });
    expect(a.summary).toContain(`task ${TASKS.done} DONE (state done) from ${join(tasksDir, String(TASKS.done))}`);
    const b = await call("task", "task.state", { taskid: TASKS.archived, state: "done" });
    expect(b.summary).toContain(join(archiveDir, `_${Math.floor(TASKS.archived / 1024)}`, String(TASKS.archived)));
    const before = await count(`TaskStates WHERE task_id = ${TASKS.done}`);
    await call("task", "task.state", { taskid: TASKS.done, state: "DONE", repo: "sisyphus", owner: "alice", _timestamp: 1795300000 });
    expect(await count(`TaskStates WHERE task_id = ${TASKS.done}`)).toBe(before);
    expect(await count(`TaskProgress WHERE task_id = ${TASKS.done}`)).toBe(1);
    expect(await count(`TaskApprovals WHERE task_id = ${TASKS.done}`)).toBe(0); // approvals come as messages, not from acl/
  }, 300_000);

  test("task.state: no directory → InputError; eperm → no load; building → progress rows only; deleted → DELETED row", async () => {
    await expect(call("task", "task.state", { taskid: 9, state: "done" })).rejects.toThrow(`task 9 has no directory (looked in ${join(tasksDir, "9")} and ${join(archiveDir, "_0", "9")})`);
    const e = await call("task", "task.state", { taskid: TASKS.eperm, state: "EPERM" });
    expect(e).toMatchObject({ skipped: true });
    expect(await count(`TaskStates WHERE task_id = ${TASKS.eperm}`)).toBe(0);
    const b = await call("task", "task.state", { taskid: 77, state: "BUILDING", repo: "p10", owner: "bob" });
    expect(b).toMatchObject({ rows: { TaskProgress: 1, GlobalSearch: 1 } });
    const d = await call("task", "task.state", { taskid: 77, state: "DELETED" });
    expect(d.rows).toMatchObject({ TaskStates: 1 });
    await call("task", "task.state", { taskid: 77, state: "DELETED" });
    expect(await count("TaskStates WHERE task_id = 77 AND task_state = 'DELETED'")).toBe(1);
  });

  test("task.progress build-task processed for an eperm task loads it; other progress only logs", async () => {
    const p = await call("task", "task.progress", { taskid: TASKS.eperm, state: "EPERM", stage: "build-task", stage_status: "started" });
    expect(p.summary).toBe(`task ${TASKS.eperm} progress build-task started`);
    expect(await count(`TaskStates WHERE task_id = ${TASKS.eperm}`)).toBe(0);
    const l = await call("task", "task.progress", { taskid: TASKS.eperm, state: "EPERM", stage: "build-task", stage_status: "processed" });
    expect(l.summary).toContain(`task ${TASKS.eperm} EPERM (build-task processed)`);
    expect(await count(`TaskStates WHERE task_id = ${TASKS.eperm}`)).toBe(1);
  }, 300_000);

  test("approve / disapprove messages write TaskApprovals once", async () => {
    const msg = { taskid: TASKS.tested, subtaskid: 100, base64_message: Buffer.from("2026-Nov-20 10:00:00 :: approved by alice\nfine").toString("base64") };
    expect((await call("task", "task.subtask.approve", msg)).rows).toEqual({ TaskApprovals: 1 });
    expect(await call("task", "task.subtask.approve", msg)).toMatchObject({ skipped: true });
    await call("task", "task.subtask.disapprove", { taskid: TASKS.tested, subtaskid: 100, revoke: true, girar_user: "bob", _timestamp: 1795300000 });
    expect(await count(`TaskApprovals WHERE task_id = ${TASKS.tested}`)).toBe(2);
  });
});

describe.skipIf(!BROKER_UP)("daemon in process: one load per key", () => {
  let vh: ReturnType<typeof makeVhost>;
  let client: TestClient;
  beforeAll(async () => {
    vh = makeVhost("perkey");
    client = await TestClient.forVhost(vh.vhost);
  });
  // deleting a vhost with quorum queues takes a while on a busy broker
  afterAll(async () => {
    await client?.close();
    vh?.remove();
  }, 240_000);

  test("TESTED and DONE for one task, and two messages for one branch and date, arriving together with workers = 2: one load each, no rows twice", async () => {
    const db = await migratedDb("dperkey");
    const dir = scratchDir("dperkey");
    const config = resolveConfig(
      parseConfigText(
        `[load]\nworkers = 2\n[repo_dirs]\nb1 = "${snapshot}"\n[task_dirs]\ntasks = "${tasksDir}"\narchive = "${archiveDir}"\n` +
          daemonConfigText(vh.vhost, join(dir, "state"), `[services.repo]\nexchange = "repodb-ex"\nworkers = 2\n[services.task]\nexchange = "girar-ex"\nworkers = 2\n`),
        "perkey.toml",
      ),
      null,
      {},
    );
    const daemon = new Daemon({ config, openDb: async () => new FlakyDb(db), log: log.child("perkey"), env: {} });
    await daemon.start();
    const svc = (name: string) => daemon.status().services.find((x) => x.name === name)!;
    try {
      await until(() => svc("repo").state === "running" && svc("task").state === "running", 20_000, "both services");
      await client.publish("girar-ex", "task.state", { taskid: TASKS.done, state: "TESTED", _timestamp: 1795300000 });
      await client.publish("girar-ex", "task.state", { taskid: TASKS.done, state: "DONE", _timestamp: 1795300001 });
      await client.publish("repodb-ex", "repo.load", { branch: "b1", date: "2026-11-21" });
      await client.publish("repodb-ex", "repo.load", { branch: "b1", date: "2026-11-21" });
      const settled = (name: string) => svc(name).done + svc(name).skipped + svc(name).failed >= 2 && svc(name).in_flight === 0;
      await until(() => settled("task") && settled("repo"), 300_000, "all four messages");
      expect(svc("task")).toMatchObject({ failed: 0, dead_lettered: 0 });
      expect(svc("repo")).toMatchObject({ failed: 0, dead_lettered: 0 });
      const one = async (q: string) => Number((await db.query<{ n: bigint }>(q))[0].n);
      expect(await one(`SELECT count() AS n FROM TaskStates WHERE task_id = ${TASKS.done}`)).toBe(1);
      expect(await one("SELECT count() = uniqExact(tlog_hash, tlog_line) AS n FROM TaskLogs")).toBe(1);
      expect(await one(`SELECT count() = uniqExact(task_id, subtask_id, subtask_arch, task_changed, titer_ts, titer_status, task_try, task_iter) AS n FROM TaskIterations WHERE task_id = ${TASKS.done}`)).toBe(1);
      expect(await one(`SELECT count() AS n FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = 'b1' AND toDate(pkgset_date) = '2026-11-21'`)).toBe(1);
    } finally {
      await daemon.stop();
    }
  }, 600_000);
});

describe.skipIf(!BROKER_UP)("daemon process with repo and task services: kill -9 during the loads", () => {
  let vh: ReturnType<typeof makeVhost>;
  let client: TestClient;
  beforeAll(async () => {
    vh = makeVhost("loads");
    client = await TestClient.forVhost(vh.vhost);
  });
  // deleting a vhost with quorum queues takes a while on a busy broker
  afterAll(async () => {
    await client?.close();
    vh?.remove();
  }, 240_000);

  test("every repo and task message ends done exactly once", async () => {
    const dir = scratchDir("dloadsp");
    const stateDir = join(dir, "state");
    const cfg = join(dir, "altrepodb.toml");
    writeFileSync(
      cfg,
      `[database]\ndriver = "embedded"\nname = "loads"\n[database.embedded]\npath = "${join(dir, "db")}"\n[load]\nworkers = 2\n` +
        `[repo_dirs]\nb1 = "${snapshot}"\nb2 = "${snapshot}"\nb3 = "${snapshot}"\n[task_dirs]\ntasks = "${tasksDir}"\narchive = "${archiveDir}"\n` +
        daemonConfigText(
          vh.vhost,
          stateDir,
          `[services.repo]\nexchange = "repodb-ex"\nretry_delay = 0.3\n[services.task]\nexchange = "girar-ex"\nretry_delay = 0.3\nworkers = 2\n`,
        ),
    );
    const env = { ...process.env } as Record<string, string>;
    for (const k of Object.keys(env)) if (/^(NOTIFY_SOCKET|WATCHDOG_|STATE_DIRECTORY|RUNTIME_DIRECTORY|ALTREPODB_)/.test(k)) delete env[k];
    const cli = (...args: string[]) => Bun.spawnSync([...CLI, "-c", cfg, ...args], { env, stdout: "pipe", stderr: "pipe" });
    expect(cli("db", "init").exitCode).toBe(0);
    const status = (): DaemonStatus | undefined => {
      try {
        return JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8"));
      } catch {
        return undefined;
      }
    };
    const svc = (name: string) => status()?.services.find((s) => s.name === name);
    mkdirSync(dir, { recursive: true });
    const start = (n: string) => {
      const logf = Bun.file(join(dir, `${n}.log`));
      return Bun.spawn([...CLI, "-c", cfg, "daemon"], { env, stdout: logf, stderr: logf });
    };
    let p = start("first");
    await until(() => svc("repo")?.state === "running" && svc("task")?.state === "running", 30_000, "both services");
    const date = "2026-11-20";
    for (const b of ["b1", "b2", "b3"]) await client.publish("repodb-ex", "repo.load", { branch: b, date });
    for (const id of [TASKS.done, TASKS.tested, TASKS.archived]) await client.publish("girar-ex", "task.state", { taskid: id, state: id === TASKS.tested ? "TESTED" : "DONE", _timestamp: 1795300000 });
    await client.publish("girar-ex", "task.subtask.approve", { taskid: TASKS.done, subtaskid: 100, base64_message: Buffer.from("2026-Nov-20 10:00:00 :: approved by alice\n").toString("base64") });
    await client.publish("girar-ex", "task.state", { taskid: 88, state: "DELETED", _timestamp: 1795300000 });
    // kill -9 once some work is done and some is still running (loads got fast: any service counts)
    await until(
      () => (svc("repo")?.done ?? 0) + (svc("task")?.done ?? 0) >= 1 && (svc("repo")?.in_flight ?? 0) + (svc("task")?.in_flight ?? 0) > 0,
      300_000,
      "loads under way",
    );
    p.kill("SIGKILL");
    await p.exited;
    p = start("second");
    await until(() => svc("repo")?.state === "running", 30_000, "the restart");
    let quiet = 0;
    await until(async () => {
      const busy = (svc("repo")?.in_flight ?? 1) + (svc("task")?.in_flight ?? 1) + (await client.depth("repo-loader-q")) + (await client.depth("task-loader-q"));
      quiet = busy === 0 ? quiet + 1 : 0;
      return quiet >= 10;
    }, 600_000, "everything processed");
    p.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    expect(svc("repo")).toMatchObject({ dead_lettered: 0, invalid: 0 });
    expect(svc("task")).toMatchObject({ dead_lettered: 0, invalid: 0 });
    const sql = (q: string) => {
      const r = cli("sql", q, "-f", "TSV");
      if (r.exitCode !== 0) throw new Error(r.stderr.toString());
      return r.stdout.toString().trim();
    };
    // one complete root per branch, no half loads left
    expect(sql("SELECT pkgset_nodename, count(), sum(pkgset_complete) FROM PackageSetName WHERE pkgset_depth = 0 GROUP BY pkgset_nodename ORDER BY 1")).toBe("b1\t1\t1\nb2\t1\t1\nb3\t1\t1");
    // one state row per task, one DELETED row, one approval
    expect(sql("SELECT task_id, count() FROM TaskStates GROUP BY task_id ORDER BY task_id")).toBe(`88\t1\n${TASKS.done}\t1\n${TASKS.tested}\t1\n${TASKS.archived}\t1`);
    expect(sql("SELECT count() FROM TaskApprovals")).toBe("1");
    // no table holds a row twice
    expect(sql("SELECT count() = uniqExact(task_id, subtask_id, task_changed, subtask_changed, subtask_deleted) FROM Tasks")).toBe("1");
    expect(sql("SELECT count() = uniqExact(pkg_hash) FROM Packages")).toBe("1");
    expect(sql("SELECT count() = uniqExact(task_id, subtask_id, subtask_arch, task_changed, titer_ts, titer_status, task_try, task_iter) FROM TaskIterations")).toBe("1");
    expect(sql("SELECT count() = uniqExact(pkgset_uuid, pkg_hash) FROM PackageSet")).toBe("1");
  }, 900_000);
});
