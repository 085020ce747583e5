/**
 * The daemon as a real process (`altrepodb daemon -c CFG`; set ALTREPODB_TEST_BINARY=dist/altrepodb
 * to test the compiled binary): kill -9 and restart, SIGTERM drain, a broker restart during a
 * load, the embedded database locked by another process, systemd notifications, `daemon status`
 * and `amqpfire`. Every daemon gets its own data directory; results are read with
 * `altrepodb sql` after it exited (the embedded database allows one process per directory).
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { DaemonStatus } from "../../src/daemon/status";
import { BROKER_UP, makeVhost, rabbitmqctl, until } from "../amqp/_broker";
import { daemonConfigText, scratch, TestClient } from "./_daemon";
import { sockaddrUn } from "../../src/daemon/systemd";
import { dlopen, FFIType, ptr } from "bun:ffi";

setDefaultTimeout(60_000);

const ROOT = join(import.meta.dir, "..", "..");
const CLI = process.env.ALTREPODB_TEST_BINARY ? [join(ROOT, process.env.ALTREPODB_TEST_BINARY)] : [process.execPath, join(ROOT, "src/cli/main.ts")];

let vh: ReturnType<typeof makeVhost>;
let client: TestClient;
beforeAll(async () => {
  if (!BROKER_UP) return;
  vh = makeVhost("proc");
  client = await TestClient.forVhost(vh.vhost);
});
afterAll(async () => {
  await client?.close();
  vh?.remove();
});

function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(NOTIFY_SOCKET|WATCHDOG_|STATE_DIRECTORY|RUNTIME_DIRECTORY|JOURNAL_STREAM|ALTREPODB_)/.test(k)) env[k] = v;
  return { ...env, ...extra };
}

let seq = 0;

interface Setup {
  dir: string;
  cfg: string;
  queue: string;
  exchange: string;
  dataDir: string;
  stateDir: string;
}

function setup(serviceToml = "", daemonExtra = ""): Setup {
  const n = ++seq;
  const dir = scratch("dproc");
  const queue = `p-${n}-q`;
  const exchange = `p-${n}-ex`;
  const dataDir = join(dir, "db");
  const stateDir = join(dir, "state");
  const text =
    `[database]\ndriver = "embedded"\nname = "proc"\n[database.embedded]\npath = "${dataDir}"\n` +
    daemonConfigText(vh.vhost, stateDir, `[services.selftest]\nqueue = "${queue}"\nexchange = "${exchange}"\nmax_attempts = 3\nretry_delay = 0.2\nretry_delay_max = 1\n${serviceToml}`, daemonExtra);
  const cfg = join(dir, "altrepodb.toml");
  writeFileSync(cfg, text);
  return { dir, cfg, queue, exchange, dataDir, stateDir };
}

function spawnDaemon(s: Setup, env: Record<string, string> = {}, name = "daemon"): Subprocess {
  const log = Bun.file(join(s.dir, `${name}-${Date.now()}.log`));
  return Bun.spawn([...CLI, "-c", s.cfg, "daemon"], { env: cleanEnv(env), stdout: log, stderr: log });
}

function logsOf(s: Setup): string {
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  return readdirSync(s.dir)
    .filter((n: string) => n.endsWith(".log"))
    .sort()
    .map((n: string) => readFileSync(join(s.dir, n), "utf8"))
    .join("\n");
}

function statusOf(s: Setup): DaemonStatus | undefined {
  try {
    return JSON.parse(readFileSync(join(s.stateDir, "status.json"), "utf8"));
  } catch {
    return undefined;
  }
}

async function running(s: Setup, p: Subprocess): Promise<void> {
  await until(() => {
    if (p.exitCode !== null) throw new Error(`daemon exited with ${p.exitCode}:\n${logsOf(s)}`);
    const st = statusOf(s);
    return st?.pid === p.pid && st.services[0]?.state === "running";
  }, 20_000, "the daemon to run");
}

/** Runs `altrepodb -c CFG ARGS…` and returns exit code and output. */
function cli(s: Setup, ...args: string[]): { code: number; out: string; err: string } {
  const r = Bun.spawnSync([...CLI, "-c", s.cfg, ...args], { env: cleanEnv(), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode ?? -1, out: r.stdout.toString(), err: r.stderr.toString() };
}

function rows(s: Setup): Map<string, number> {
  const r = cli(s, "sql", "SELECT id, count() FROM daemon_selftest GROUP BY id ORDER BY id", "-f", "TSV");
  if (r.code !== 0) throw new Error(`sql failed: ${r.err}`);
  return new Map(
    r.out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [id, n] = l.split("\t");
        return [id, Number(n)];
      }),
  );
}

async function sigterm(p: Subprocess, ms = 20_000): Promise<number> {
  p.kill("SIGTERM");
  const code = await Promise.race([p.exited, Bun.sleep(ms).then(() => -1)]);
  if (code === -1) p.kill("SIGKILL");
  return code;
}

/** The queue, its delay queues and the daemon are all idle for a moment. */
async function settled(s: Setup): Promise<void> {
  let quiet = 0;
  await until(async () => {
    const st = statusOf(s);
    const busy = (st?.services[0]?.in_flight ?? 1) + (await client.depth(s.queue));
    quiet = busy === 0 ? quiet + 1 : 0;
    return quiet >= 10;
  }, 60_000, "the queue to drain");
}

describe.skipIf(!BROKER_UP)("daemon process", () => {
  test("kill -9 in the middle, restart: every message ends in the database exactly once", async () => {
    const s = setup("workers = 3\n");
    const p1 = spawnDaemon(s, {}, "first");
    await running(s, p1);
    const ids = Array.from({ length: 30 }, (_, i) => `k-${String(i).padStart(2, "0")}`);
    for (const id of ids) await client.publish(s.exchange, "selftest.run", { id, sleep_ms: 150 });
    await until(() => (statusOf(s)?.services[0]?.done ?? 0) >= 6, 20_000, "a few messages done");
    p1.kill("SIGKILL");
    await p1.exited;
    const doneBefore = statusOf(s)!.services[0]!.done;
    expect(doneBefore).toBeLessThan(30);
    const p2 = spawnDaemon(s, {}, "second");
    await running(s, p2);
    await settled(s);
    expect(await sigterm(p2)).toBe(0);
    const got = rows(s);
    expect([...got.keys()]).toEqual(ids);
    expect([...got.values()].every((n) => n === 1)).toBe(true);
    const st = statusOf(s)!;
    expect(st.state).toBe("stopped");
    expect(st.services[0]).toMatchObject({ dead_lettered: 0, invalid: 0 });
    expect(await client.depth(`${s.queue}.dead`)).toBe(0);
  }, 120_000);

  test("SIGTERM: the running message finishes and is acked, exit 0; with a short grace it is requeued", async () => {
    const s = setup();
    const p = spawnDaemon(s);
    await running(s, p);
    await client.publish(s.exchange, "selftest.run", { id: "term-1", sleep_ms: 1500 });
    await until(() => statusOf(s)?.services[0]?.in_flight === 1, 10_000, "the message to start");
    expect(await sigterm(p)).toBe(0);
    expect(await client.depth(s.queue)).toBe(0);
    expect(statusOf(s)?.services[0]?.done).toBe(1);

    writeFileSync(s.cfg, readFileSync(s.cfg, "utf8").replace("shutdown_grace = 5", "shutdown_grace = 0.3"));
    const p2 = spawnDaemon(s);
    await running(s, p2);
    await client.publish(s.exchange, "selftest.run", { id: "term-2", sleep_ms: 60_000 });
    await until(() => statusOf(s)?.services[0]?.in_flight === 1, 10_000, "the slow message to start");
    const t0 = Date.now();
    expect(await sigterm(p2)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(await until(() => client.depth(s.queue), 5000, "the requeued message")).toBe(1);
    expect([...rows(s).keys()]).toEqual(["term-1"]);
    await client.drain(s.queue);
  }, 60_000);

  test("a second SIGTERM skips the grace at once: the running message is requeued (by republishing, with its headers), exit 0", async () => {
    const s = setup();
    writeFileSync(s.cfg, readFileSync(s.cfg, "utf8").replace("shutdown_grace = 5", "shutdown_grace = 60"));
    const p = spawnDaemon(s);
    await running(s, p);
    await client.publish(s.exchange, "selftest.run", { id: "twice-1", sleep_ms: 120_000 });
    await until(() => statusOf(s)?.services[0]?.in_flight === 1, 10_000, "the slow message to start");
    p.kill("SIGTERM");
    await until(() => logsOf(s).includes("waiting for running messages"), 10_000, "the grace to begin");
    const t0 = Date.now();
    expect(await sigterm(p, 30_000)).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(logsOf(s)).toContain("received again");
    expect(statusOf(s)?.services[0]).toMatchObject({ done: 0, failed: 0, requeued: 1 });
    const [m] = await until(async () => {
      const all = await client.drain(s.queue);
      return all.length ? all : undefined;
    }, 5000, "the requeued message");
    expect(JSON.parse(m.body).id).toBe("twice-1");
    expect(m.headers["x-altrepodb-requeues"]).toBe(1);
  }, 60_000);

  test("broker restart during a load: reconnect, declare again, the message completes", async () => {
    const s = setup();
    const p = spawnDaemon(s);
    await running(s, p);
    await client.publish(s.exchange, "selftest.run", { id: "restart-1", sleep_ms: 2500 });
    await until(() => statusOf(s)?.services[0]?.in_flight === 1, 10_000, "the message to start");
    try {
      expect(rabbitmqctl("stop_app").ok).toBe(true);
      await Bun.sleep(2000);
    } finally {
      rabbitmqctl("start_app");
    }
    rabbitmqctl("await_startup");
    await client.close();
    client = await until(() => TestClient.forVhost(vh.vhost).catch(() => undefined), 30_000, "the broker back");
    await until(() => statusOf(s)?.services[0]?.state === "running" && (statusOf(s)?.services[0]?.done ?? 0) + (statusOf(s)?.services[0]?.skipped ?? 0) >= 1, 60_000, "the message to complete after the restart");
    await settled(s);
    // the queue was declared again: a new message is taken too
    await client.publish(s.exchange, "selftest.run", { id: "restart-2" });
    await until(() => rowsDone(s) >= 2, 20_000, "a message after the restart");
    expect(await sigterm(p)).toBe(0);
    expect(rows(s)).toEqual(new Map([["restart-1", 1], ["restart-2", 1]]));
    expect(logsOf(s)).toContain("broker connection lost; reconnecting");
  }, 120_000);

  test("queue deleted under the daemon: it is declared again and consuming goes on", async () => {
    const s = setup();
    const p = spawnDaemon(s);
    await running(s, p);
    expect(rabbitmqctl("delete_queue", "-p", vh.vhost, s.queue).ok).toBe(true);
    await Bun.sleep(500);
    await until(() => statusOf(s)?.services[0]?.state === "running", 10_000, "the service back");
    await client.publish(s.exchange, "selftest.run", { id: "redeclared" });
    await until(() => statusOf(s)?.services[0]?.done === 1, 10_000, "the message");
    expect(await sigterm(p)).toBe(0);
    expect(rows(s).get("redeclared")).toBe(1);
  }, 60_000);

  test("database locked by another process: messages wait (none lost, none failed) and complete when it is free", async () => {
    const s = setup("workers = 2\n");
    mkdirSync(s.dataDir, { recursive: true });
    const holder = Bun.spawn(["flock", "-x", "-o", join(s.dataDir, "altrepodb.lock"), "sleep", "600"], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(300);
    const p = spawnDaemon(s);
    await running(s, p);
    const ids = ["lock-1", "lock-2", "lock-3", "lock-4"];
    for (const id of ids) await client.publish(s.exchange, "selftest.run", { id });
    await until(() => statusOf(s)?.services[0]?.state === "paused", 15_000, "the pause");
    expect(statusOf(s)?.database).toMatchObject({ healthy: false });
    expect(statusOf(s)?.database.error).toContain("is locked");
    expect(statusOf(s)?.services[0]?.done).toBe(0);
    holder.kill("SIGKILL");
    await holder.exited;
    await until(() => statusOf(s)?.services[0]?.done === 4, 30_000, "all done after the lock is gone");
    expect(statusOf(s)?.services[0]).toMatchObject({ failed: 0, dead_lettered: 0 });
    expect(await sigterm(p)).toBe(0);
    expect([...rows(s).entries()]).toEqual(ids.map((id) => [id, 1]));
  }, 90_000);

  test("systemd: READY=1, STATUS=…, WATCHDOG=1 and STOPPING=1 reach $NOTIFY_SOCKET", async () => {
    const s = setup();
    const sockPath = join(s.dir, "notify.sock");
    const lib = dlopen("libc.so.6", {
      socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
      bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
      recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
      close: { args: [FFIType.i32], returns: FFIType.i32 },
    });
    const fd = lib.symbols.socket(1, 2, 0);
    const { addr, len } = sockaddrUn(sockPath);
    expect(lib.symbols.bind(fd, ptr(addr), len)).toBe(0);
    const buf = new Uint8Array(4096);
    const got: string[] = [];
    const take = () => {
      for (;;) {
        const n = Number(lib.symbols.recv(fd, ptr(buf), buf.length, 0x40));
        if (n < 0) return got;
        got.push(Buffer.from(buf.subarray(0, n)).toString());
      }
    };
    const p = spawnDaemon(s, { NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: "400000" });
    await running(s, p);
    await until(() => take().some((m) => m.includes("READY=1")), 10_000, "READY=1");
    await until(() => take().filter((m) => m === "WATCHDOG=1").length >= 2, 5000, "watchdog pings");
    expect(await sigterm(p)).toBe(0);
    take();
    lib.symbols.close(fd);
    const ready = got.find((m) => m.includes("READY=1"))!;
    expect(ready).toContain(`MAINPID=${p.pid}`);
    expect(ready).toMatch(/STATUS=running: selftest /);
    expect(got).toContain("STOPPING=1\nSTATUS=stopping");
    expect(got.at(-1)).toBe("STATUS=All services stopped");
  }, 60_000);

  test("daemon status: per service counts and queue depths while running; exit 1 once it is gone", async () => {
    const s = setup();
    expect(cli(s, "daemon", "status").code).toBe(1);
    const p = spawnDaemon(s);
    await running(s, p);
    await client.publish(s.exchange, "selftest.run", { id: "st-1" });
    await client.publish(s.exchange, "selftest.run", "{bad json");
    await until(() => statusOf(s)?.services[0]?.dead_lettered === 1 && statusOf(s)?.services[0]?.done === 1, 10_000, "one done, one dead");
    await Bun.sleep(700);
    const ok = cli(s, "daemon", "status");
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^daemon: running, pid \d+/);
    const line = ok.out.split("\n").find((l) => l.startsWith("selftest"))!;
    expect(line.split(/\s{2,}/).slice(0, 11)).toEqual(["selftest", "running", "1", "0", "0", "0", "1", "1", "0", "0", "1"]);
    expect(line).toContain("body is not valid JSON");
    const json = JSON.parse(cli(s, "daemon", "status", "--json").out);
    expect(json).toMatchObject({ running: true, queues: { [s.queue]: { messages: 0, consumers: 1 }, [`${s.queue}.dead`]: { messages: 1 } } });
    p.kill("SIGKILL");
    await p.exited;
    const gone = cli(s, "daemon", "status");
    expect(gone.code).toBe(1);
    expect(gone.out).toContain(`NOT RUNNING (process ${p.pid} is gone`);
    expect(gone.err).toContain("daemon is not running");
  }, 60_000);

  test("SIGHUP: a broken config is logged and the running one kept; a good one restarts the changed service", async () => {
    const s = setup();
    const p = spawnDaemon(s);
    await running(s, p);
    const good = readFileSync(s.cfg, "utf8");
    writeFileSync(s.cfg, good.replace("max_attempts = 3", "max_attempts = 3\nworkerz = 2"));
    p.kill("SIGHUP");
    await until(() => logsOf(s).includes("configuration reload failed; keeping the running configuration"), 10_000, "the refused reload");
    expect(logsOf(s)).toContain("services.selftest.workerz: unknown key");
    await client.publish(s.exchange, "selftest.run", { id: "hup-1" });
    await until(() => statusOf(s)?.services[0]?.done === 1, 10_000, "a message with the old config");
    writeFileSync(s.cfg, good.replace("max_attempts = 3", "max_attempts = 3\nworkers = 2"));
    p.kill("SIGHUP");
    await until(() => statusOf(s)?.services[0]?.workers === 2 && statusOf(s)?.services[0]?.state === "running", 10_000, "the restarted service");
    await client.publish(s.exchange, "selftest.run", { id: "hup-2" });
    await until(() => statusOf(s)?.services[0]?.done === 2, 10_000, "a message with the new config (counters carried over)");
    expect(await sigterm(p)).toBe(0);
    expect([...rows(s).keys()]).toEqual(["hup-1", "hup-2"]);
  });

  test("the AMQP password never reaches the logs, config check or status", async () => {
    const s = setup();
    const secret = "Sup3r-Secret-pw-7719";
    writeFileSync(s.cfg, readFileSync(s.cfg, "utf8").replace("[amqp]\n", `[amqp]\nusername = "nosuchuser"\npassword = "${secret}"\n`));
    const p = spawnDaemon(s);
    await until(() => /broker unreachable.*ACCESS_REFUSED|ACCESS_REFUSED.*broker unreachable/s.test(logsOf(s)), 15_000, "the refused login");
    expect(await sigterm(p)).toBe(0);
    expect(logsOf(s)).not.toContain(secret);
    const check = cli(s, "config", "check");
    expect(check.code).toBe(0);
    expect(check.out).not.toContain(secret);
    expect(readFileSync(join(s.stateDir, "status.json"), "utf8")).not.toContain(secret);
    const fire = cli(s, "amqpfire", "selftest", "x");
    expect(fire.code).toBe(1);
    expect(fire.out + fire.err).not.toContain(secret);
  });

  test("amqpfire: dry run, validation, unroutable messages, and a message the daemon takes", async () => {
    const s = setup();
    writeFileSync(s.cfg, readFileSync(s.cfg, "utf8") + `\n[repo_dirs]\np10 = "/nonexistent/p10"\n[services.task]\nqueue = "task-${s.queue}"\nexchange = "girar-${s.exchange}"\nretry_delay = 0.2\n`);
    expect(cli(s, "db", "init").code).toBe(0);
    const dry = cli(s, "amqpfire", "--dry-run", "repo", "p10", "2026-11-20");
    expect(dry).toMatchObject({ code: 0, out: 'repo.load {"branch":"p10","date":"2026-11-20"}\n' });
    expect(cli(s, "amqpfire", "--dry-run", "task", "412345", "done").out).toMatch(/^task\.state \{"taskid":412345,"state":"DONE","_timestamp":[\d.]+\}\n$/);
    const approve = cli(s, "amqpfire", "--dry-run", "task-approve", "412345", "100", "ldv", "Looks", "good");
    const [key, body] = [approve.out.slice(0, approve.out.indexOf(" ")), JSON.parse(approve.out.slice(approve.out.indexOf(" ") + 1))];
    expect(key).toBe("task.subtask.approve");
    expect(body).toMatchObject({ taskid: 412345, subtaskid: 100, girar_user: "ldv", _routing_key: "task.subtask.approve" });
    expect(Buffer.from(body.base64_message, "base64").toString()).toMatch(/^\d{4}-[A-Z][a-z]{2}-\d\d \d\d:\d\d:\d\d :: approved by ldv\nLooks good\n$/);
    expect(cli(s, "amqpfire", "--dry-run", "repo", "p11", "2026-11-20")).toMatchObject({ code: 2 });
    expect(cli(s, "amqpfire", "--dry-run", "repo", "p10", "2026-13-01").err).toContain("date: no such day");
    expect(cli(s, "amqpfire", "--dry-run", "task", "abc", "done").code).toBe(2);
    expect(cli(s, "amqpfire", "nosuch").code).toBe(2);
    // nothing bound yet: the broker returns the message, amqpfire says so
    const unrouted = cli(s, "amqpfire", "selftest", "fire-1");
    expect(unrouted.code).toBe(1);
    expect(unrouted.err).toMatch(/cannot send|no queue is bound/);
    const p = spawnDaemon(s);
    await running(s, p);
    const sent = cli(s, "amqpfire", "selftest", "fire-1");
    expect(sent.code).toBe(0);
    expect(sent.out).toMatch(/^OK selftest\.run → p-\d+-ex \(message id [0-9a-f-]{36}\)\n$/);
    await until(() => statusOf(s)?.services.find((x) => x.name === "selftest")?.done === 1, 10_000, "the fired message");
    // a task event for a task without a directory is refused with the reason
    expect(cli(s, "amqpfire", "task", "9999999", "done").code).toBe(0);
    await until(() => statusOf(s)?.services.find((x) => x.name === "task")?.dead_lettered === 1, 10_000, "the dead-lettered task");
    const [dead] = await client.drain(`task-${s.queue}.dead`);
    expect(String(dead.headers["x-altrepodb-error"])).toBe("task 9999999 has no directory (looked in /tasks/9999999 and /archive/tasks/done/_9765/9999999)");
    expect(await sigterm(p)).toBe(0);
  }, 60_000);
});

function rowsDone(s: Setup): number {
  const st = statusOf(s)?.services[0];
  return (st?.done ?? 0) + (st?.skipped ?? 0);
}

if (!existsSync(CLI[CLI.length - 1])) throw new Error(`no CLI at ${CLI.join(" ")}`);
