/**
 * The daemon in this process against the real broker (a vhost per file) and the embedded
 * database, through the selftest service: acks after the write, retries through delay queues,
 * dead letters with reasons, database outages, notifications, schedules, reload and drain.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../../src/config";
import { Daemon } from "../../src/daemon/daemon";
import { HEADER } from "../../src/daemon/headers";
import { Notifier } from "../../src/daemon/notifier";
import { REGISTRY } from "../../src/daemon/services";
import { selftest, SELFTEST_TABLE } from "../../src/daemon/services/selftest";
import type { DaemonStatus } from "../../src/daemon/status";
import type { Db } from "../../src/db";
import { testDb } from "../helpers/db";
import { BROKER_UP, brokerOptions, makeVhost, until } from "../amqp/_broker";
import { daemonConfig, daemonConfigText, FlakyDb, recordingLogger, scratch, TestClient, type Recorded } from "./_daemon";

setDefaultTimeout(60_000);

let vh: ReturnType<typeof makeVhost>;
let client: TestClient;
let db: Db;

beforeAll(async () => {
  if (!BROKER_UP) return;
  vh = makeVhost("daemon");
  client = await TestClient.forVhost(vh.vhost);
  db = await testDb("daemon");
});
afterAll(async () => {
  await client?.close();
  vh?.remove();
});

let seq = 0;

interface Running {
  daemon: Daemon;
  flaky: FlakyDb;
  lines: Recorded[];
  queue: string;
  exchange: string;
  config: Config;
  stateDir: string;
  status(): DaemonStatus;
  service(): DaemonStatus["services"][number];
}

/** serviceToml plus the test defaults for the keys it does not set. */
function withDefaults(serviceToml: string): string {
  const defaults: Record<string, string> = { max_attempts: "3", retry_delay: "0.2", retry_delay_max: "1" };
  const set = new Set([...serviceToml.matchAll(/^(\w+)\s*=/gm)].map((m) => m[1]));
  return Object.entries(defaults).filter(([k]) => !set.has(k)).map(([k, v]) => `${k} = ${v}\n`).join("") + serviceToml;
}

/** A daemon with one selftest service on its own queue and exchange. */
async function startDaemon(serviceToml = "", extra = ""): Promise<Running> {
  const n = ++seq;
  const queue = `st-${n}-q`;
  const exchange = `st-${n}-ex`;
  const stateDir = scratch("dstate");
  const config = daemonConfig(
    vh.vhost,
    stateDir,
    `[services.selftest]\nqueue = "${queue}"\nexchange = "${exchange}"\nrouting_keys = ["selftest.#"]\n${withDefaults(serviceToml)}`,
    extra,
  );
  const flaky = new FlakyDb(db);
  const lines: Recorded[] = [];
  const daemon = new Daemon({ config, openDb: async () => flaky, log: recordingLogger(lines), env: {} });
  await daemon.start();
  const status = () => daemon.status();
  await until(() => status().services[0]?.state === "running", 10_000, "the service to run");
  return { daemon, flaky, lines, queue, exchange, config, stateDir, status, service: () => status().services[0] };
}

async function rowsOf(ids: string[]): Promise<Map<string, number>> {
  const list = ids.map((i) => `'${i}'`).join(",");
  const r = await db.query<{ id: string; n: bigint }>(`SELECT id, count() AS n FROM ${SELFTEST_TABLE} WHERE id IN (${list}) GROUP BY id`);
  return new Map(r.map((x) => [x.id, Number(x.n)]));
}

describe.skipIf(!BROKER_UP)("daemon (in process, selftest service)", () => {
  test("N messages with 4 workers: every one written once, acked, counted; status file and done notifications", async () => {
    const d = await startDaemon("workers = 4\n");
    const notes = await client.tap("test.notify", "message.info", `notes-${d.queue}`);
    const ids = Array.from({ length: 20 }, (_, i) => `n-${d.queue}-${i}`);
    for (const id of ids) await client.publish(d.exchange, "selftest.run", { id, sleep_ms: 20 });
    await until(() => d.service().done === 20, 20_000, "20 done");
    const rows = await rowsOf(ids);
    expect(ids.every((id) => rows.get(id) === 1)).toBe(true);
    expect(await client.depth(d.queue)).toBe(0);
    await until(() => JSON.parse(readFileSync(join(d.stateDir, "status.json"), "utf8")).services[0]?.done === 20, 5000, "the status file");
    const file = JSON.parse(readFileSync(join(d.stateDir, "status.json"), "utf8")) as DaemonStatus;
    expect(file).toMatchObject({ pid: process.pid, state: "running", database: { healthy: true } });
    expect(file.services[0]).toMatchObject({ name: "selftest", state: "running", queue: d.queue, failed: 0, dead_lettered: 0, in_flight: 0 });
    const got = await until(async () => {
      const all = await client.drain(notes);
      return all.length ? all : undefined;
    }, 5000, "done notifications");
    expect(JSON.parse(got[0].body)).toMatchObject({ subject: "selftest", severity: "INFO", type: "MESSAGE", event: "done", routing_key: "selftest.run" });
    await d.daemon.stop();
    expect((JSON.parse(readFileSync(join(d.stateDir, "status.json"), "utf8")) as DaemonStatus).state).toBe("stopped");
  });

  test("poison messages are dead-lettered at once with the reason; never retried, never lost", async () => {
    const d = await startDaemon();
    const alerts = await client.tap("test.notify", "service_worker_error.critical", `alerts-${d.queue}`);
    await client.publish(d.exchange, "selftest.run", "{not json");
    await client.publish(d.exchange, "selftest.run", { idd: "x" });
    await client.publish(d.exchange, "selftest.bogus", { id: "x" });
    await client.publish(d.exchange, "selftest.run", { id: `inv-${d.queue}`, invalid: true });
    await client.publish("", d.queue, { id: "direct" }, { messageId: "m-direct" });
    await until(() => d.service().dead_lettered === 5, 10_000, "5 dead letters");
    const dead = await client.drain(`${d.queue}.dead`);
    expect(dead.length).toBe(5);
    const byError = dead.map((m) => String(m.headers[HEADER.error]));
    expect(byError[0]).toStartWith("body is not valid JSON");
    expect(byError[1]).toBe('invalid selftest.run message: id: Invalid key: Expected "id" but received undefined');
    expect(byError[2]).toBe('unexpected routing key "selftest.bogus" for service selftest (takes selftest.run)');
    expect(byError[3]).toBe(`selftest message inv-${d.queue} asks to be refused`);
    expect(byError[4]).toContain(`unexpected routing key "${d.queue}"`);
    for (const m of dead) {
      expect(m.headers).toMatchObject({ [HEADER.service]: "selftest", [HEADER.reason]: "invalid", [HEADER.attempts]: 0 });
      expect(String(m.headers[HEADER.firstFailure])).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(String(m.headers[HEADER.lastFailure])).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(dead[2].headers[HEADER.routingKey]).toBe("selftest.bogus");
    expect(dead[0].body).toBe("{not json");
    expect(d.service()).toMatchObject({ invalid: 5, failed: 0, retried: 0, done: 0 });
    expect(d.lines.filter((l) => l.level === "error" && l.msg.includes("dead-lettered")).length).toBe(5);
    const notes = await until(async () => {
      const all = await client.drain(alerts);
      return all.length >= 5 ? all : undefined;
    }, 5000, "5 alerts");
    expect(JSON.parse(notes[3].body)).toMatchObject({ subject: "selftest", type: "SERVICE_WORKER_ERROR", event: "dead-lettered", reason: `selftest message inv-${d.queue} asks to be refused` });
    expect(await client.depth(d.queue)).toBe(0);
    await d.daemon.stop();
  });

  test("a failing message is retried with backoff through the delay queue; after max_attempts it is dead-lettered with attempts and failure times", async () => {
    const d = await startDaemon();
    const ok = `retry-ok-${d.queue}`;
    const bad = `retry-bad-${d.queue}`;
    await client.publish(d.exchange, "selftest.run", { id: ok, fail_attempts: 2 });
    await client.publish(d.exchange, "selftest.run", { id: bad, fail_attempts: 10 }, { messageId: "bad-1" });
    await until(() => d.service().done === 1 && d.service().dead_lettered === 1, 15_000, "one done, one dead");
    expect((await rowsOf([ok, bad])).get(ok)).toBe(1);
    expect(d.service()).toMatchObject({ failed: 5, retried: 4, dead_lettered: 1 });
    const [dead] = await client.drain(`${d.queue}.dead`);
    expect(JSON.parse(dead.body).id).toBe(bad);
    expect(dead.headers).toMatchObject({ [HEADER.reason]: "failed", [HEADER.attempts]: 3, [HEADER.service]: "selftest", [HEADER.routingKey]: "selftest.run", [HEADER.exchange]: d.exchange });
    expect(String(dead.headers[HEADER.error])).toBe("selftest failure on try 3 of 11");
    const first = Date.parse(String(dead.headers[HEADER.firstFailure]));
    const last = Date.parse(String(dead.headers[HEADER.lastFailure]));
    expect(last - first).toBeGreaterThanOrEqual(500); // 0.2 s + 0.4 s of delay between the tries
    const retries = d.lines.filter((l) => l.msg === "message failed; will retry");
    expect(retries.map((l) => l.fields?.retry_in_s)).toEqual(expect.arrayContaining([0.2, 0.4]));
    await d.daemon.stop();
  });

  test("database down: messages are put aside (not failed), consuming pauses, and all complete when it is back", async () => {
    const d = await startDaemon("workers = 2\n");
    d.flaky.down = true;
    const ids = Array.from({ length: 6 }, (_, i) => `dbdown-${d.queue}-${i}`);
    for (const id of ids) await client.publish(d.exchange, "selftest.run", { id });
    await until(() => d.service().state === "paused", 10_000, "the pause");
    await until(() => d.status().database.healthy === false, 5000, "unhealthy database in the status");
    await Bun.sleep(800);
    expect(d.service().done).toBe(0);
    d.flaky.down = false;
    await until(() => d.service().done === 6, 20_000, "all 6 done after the database is back");
    expect(d.service()).toMatchObject({ failed: 0, dead_lettered: 0, state: "running" });
    expect(d.service().deferred).toBeGreaterThan(0);
    const rows = await rowsOf(ids);
    expect(ids.every((id) => rows.get(id) === 1)).toBe(true);
    expect(await client.depth(`${d.queue}.dead`)).toBe(0);
    await d.daemon.stop();
  });

  test("a message over the service timeout counts as failed and is retried", async () => {
    const d = await startDaemon("timeout = 0.3\nmax_attempts = 2\n");
    await client.publish(d.exchange, "selftest.run", { id: `slow-${d.queue}`, sleep_ms: 2000 });
    await until(() => d.service().dead_lettered === 1, 10_000, "the dead letter");
    const [dead] = await client.drain(`${d.queue}.dead`);
    expect(dead.headers[HEADER.error]).toBe("took longer than 0.3 s (timeout)");
    await d.daemon.stop();
  });

  test("stop: running messages finish within the grace and are acked", async () => {
    const d = await startDaemon();
    const id = `drain-${d.queue}`;
    await client.publish(d.exchange, "selftest.run", { id, sleep_ms: 1000 });
    await until(() => d.service().in_flight === 1, 5000, "the message to start");
    await d.daemon.stop();
    expect(d.service().done).toBe(1);
    expect((await rowsOf([id])).get(id)).toBe(1);
    expect(await client.depth(d.queue)).toBe(0);
  });

  test("stop: what does not finish within the grace goes back to the queue", async () => {
    const d = await startDaemon("", "");
    (d.daemon as unknown as { settings: { shutdownGraceMs: number } }).settings.shutdownGraceMs = 200;
    await client.publish(d.exchange, "selftest.run", { id: `requeue-${d.queue}`, sleep_ms: 30_000 });
    await until(() => d.service().in_flight === 1, 5000, "the message to start");
    const t0 = Date.now();
    await d.daemon.stop();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(d.service()).toMatchObject({ done: 0, failed: 0, dead_lettered: 0 });
    expect(await until(() => client.depth(d.queue), 5000, "the requeued message")).toBe(1);
    expect(d.lines.some((l) => l.msg.includes("requeued"))).toBe(true);
    await client.drain(d.queue);
  });

  test("scheduled runs: one log line per run, no overlap", async () => {
    const d = await startDaemon(`schedule = "every 1s"\nschedule_message = { id = "sched-${seq + 1}", sleep_ms = 1500 }\n`);
    await until(() => d.lines.filter((l) => l.msg === "scheduled run finished").length >= 1, 10_000, "a finished run");
    await until(() => d.lines.some((l) => l.msg === "scheduled run skipped: the previous one is still running"), 5000, "a skipped run");
    const starts = d.lines.filter((l) => l.msg === "scheduled run started").map((l) => d.lines.indexOf(l));
    const ends = d.lines.filter((l) => l.msg === "scheduled run finished").map((l) => d.lines.indexOf(l));
    // started and finished alternate: never two runs at once
    for (let i = 1; i < starts.length; i++) expect(ends[i - 1]).toBeLessThan(starts[i]);
    expect(d.service().schedule).toMatchObject({ spec: "every 1s" });
    await d.daemon.stop();
  });

  test("reload: a broken config is refused and the running one kept; a changed service is restarted", async () => {
    const d = await startDaemon();
    const good = daemonConfigText(vh.vhost, d.stateDir, `[services.selftest]\nqueue = "${d.queue}"\nexchange = "${d.exchange}"\nrouting_keys = ["selftest.#"]\nmax_attempts = 3\nretry_delay = 0.2\nretry_delay_max = 1\nworkers = 3\n`);
    const file = join(d.stateDir, "reload.toml");
    (d.daemon as unknown as { opts: { reloadConfig: () => Config } }).opts.reloadConfig = () => {
      const { loadConfig } = require("../../src/config") as typeof import("../../src/config");
      return loadConfig({ path: file, env: {} });
    };
    writeFileSync(file, good.replace("workers = 3", "workerz = 3"));
    expect(await d.daemon.reload()).toBe(false);
    expect(d.lines.some((l) => l.msg === "configuration reload failed; keeping the running configuration" && String(l.fields?.error).includes("workerz: unknown key"))).toBe(true);
    expect(d.service()).toMatchObject({ state: "running", workers: 1 });
    writeFileSync(file, good);
    expect(await d.daemon.reload()).toBe(true);
    await until(() => d.service().state === "running" && d.service().workers === 3, 10_000, "the restarted service");
    const id = `reload-${d.queue}`;
    await client.publish(d.exchange, "selftest.run", { id });
    await until(() => d.service().done === 1, 10_000, "a message after reload");
    await d.daemon.stop();
  });
});

describe.skipIf(!BROKER_UP)("daemon (in process, two services)", () => {
  test("a service that cannot start is restarted with backoff and reported; the other one keeps working", async () => {
    const stateDir = scratch("dstate");
    const n = ++seq;
    const config = daemonConfig(
      vh.vhost,
      stateDir,
      `[services.selftest]\nqueue = "good-${n}-q"\nexchange = "good-${n}-ex"\n` + `[services.broken]\nqueue = "bad-${n}-q"\nexchange = "missing-${n}-ex"\ndeclare_exchange = false\n`,
    );
    const registry = { ...REGISTRY, broken: { ...selftest, name: "broken" } };
    const lines: Recorded[] = [];
    const alerts = await client.tap("test.notify", "service_error.warning", `svcerr-${n}`);
    const flaky = new FlakyDb(db); // its close() leaves the shared test database open
    const daemon = new Daemon({ config, registry, openDb: async () => flaky, log: recordingLogger(lines), env: {} });
    await daemon.start();
    const svc = (name: string) => daemon.status().services.find((s) => s.name === name)!;
    await until(() => svc("broken").restarts >= 3, 10_000, "three restarts of the broken service");
    expect(svc("broken").last_error?.message).toContain(`exchange missing-${n}-ex does not exist`);
    expect(["failed", "starting"]).toContain(svc("broken").state);
    const delays = lines.filter((l) => l.tag === "daemon:broken" && l.msg === "service failed; restarting").map((l) => Number(l.fields?.restart_in_ms));
    expect(delays[2]).toBeGreaterThan(delays[0]);
    await client.publish(`good-${n}-ex`, "selftest.run", { id: `iso-${n}` });
    await until(() => svc("selftest").done === 1, 10_000, "the healthy service to work");
    const notes = await until(async () => {
      const all = await client.drain(alerts);
      return all.length ? all : undefined;
    }, 5000, "service error notifications");
    expect(JSON.parse(notes[0].body)).toMatchObject({ subject: "broken", type: "SERVICE_ERROR", severity: "WARNING", event: "service-error" });
    // the exchange appears: the next restart succeeds
    await client.ch.assertExchange(`missing-${n}-ex`, "topic", { durable: true });
    await until(() => svc("broken").state === "running", 10_000, "the broken service to recover");
    await daemon.stop();
  });

  test("publish_on_done republishes the processed message with its routing key (confirmed)", async () => {
    const d = await startDaemon(`publish_on_done = true\ndone_exchange = "test.uploaded"\n`);
    const tap = await client.tap("test.uploaded", "#", `uploaded-${d.queue}`);
    await client.publish(d.exchange, "selftest.run", { id: `pod-${d.queue}` }, { messageId: "pod-1" });
    const got = await until(async () => {
      const all = await client.drain(tap);
      return all.length ? all : undefined;
    }, 10_000, "the done message");
    expect(got[0]).toMatchObject({ key: "selftest.run", body: JSON.stringify({ id: `pod-${d.queue}` }) });
    await d.daemon.stop();
  }, 30_000);
});

describe.skipIf(!BROKER_UP)("notifier", () => {
  test("broker unreachable: notifications wait in the spool, in order, and go out when it is back", async () => {
    const spoolDir = scratch("spool");
    const settings = { enabled: true, exchange: "test.notify", onDone: true, onRetry: false, spoolDir, maxFiles: 100, maxBytes: 1 << 20 };
    const lines: Recorded[] = [];
    const down = new Notifier(settings, brokerOptions(vh.vhost, { port: 1, reconnectDelayMs: 50, reconnectDelayMaxMs: 100, connectTimeoutMs: 300 }), recordingLogger(lines));
    down.start();
    for (let i = 1; i <= 3; i++) down.notify({ event: "dead-lettered", type: "SERVICE_WORKER_ERROR", severity: "CRITICAL", service: "repo", reason: `failure ${i}` });
    await Bun.sleep(300);
    expect(down.stats()).toMatchObject({ connected: false, pending: 3, published: 0 });
    await down.stop();
    const q = await client.tap("test.notify", "#", "spooled-notes");
    const up = new Notifier(settings, brokerOptions(vh.vhost), recordingLogger(lines));
    up.start();
    await until(() => up.stats().pending === 0, 10_000, "the spool to drain");
    const got = await until(async () => {
      const all = await client.drain(q);
      return all.length ? all : undefined;
    }, 5000, "the notifications");
    expect(got.map((m) => JSON.parse(m.body).message)).toEqual(["failure 1", "failure 2", "failure 3"]);
    expect(got[0].key).toBe("service_worker_error.critical");
    await up.stop();
  });
});
