/**
 * The metrics endpoint of a real daemon, scraped over HTTP: in this process (selftest service,
 * a vhost of its own on the real broker, the embedded database) and as a real `altrepodb daemon`
 * process moved by SIGHUP and stopped by SIGTERM. Every scrape goes through the strict reader
 * (tests/daemon/_prom.ts); one per test also through `promtool check metrics`.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText, resolveConfig, type Config } from "../../src/config";
import { Daemon } from "../../src/daemon/daemon";
import { CONTENT_TYPE } from "../../src/daemon/metrics";
import type { DaemonStatus } from "../../src/daemon/status";
import type { Db } from "../../src/db";
import { testDb } from "../helpers/db";
import { BROKER_UP, makeVhost, until } from "../amqp/_broker";
import { daemonConfigText, FlakyDb, recordingLogger, scratch, TestClient, type Recorded } from "./_daemon";
import { parseExposition, PROMTOOL, promtoolCheck, valueOf, type Parsed } from "./_prom";
import { CLI } from "../helpers/cli";

setDefaultTimeout(60_000);


let vh: ReturnType<typeof makeVhost>;
let client: TestClient;
let db: Db;

beforeAll(async () => {
  if (!BROKER_UP) return;
  vh = makeVhost("metrics");
  client = await TestClient.forVhost(vh.vhost);
  db = await testDb("metrics");
});
afterAll(async () => {
  await client?.close();
  vh?.remove();
});

/** A port nobody listens on (taken and given back). */
function freePort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}

async function scrape(url: string): Promise<{ text: string; p: Parsed }> {
  const r = await fetch(url);
  expect(r.status).toBe(200);
  expect(r.headers.get("content-type")).toBe(CONTENT_TYPE);
  const text = await r.text();
  return { text, p: parseExposition(text) };
}

function expectPromtoolOk(text: string): void {
  if (PROMTOOL) expect(promtoolCheck(text)).toEqual({ ok: true, out: "" });
}

async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return false;
  } catch (e) {
    return /ECONNREFUSED|Unable to connect|ConnectionRefused/i.test(String((e as Error).message ?? e) + String((e as { code?: string }).code));
  }
}

let seq = 0;

interface Running {
  daemon: Daemon;
  flaky: FlakyDb;
  lines: Recorded[];
  queue: string;
  exchange: string;
  stateDir: string;
  /** The configuration text the next reload reads ({{DAEMON}}: the [daemon] extras). */
  reloadWith(daemonExtra: string): void;
  status(): DaemonStatus;
  service(): DaemonStatus["services"][number];
  url(): string;
}

async function startDaemon(opts: { service?: string; daemon?: string; brokerPort?: number; waitRunning?: boolean } = {}): Promise<Running> {
  const n = ++seq;
  const queue = `m-${n}-q`;
  const exchange = `m-${n}-ex`;
  const stateDir = scratch("mstate");
  const text = (daemonExtra: string) => {
    let t = daemonConfigText(
      vh.vhost,
      stateDir,
      `[services.selftest]\nqueue = "${queue}"\nexchange = "${exchange}"\nrouting_keys = ["selftest.#"]\nmax_attempts = 3\nretry_delay = 0.2\nretry_delay_max = 1\n${opts.service ?? ""}`,
      daemonExtra,
    );
    if (opts.brokerPort) t = t.replace('host = "127.0.0.1"', `host = "127.0.0.1"\nport = ${opts.brokerPort}`);
    return resolveConfig(parseConfigText(t, "metrics.toml"), null, {});
  };
  let next: Config = text(opts.daemon ?? "");
  const flaky = new FlakyDb(db);
  const lines: Recorded[] = [];
  const daemon = new Daemon({ config: next, openDb: async () => flaky, reloadConfig: () => next, log: recordingLogger(lines), env: {} });
  await daemon.start();
  const status = () => daemon.status();
  if (opts.waitRunning !== false) await until(() => status().services[0]?.state === "running", 10_000, "the service to run");
  return {
    daemon,
    flaky,
    lines,
    queue,
    exchange,
    stateDir,
    reloadWith: (extra) => (next = text(extra)),
    status,
    service: () => status().services[0],
    url: () => {
      const m = status().metrics;
      if (!m?.url) throw new Error(`metrics not served: ${JSON.stringify(m)}`);
      return m.url;
    },
  };
}

const SVC = { service: "selftest" };

describe.skipIf(!BROKER_UP)("metrics endpoint (daemon in this process)", () => {
  test("counters, in-flight, queue depths, last success, database and broker up, as the status file says", async () => {
    const d = await startDaemon({ service: "workers = 2\n", daemon: 'metrics_listen = "127.0.0.1:0"\n' });
    const url = d.url();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    let { text, p } = await scrape(url);
    expectPromtoolOk(text);
    expect(valueOf(p, "altrepodb_service_up", SVC)).toBe(1);
    expect(valueOf(p, "altrepodb_service_state", { ...SVC, state: "running" })).toBe(1);
    expect(valueOf(p, "altrepodb_daemon_state", { state: "running" })).toBe(1);
    expect(valueOf(p, "altrepodb_database_up")).toBe(1);
    expect(valueOf(p, "altrepodb_broker_up")).toBe(1);
    expect(valueOf(p, "altrepodb_service_workers", SVC)).toBe(2);
    expect(valueOf(p, "altrepodb_queue_messages", { ...SVC, queue: `${d.queue}.dead`, kind: "dead" })).toBe(0);
    // the delay queues of every retry delay (0.2 s, 0.4 s)
    expect(p.samples.filter((s) => s.name === "altrepodb_queue_messages" && s.labels.kind === "delay").map((s) => s.labels.queue)).toEqual([`${d.queue}.delay.200ms`, `${d.queue}.delay.400ms`]);
    expect(valueOf(p, "altrepodb_last_success_timestamp_seconds", SVC)).toBeUndefined();
    // a quorum queue's consumer count follows its consumers with a short lag
    await until(async () => valueOf((await scrape(url)).p, "altrepodb_queue_consumers", { ...SVC, queue: d.queue, kind: "main" }) === 1, 10_000, "1 consumer in a scrape");

    for (let i = 0; i < 3; i++) await client.publish(d.exchange, "selftest.run", { id: `ok-${d.queue}-${i}` });
    await client.publish(d.exchange, "selftest.run", { id: `inv-${d.queue}`, invalid: true });
    await client.publish(d.exchange, "selftest.run", { id: `retry-${d.queue}`, fail_attempts: 1 });
    await until(() => d.service().done === 4 && d.service().dead_lettered === 1, 15_000, "4 done, 1 dead letter");
    ({ text, p } = await scrape(url));
    const st = d.service();
    for (const outcome of ["done", "skipped", "failed", "retried", "dead_lettered", "invalid", "deferred"] as const) {
      expect(valueOf(p, "altrepodb_messages_total", { ...SVC, outcome })).toBe(st[outcome]);
    }
    expect(valueOf(p, "altrepodb_messages_total", { ...SVC, outcome: "done" })).toBe(4);
    expect(valueOf(p, "altrepodb_messages_total", { ...SVC, outcome: "invalid" })).toBe(1);
    expect(valueOf(p, "altrepodb_messages_total", { ...SVC, outcome: "retried" })).toBe(1);
    expect(valueOf(p, "altrepodb_queue_messages", { ...SVC, kind: "dead" })).toBe(1);
    expect(valueOf(p, "altrepodb_queue_messages", { ...SVC, kind: "main" })).toBe(0);
    expect(valueOf(p, "altrepodb_last_success_timestamp_seconds", SVC)).toBe(Date.parse(st.last_done_at!) / 1000);
    expect(valueOf(p, "altrepodb_last_error_timestamp_seconds", SVC)).toBe(Date.parse(st.last_error!.at) / 1000);
    expect(valueOf(p, "altrepodb_notifications_total", { outcome: "published" })).toBeGreaterThan(0);
    expectPromtoolOk(text);

    // a slow message is in flight while it runs, and the scrape is not held up by it
    await client.publish(d.exchange, "selftest.run", { id: `slow-${d.queue}`, sleep_ms: 2500 });
    await until(async () => valueOf((await scrape(url)).p, "altrepodb_messages_in_flight", SVC) === 1, 10_000, "in flight = 1 in a scrape");
    await until(() => d.service().done === 5, 15_000, "the slow message done");
    expect(valueOf((await scrape(url)).p, "altrepodb_messages_in_flight", SVC)).toBe(0);

    // only /metrics; GET and HEAD only
    const base = url.replace(/\/metrics$/, "");
    expect((await fetch(`${base}/nosuch`)).status).toBe(404);
    expect((await fetch(url, { method: "POST" })).status).toBe(405);
    const head = await fetch(url, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    // the status file names the endpoint
    const file = JSON.parse(readFileSync(join(d.stateDir, "status.json"), "utf8")) as DaemonStatus;
    expect(file.metrics).toEqual({ listen: "127.0.0.1:0", url });

    await d.daemon.stop();
    expect(await refused(url)).toBe(true);
  });

  test("database down: database_up 0, the service paused, deferred counted, messages wait in the main queue; all back after", async () => {
    const d = await startDaemon({ daemon: 'metrics_listen = "127.0.0.1:0"\n' });
    const url = d.url();
    d.flaky.down = true;
    let { p } = await scrape(url);
    expect(valueOf(p, "altrepodb_database_up")).toBe(0);
    expect(valueOf(p, "altrepodb_broker_up")).toBe(1);
    await client.publish(d.exchange, "selftest.run", { id: `dd-${d.queue}-1` });
    await client.publish(d.exchange, "selftest.run", { id: `dd-${d.queue}-2` });
    p = await until(async () => {
      const s = (await scrape(url)).p;
      return valueOf(s, "altrepodb_queue_messages", { ...SVC, kind: "main" }) === 2 ? s : undefined;
    }, 15_000, "2 messages waiting in the main queue");
    expect(valueOf(p, "altrepodb_service_state", { ...SVC, state: "paused" })).toBe(1);
    expect(valueOf(p, "altrepodb_service_up", SVC)).toBe(0);
    await until(async () => valueOf((await scrape(url)).p, "altrepodb_queue_consumers", { ...SVC, kind: "main" }) === 0, 10_000, "no consumer while paused");
    expect(valueOf(p, "altrepodb_messages_total", { ...SVC, outcome: "deferred" })).toBeGreaterThanOrEqual(1);
    expect(valueOf(p, "altrepodb_messages_total", { ...SVC, outcome: "failed" })).toBe(0);
    d.flaky.down = false;
    await until(() => d.service().done === 2, 20_000, "both done after the database is back");
    ({ p } = await scrape(url));
    expect(valueOf(p, "altrepodb_database_up")).toBe(1);
    expect(valueOf(p, "altrepodb_queue_messages", { ...SVC, kind: "main" })).toBe(0);
    expect(valueOf(p, "altrepodb_messages_total", { ...SVC, outcome: "done" })).toBe(2);
    await d.daemon.stop();
  });

  test("broker unreachable: metrics are still served (here on IPv6 loopback) with broker_up 0 and no queue depths", async () => {
    const d = await startDaemon({ daemon: 'metrics_listen = "[::1]:0"\n', brokerPort: freePort(), waitRunning: false });
    expect(d.url()).toMatch(/^http:\/\/\[::1\]:\d+\/metrics$/);
    const { text, p } = await scrape(d.url());
    expectPromtoolOk(text);
    expect(valueOf(p, "altrepodb_broker_up")).toBe(0);
    expect(valueOf(p, "altrepodb_database_up")).toBe(1);
    expect(valueOf(p, "altrepodb_service_up", SVC)).toBe(0);
    expect(p.samples.some((s) => s.name === "altrepodb_queue_messages")).toBe(false);
    expect(["connecting", "reconnecting"].some((state) => valueOf(p, "altrepodb_service_state", { ...SVC, state }) === 1)).toBe(true);
    await d.daemon.stop();
  });

  test("a scheduled service: schedule info, next run, last run and last success", async () => {
    const d = await startDaemon({ service: `schedule = "every 1s"\nschedule_message = { id = "sched-m-${seq + 1}" }\n`, daemon: 'metrics_listen = "127.0.0.1:0"\n' });
    await until(() => d.lines.some((l) => l.msg === "scheduled run finished"), 10_000, "a finished scheduled run");
    const p = await until(async () => {
      const s = (await scrape(d.url())).p;
      return valueOf(s, "altrepodb_schedule_last_success_timestamp_seconds", SVC) !== undefined ? s : undefined;
    }, 10_000, "a last success in a scrape");
    expect(valueOf(p, "altrepodb_schedule_info", { ...SVC, schedule: "every 1s" })).toBe(1);
    expect(valueOf(p, "altrepodb_schedule_next_run_timestamp_seconds", SVC)).toBeGreaterThan(valueOf(p, "altrepodb_schedule_last_success_timestamp_seconds", SVC)!);
    expect(valueOf(p, "altrepodb_schedule_last_run_timestamp_seconds", SVC)).toBeGreaterThanOrEqual(valueOf(p, "altrepodb_schedule_last_success_timestamp_seconds", SVC)!);
    expect(d.service().schedule?.last_success).toBeDefined();
    await d.daemon.stop();
  });

  test("address in use: one error line naming it, the daemon works on; SIGHUP-style reloads bind it, move it and switch it off", async () => {
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
    const addr = `127.0.0.1:${squatter.port}`;
    const d = await startDaemon({ daemon: `metrics_listen = "${addr}"\n` });
    const errors = d.lines.filter((l) => l.level === "error" && l.msg.startsWith("metrics:"));
    expect(errors.length).toBe(1);
    expect(errors[0].msg).toContain(`cannot listen on ${addr}: address already in use`);
    expect(d.status().metrics).toEqual({ listen: addr, error: `cannot listen on ${addr}: address already in use` });
    await until(() => (JSON.parse(readFileSync(join(d.stateDir, "status.json"), "utf8")) as DaemonStatus).metrics?.error, 5000, "the error in the status file");
    // the daemon does its work
    await client.publish(d.exchange, "selftest.run", { id: `busy-${d.queue}` });
    await until(() => d.service().done === 1, 10_000, "a message done");

    // the port is free again: a reload with the same address binds it
    await squatter.stop(true);
    expect(await d.daemon.reload()).toBe(true);
    const first = d.url();
    expect(first).toBe(`http://${addr}/metrics`);
    expect(valueOf((await scrape(first)).p, "altrepodb_messages_total", { ...SVC, outcome: "done" })).toBe(1);

    // another address: served there, no longer on the old one
    const other = freePort();
    d.reloadWith(`metrics_listen = "127.0.0.1:${other}"\n`);
    expect(await d.daemon.reload()).toBe(true);
    expect(d.url()).toBe(`http://127.0.0.1:${other}/metrics`);
    expect(valueOf((await scrape(d.url())).p, "altrepodb_service_up", SVC)).toBe(1);
    expect(await refused(first)).toBe(true);

    // an unchanged reload keeps the listener as it is
    expect(await d.daemon.reload()).toBe(true);
    expect(valueOf((await scrape(d.url())).p, "altrepodb_service_up", SVC)).toBe(1);

    // removed from the configuration: off
    const last = d.url();
    d.reloadWith("");
    expect(await d.daemon.reload()).toBe(true);
    expect(d.status().metrics).toBeUndefined();
    expect(await refused(last)).toBe(true);
    await d.daemon.stop();
  });

  test("a non-loopback address without metrics_allow_remote is refused when the configuration is read", async () => {
    const stateDir = scratch("mstate");
    const t = daemonConfigText(vh.vhost, stateDir, `[services.selftest]\nqueue = "m-remote-q"\n`, 'metrics_listen = "0.0.0.0:9469"\n');
    expect(() => new Daemon({ config: resolveConfig(parseConfigText(t, "remote.toml"), null, {}), openDb: async () => db, env: {} })).toThrow(
      /daemon\.metrics_listen.*0\.0\.0\.0 is not a loopback address/,
    );
  });
});

describe.skipIf(!BROKER_UP)("metrics endpoint (altrepodb daemon process)", () => {
  test("served from the start, moved by SIGHUP, gone after SIGTERM", async () => {
    const dir = scratch("mproc");
    const stateDir = join(dir, "state");
    const cfg = join(dir, "altrepodb.toml");
    const write = (port: number) =>
      writeFileSync(
        cfg,
        `[database]\ndriver = "embedded"\nname = "metrics"\n[database.embedded]\npath = "${join(dir, "db")}"\n` +
          daemonConfigText(vh.vhost, stateDir, `[services.selftest]\nqueue = "m-proc-q"\nexchange = "m-proc-ex"\n`, `metrics_listen = "127.0.0.1:${port}"\n`),
      );
    const a = freePort();
    write(a);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(NOTIFY_SOCKET|WATCHDOG_|STATE_DIRECTORY|RUNTIME_DIRECTORY|JOURNAL_STREAM|ALTREPODB_)/.test(k)) env[k] = v;
    const log = join(dir, "daemon.log");
    const p = Bun.spawn([...CLI, "-c", cfg, "daemon"], { env, stdout: Bun.file(log), stderr: Bun.file(log) });
    const logText = () => readFileSync(log, "utf8");
    try {
      const urlA = `http://127.0.0.1:${a}/metrics`;
      const first = await until(async () => {
        if (p.exitCode !== null) throw new Error(`daemon exited with ${p.exitCode}:\n${logText()}`);
        try {
          const s = await scrape(urlA);
          return valueOf(s.p, "altrepodb_service_up", SVC) === 1 ? s : undefined;
        } catch {
          return undefined;
        }
      }, 30_000, "the daemon's metrics with its service up");
      expectPromtoolOk(first.text);
      // a quorum queue's consumer count follows its consumers with a short lag
      await until(async () => valueOf((await scrape(urlA)).p, "altrepodb_queue_consumers", { ...SVC, queue: "m-proc-q", kind: "main" }) === 1, 10_000, "1 consumer in a scrape");
      expect(valueOf(first.p, "process_resident_memory_bytes")).toBeGreaterThan(0);

      const st = Bun.spawnSync([...CLI, "-c", cfg, "daemon", "status", "--no-broker"], { env, stdout: "pipe", stderr: "pipe", timeout: 30_000 });
      expect(st.exitCode).toBe(0);
      expect(st.stdout.toString()).toContain(`\nmetrics: ${urlA}\n`);

      await client.publish("m-proc-ex", "selftest.run", { id: "proc-1" });
      await until(async () => valueOf((await scrape(urlA)).p, "altrepodb_messages_total", { ...SVC, outcome: "done" }) === 1, 15_000, "done = 1 in a scrape");

      const b = freePort();
      write(b);
      p.kill("SIGHUP");
      const urlB = `http://127.0.0.1:${b}/metrics`;
      const moved = await until(async () => {
        try {
          return (await scrape(urlB)).p;
        } catch {
          return undefined;
        }
      }, 15_000, "metrics on the new address after SIGHUP");
      // counters survive the move
      expect(valueOf(moved, "altrepodb_messages_total", { ...SVC, outcome: "done" })).toBe(1);
      expect(await refused(urlA)).toBe(true);

      p.kill("SIGTERM");
      expect(await p.exited).toBe(0);
      expect(await refused(urlB)).toBe(true);
      expect(logText()).toContain("serving metrics");
    } finally {
      if (p.exitCode === null) p.kill("SIGKILL");
    }
  });
});
