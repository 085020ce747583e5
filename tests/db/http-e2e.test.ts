/**
 * The http driver end to end, against the engine version we support: `db init`, `repo load`,
 * `task load` and a daemon run through the compiled CLI (dist/altrepodb, built by .ci/test; the
 * source tree when it is missing) with ALTREPODB_DB_DRIVER=http pointing at the test-only
 * ClickHouse HTTP interface over the embedded engine (tests/helpers/chdb-http-server.ts).
 * What the http driver stores is compared with what the embedded driver stores for the same input.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { slowTest } from "../helpers/slow";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDb, type Db } from "../../src/db";
import { BROKER_UP, makeVhost, until } from "../amqp/_broker";
import { daemonConfigText, TestClient } from "../daemon/_daemon";
import type { SnapshotResult } from "../fixtures/snapshot";
import { makeTask, type TaskResult } from "../fixtures/task";
import { scratchDir } from "../fixtures/_util";
import { startChdbHttpServer, type ChdbHttpServer } from "../helpers/chdb-http-server";
import { CLI as SOURCE_CLI, newConfig } from "../helpers/cli";
import { edgeSnapshot } from "../repo/_snapshot";

setDefaultTimeout(300_000);

const DIST = join(import.meta.dir, "..", "..", "dist", "altrepodb");
const CLI = process.env.ALTREPODB_TEST_BINARY ? SOURCE_CLI : existsSync(DIST) ? [DIST] : SOURCE_CLI;
if (CLI === SOURCE_CLI && !process.env.ALTREPODB_TEST_BINARY) console.warn("tests/db/http-e2e.test.ts: dist/altrepodb is missing (run `bun build.ts`); testing the source tree");

let server: ChdbHttpServer;
let snap: SnapshotResult;
let task: TaskResult;
let seq = 0;

beforeAll(async () => {
  server = await startChdbHttpServer();
  snap = await edgeSnapshot();
  task = await makeTask(join(scratchDir("http-e2e-tasks"), "350101"), {
    id: 350101,
    state: "DONE",
    try: 1,
    iter: 1,
    subtasks: [
      { type: "gear", generate: { name: "http-e2e-a", version: "1.0", subpackages: ["libhttp-e2e-a"] }, approvals: [{ user: "alice" }] },
      { type: "gear", generate: { name: "http-e2e-b", version: "1.0", noarch: true } },
    ],
  });
}, 600_000);
afterAll(() => server?.stop());

/** The environment that points the CLI at the server, with a database of its own. */
function httpEnv(database: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(NOTIFY_SOCKET|WATCHDOG_|STATE_DIRECTORY|RUNTIME_DIRECTORY|ALTREPODB_DB_)/.test(k)) env[k] = v;
  return { ...env, ALTREPODB_DB_DRIVER: "http", ALTREPODB_DB_URL: server.url, ALTREPODB_DB_USER: server.loader.user, ALTREPODB_DB_PASSWORD: server.loader.password, ALTREPODB_DB_NAME: database };
}

function run(config: string, args: string[], env: Record<string, string>) {
  const r = Bun.spawnSync([...CLI, "-c", config, ...args], { env, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function rows(config: string, sql: string, env: Record<string, string>): Record<string, unknown>[] {
  const r = run(config, ["sql", sql, "--format", "JSONEachRow"], env);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** Row count and an order-independent hash of every stored column, per table. */
const FINGERPRINT = (tables: string[]) =>
  `SELECT * FROM (${tables.map((t) => `SELECT '${t}' AS t, count() AS n, toString(groupBitXor(cityHash64(*))) AS h FROM ${t}`).join(" UNION ALL ")}) ORDER BY t`;
const PACKAGE_TABLES = ["Packages", "Files", "FileNames", "Depends", "Changelog", "Specfiles", "PackageHash", "SrcPackagesLastChangelog"];

/** A database on the server and a config file (load workers only: the driver comes from the environment). */
function httpSetup(): { cfg: string; env: Record<string, string>; database: string } {
  const dir = scratchDir("http-e2e");
  const cfg = join(dir, "altrepodb.toml");
  writeFileSync(cfg, "[load]\nworkers = 2\n");
  const database = `e2e_${process.pid}_${++seq}`;
  return { cfg, env: httpEnv(database), database };
}

describe("CLI with the http driver", () => {
  test("db init creates the schema; db status shows every migration applied; a second init changes nothing", () => {
    const { cfg, env } = httpSetup();
    const init = run(cfg, ["db", "init"], env);
    expect(init.stderr).not.toContain("ERROR");
    expect(init.code).toBe(0);
    const [n] = rows(cfg, "SELECT count() AS n FROM system.tables WHERE database = currentDatabase()", env);
    expect(Number(n.n)).toBeGreaterThan(100);
    const status = run(cfg, ["db", "status", "--json"], env);
    expect(status.code).toBe(0);
    expect(status.stdout).not.toMatch(/"(pending|failed|changed)"/);
    expect(run(cfg, ["db", "init"], env).code).toBe(0);
  });

  test("repo load stores what the embedded driver stores; a second load is refused; verify agrees", () => {
    const { cfg, env } = httpSetup();
    expect(run(cfg, ["db", "init"], env).code).toBe(0);
    const load = run(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20", "--json"], env);
    expect(load.code).toBe(0);
    expect(JSON.parse(load.stdout)).toMatchObject({ branch: "p10", complete: true, packages: { seen: snap.srpms.length + snap.rpms.length, failed: 0 } });
    const again = run(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already loaded");
    expect(run(cfg, ["repo", "verify", "p10", snap.root], env).code).toBe(0);
    // the same snapshot under a new date: the package set is copied server-side
    expect(run(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-21"], env).code).toBe(0);

    const embedded = newConfig("http-e2e-embedded", true);
    const plain = { ...process.env } as Record<string, string>;
    for (const k of Object.keys(plain)) if (k.startsWith("ALTREPODB_DB_")) delete plain[k];
    expect(run(embedded, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"], plain).code).toBe(0);
    expect(run(embedded, ["repo", "load", "p10", snap.root, "--date", "2026-11-21"], plain).code).toBe(0);
    const tables = [...PACKAGE_TABLES, "PackageSet"];
    expect(rows(cfg, FINGERPRINT(tables), env)).toEqual(rows(embedded, FINGERPRINT(tables), plain));
    const sets = "SELECT toString(pkgset_date) AS d, pkgset_depth, pkgset_nodename, pkgset_complete, toString(pkgset_uuid) AS u, pkgset_kv.k AS k, pkgset_kv.v AS v FROM PackageSetName ORDER BY d, pkgset_depth, pkgset_nodename, u";
    expect(rows(cfg, sets, env)).toEqual(rows(embedded, sets, plain));
  });

  slowTest("task load stores what the embedded driver stores; loading it again writes nothing", () => {
    const { cfg, env } = httpSetup();
    expect(run(cfg, ["db", "init"], env).code).toBe(0);
    const load = run(cfg, ["task", "load", task.root, "--json"], env);
    expect(load.stderr).not.toContain("ERROR");
    expect(load.code).toBe(0);
    const tables = ["Tasks", "TaskStates", "TaskIterations", "TaskChroots", "TaskLogs", "TaskPlanPackages", "TaskPlanPkgHash", "TaskApprovals", ...PACKAGE_TABLES];
    const first = rows(cfg, FINGERPRINT(tables), env);
    expect(run(cfg, ["task", "load", task.root], env).code).toBe(0);
    expect(rows(cfg, FINGERPRINT(tables), env)).toEqual(first);
    expect(rows(cfg, `SELECT task_state FROM TaskStates WHERE task_id = ${task.id}`, env)).toEqual([{ task_state: "DONE" }]);

    const embedded = newConfig("http-e2e-embedded", true);
    const plain = { ...process.env } as Record<string, string>;
    for (const k of Object.keys(plain)) if (k.startsWith("ALTREPODB_DB_")) delete plain[k];
    expect(run(embedded, ["task", "load", task.root], plain).code).toBe(0);
    expect(first).toEqual(rows(embedded, FINGERPRINT(tables), plain));
  });
});

describe.skipIf(!BROKER_UP)(`daemon with the http driver${BROKER_UP ? "" : " [SKIPPED: no RabbitMQ on 127.0.0.1:5672]"}`, () => {
  test("a repo.load message is loaded into the server; SIGTERM stops the daemon with exit 0", async () => {
    const vh = makeVhost("httpe2e");
    let client = await TestClient.forVhost(vh.vhost);
    let db: Db | undefined;
    const { cfg, env, database } = httpSetup();
    const dir = join(cfg, "..");
    const stateDir = join(dir, "state");
    writeFileSync(cfg, `[load]\nworkers = 2\n[repo_dirs]\np10 = "${snap.root}"\n` + daemonConfigText(vh.vhost, stateDir, `[services.repo]\nexchange = "repodb-ex"\nretry_delay = 0.3\n`));
    expect(run(cfg, ["db", "init"], env).code).toBe(0);
    const logFile = join(dir, "daemon.log");
    const p = Bun.spawn([...CLI, "-c", cfg, "daemon"], { env, stdout: Bun.file(logFile), stderr: Bun.file(logFile) });
    const log = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "");
    try {
      const status = () => {
        try {
          return JSON.parse(readFileSync(join(stateDir, "status.json"), "utf8")) as { services: { name: string; state: string }[] };
        } catch {
          return undefined;
        }
      };
      await until(() => status()?.services.find((s) => s.name === "repo")?.state === "running", 60_000, `the repo service running (log: ${log()})`);
      // other tests may restart the broker: publish on a fresh channel when the first one died
      await client.publish("repodb-ex", "repo.load", { branch: "p10", date: "2026-11-20" }).catch(async () => {
        await client.close().catch(() => {});
        client = await until(() => TestClient.forVhost(vh.vhost).catch(() => undefined), 60_000, "a broker connection");
        await client.publish("repodb-ex", "repo.load", { branch: "p10", date: "2026-11-20" });
      });
      db = await openDb({ driver: "http", database, url: server.url, user: server.loader.user, password: server.loader.password, compression: true, requestTimeoutMs: 30_000, maxRetries: 3 });
      const complete = async () => (await db!.query<{ c: number }>("SELECT pkgset_complete AS c FROM PackageSetName WHERE pkgset_depth = 0")).length === 1;
      await until(complete, 120_000, "the package set written by the daemon");
      const [n] = await db.query<{ n: bigint }>("SELECT count() AS n FROM Packages");
      expect(Number(n.n)).toBe(snap.srpms.length + snap.rpms.length);
      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(log()).not.toContain("database error");
    } finally {
      p.kill("SIGKILL");
      await db?.close();
      await client.close();
      vh.remove();
    }
  });
});
