/** Daemon building blocks without a broker: message decoding, schedules, the spool, sd_notify. */
import { describe, expect, test } from "bun:test";
import { dlopen, FFIType, ptr } from "bun:ffi";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../../src/loaders/errors";
import { log } from "../../src/log";
import { decodeMessage } from "../../src/daemon/payload";
import { nextRun, parseSchedule } from "../../src/daemon/schedule";
import { REGISTRY } from "../../src/daemon/services";
import { Spool } from "../../src/daemon/spool";
import { sdNotify, sockaddrUn, watchdogIntervalMs } from "../../src/daemon/systemd";
import { notificationBody, notificationKey } from "../../src/daemon/notifier";
import { retryDelays } from "../../src/daemon/settings";

const scratch = (p: string) => mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, `${p}-`));

function refused(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("message decoding at the edge", () => {
  const { repo, task, selftest } = REGISTRY;

  test("valid repo.load", () => {
    expect(decodeMessage(repo, "repo.load", Buffer.from('{"branch": "p10", "date": "2026-11-20"}'))).toEqual({ branch: "p10", date: "2026-11-20" });
  });

  test("invalid JSON, missing fields, wrong types, impossible dates, unknown routing keys", () => {
    expect(refused(() => decodeMessage(repo, "repo.load", Buffer.from("{branch: p10")))).toStartWith("body is not valid JSON:");
    expect(refused(() => decodeMessage(repo, "repo.load", Buffer.from('{"branch": "p10"}')))).toBe(
      'invalid repo.load message: date: Invalid key: Expected "date" but received undefined',
    );
    expect(refused(() => decodeMessage(repo, "repo.load", Buffer.from('{"branch": 10, "date": "2026-11-20"}')))).toContain("branch: Invalid type: Expected string but received 10");
    expect(refused(() => decodeMessage(repo, "repo.load", Buffer.from('{"branch": "p10", "date": "2026-02-30"}')))).toContain("date: no such day");
    expect(refused(() => decodeMessage(repo, "repo.load", Buffer.from("[]")))).toContain("branch: Invalid key");
    expect(refused(() => decodeMessage(repo, "repo.load", Buffer.from("null")))).toContain("Expected Object but received null");
    expect(refused(() => decodeMessage(repo, "repo.unload", Buffer.from("{}")))).toBe('unexpected routing key "repo.unload" for service repo (takes repo.load)');
  });

  test("task events: numeric strings, lower-cased states, approval rules", () => {
    expect(decodeMessage(task, "task.state", Buffer.from('{"taskid": "412345", "state": "DONE"}'))).toMatchObject({ taskid: 412345, state: "done", depends: [], subtasks: {} });
    expect(refused(() => decodeMessage(task, "task.state", Buffer.from('{"state": "DONE"}')))).toContain("taskid");
    expect(refused(() => decodeMessage(task, "task.state", Buffer.from('{"taskid": 0}')))).toContain("a task id > 0");
    expect(refused(() => decodeMessage(task, "task.subtask.approve", Buffer.from('{"taskid": 1, "subtaskid": 100}')))).toContain("an approval needs base64_message");
    expect(refused(() => decodeMessage(task, "task.subtask.approve", Buffer.from('{"taskid": 1, "subtaskid": 100, "revoke": true}')))).toContain("a revocation needs girar_user and _timestamp");
    expect(decodeMessage(task, "task.progress", Buffer.from('{"taskid": 5, "stage": "build-task", "stage_status": "processed", "depends": "1 2"}'))).toMatchObject({ depends: [1, 2], stage: "build-task" });
  });

  test("selftest", () => {
    expect(decodeMessage(selftest, "selftest.run", Buffer.from('{"id": "x"}'))).toEqual({ id: "x", sleep_ms: 0, fail_attempts: 0, invalid: false });
    expect(refused(() => decodeMessage(selftest, "selftest.run", Buffer.from('{"id": ""}')))).toContain("id:");
  });
});

describe("schedules", () => {
  test("every N and daily at HH:MM", () => {
    expect(parseSchedule("")).toBeUndefined();
    expect(parseSchedule("every 30m")).toEqual({ kind: "every", ms: 1_800_000, text: "every 30m" });
    expect(parseSchedule("Every 2h")).toMatchObject({ kind: "every", ms: 7_200_000 });
    expect(parseSchedule("daily at 03:30")).toEqual({ kind: "daily", hour: 3, minute: 30, text: "daily at 03:30" });
    expect(() => parseSchedule("daily at 25:00")).toThrow("no such time of day");
    expect(() => parseSchedule("hourly")).toThrow('expected "every <N>s|m|h|d" or "daily at HH:MM"');
    expect(() => parseSchedule("every 0.5s")).toThrow("at least 1s");
  });

  test("next run", () => {
    const from = new Date(2026, 10, 20, 10, 0, 0);
    expect(nextRun(parseSchedule("every 10s")!, from).getTime() - from.getTime()).toBe(10_000);
    expect(nextRun(parseSchedule("daily at 11:15")!, from)).toEqual(new Date(2026, 10, 20, 11, 15, 0));
    expect(nextRun(parseSchedule("daily at 09:00")!, from)).toEqual(new Date(2026, 10, 21, 9, 0, 0));
    expect(nextRun(parseSchedule("daily at 10:00")!, from)).toEqual(new Date(2026, 10, 21, 10, 0, 0));
  });

  test("retry delays double up to the maximum", () => {
    expect(retryDelays(5, 30_000, 100_000)).toEqual([30_000, 60_000, 100_000, 100_000]);
    expect(retryDelays(1, 30_000, 100_000)).toEqual([]);
  });
});

describe("notification spool", () => {
  test("FIFO across instances; unreadable entries are dropped", () => {
    const dir = scratch("spool");
    const a = new Spool(dir, { maxFiles: 100, maxBytes: 1 << 20 }, log);
    a.push({ n: 1 });
    a.push({ n: 2 });
    a.push({ n: 3 });
    const b = new Spool(dir, { maxFiles: 100, maxBytes: 1 << 20 }, log);
    expect(b.list().map((n) => b.read(n))).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    writeFileSync(join(dir, "000000000000000-broken.json"), "{not json");
    writeFileSync(join(dir, "x.json.tmp"), "half");
    const c = new Spool(dir, { maxFiles: 100, maxBytes: 1 << 20 }, log);
    expect(readdirSync(dir).some((n) => n.endsWith(".tmp"))).toBe(false);
    expect(c.read(c.list()[0])).toBeUndefined();
    expect(c.list().length).toBe(3);
  });

  test("full by count or bytes: the OLDEST entries are dropped and counted", () => {
    const dir = scratch("spool");
    const warnings: string[] = [];
    const l = { ...log, warn: (m: string) => warnings.push(m) } as typeof log;
    const s = new Spool(dir, { maxFiles: 3, maxBytes: 1 << 20 }, l);
    for (let i = 1; i <= 5; i++) s.push({ n: i });
    expect(s.list().map((n) => (s.read(n) as { n: number }).n)).toEqual([3, 4, 5]);
    expect(s.dropped).toBe(2);
    expect(warnings).toEqual(["notification spool full: dropped the oldest notification", "notification spool full: dropped the oldest notification"]);
    const t = new Spool(scratch("spool"), { maxFiles: 100, maxBytes: 100 }, l);
    for (let i = 1; i <= 5; i++) t.push({ n: i, pad: "x".repeat(20) });
    expect(t.size().bytes).toBeLessThanOrEqual(100);
    expect((t.read(t.list().at(-1)!) as { n: number }).n).toBe(5);
  });
});

describe("notifications", () => {
  test("reference-compatible body and routing key plus the new fields", () => {
    const n = {
      event: "dead-lettered" as const,
      type: "SERVICE_WORKER_ERROR" as const,
      severity: "CRITICAL" as const,
      service: "task",
      reason: "task 1 has no directory",
      routingKey: "task.state",
      messageId: "m-1",
      attempts: 1,
      body: Buffer.from('{"taskid": 1, "state": "DONE"}'),
    };
    expect(notificationKey(n)).toBe("service_worker_error.critical");
    const b = notificationBody(n, new Date("2026-11-20T10:00:00Z"));
    expect(b).toMatchObject({
      subject: "task",
      severity: "CRITICAL",
      type: "SERVICE_WORKER_ERROR",
      message: "task 1 has no directory",
      timestamp: Date.parse("2026-11-20T10:00:00Z") / 1000,
      payload: { taskid: 1, state: "DONE" },
      service: "task",
      routing_key: "task.state",
      message_id: "m-1",
      attempts: 1,
      time: "2026-11-20T10:00:00.000Z",
    });
    expect(notificationBody({ ...n, body: Buffer.from("not json") }).payload).toBe("not json");
  });
});

/** A unix datagram socket to stand in for systemd's NOTIFY_SOCKET (bun:ffi: socket, bind, recv). */
function fakeNotifySocket(path: string) {
  const lib = dlopen("libc.so.6", {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    bind: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    recv: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i64 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
  });
  const fd = lib.symbols.socket(1, 2, 0);
  const { addr, len } = sockaddrUn(path);
  if (lib.symbols.bind(fd, ptr(addr), len) !== 0) throw new Error(`bind ${path} failed`);
  const buf = new Uint8Array(4096);
  return {
    /** Every datagram waiting (MSG_DONTWAIT). */
    take(): string[] {
      const out: string[] = [];
      for (;;) {
        const n = Number(lib.symbols.recv(fd, ptr(buf), buf.length, 0x40));
        if (n < 0) return out;
        out.push(Buffer.from(buf.subarray(0, n)).toString());
      }
    },
    close: () => lib.symbols.close(fd),
  };
}

describe("sd_notify", () => {
  test("datagrams reach a NOTIFY_SOCKET path and an abstract socket", () => {
    const path = join(scratch("notify"), "notify.sock");
    const sock = fakeNotifySocket(path);
    expect(sdNotify("READY=1\nSTATUS=running", { NOTIFY_SOCKET: path })).toBe(true);
    expect(sdNotify("WATCHDOG=1", { NOTIFY_SOCKET: path })).toBe(true);
    expect(sock.take()).toEqual(["READY=1\nSTATUS=running", "WATCHDOG=1"]);
    sock.close();
    const name = `@altrepodb-test-${process.pid}`;
    const abs = fakeNotifySocket(name);
    expect(sdNotify("STOPPING=1", { NOTIFY_SOCKET: name })).toBe(true);
    expect(abs.take()).toEqual(["STOPPING=1"]);
    abs.close();
  });

  test("no NOTIFY_SOCKET: nothing sent; watchdog interval is half of WATCHDOG_USEC", () => {
    expect(sdNotify("READY=1", {})).toBe(false);
    expect(watchdogIntervalMs({})).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" })).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000", WATCHDOG_PID: "1" })).toBeUndefined();
  });
});

describe("systemd unit (src/daemon/altrepodb.service)", () => {
  const unitPath = join(import.meta.dir, "..", "..", "src", "daemon", "altrepodb.service");
  const text = require("node:fs").readFileSync(unitPath, "utf8") as string;
  const keys = new Map<string, string>();
  for (const l of text.split("\n")) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(l);
    if (m) keys.set(m[1], m[2]);
  }

  test("Type=notify with watchdog, reload by SIGHUP, stop timeout above the default grace, runs the daemon", () => {
    expect(keys.get("Type")).toBe("notify");
    expect(keys.get("NotifyAccess")).toBe("main");
    expect(Number(keys.get("WatchdogSec"))).toBeGreaterThan(0);
    expect(keys.get("ExecReload")).toBe("/bin/kill -HUP $MAINPID");
    expect(keys.get("ExecStart")).toMatch(/^\/usr\/bin\/altrepodb .*daemon$/);
    expect(Number(keys.get("TimeoutStopSec"))).toBeGreaterThan(30);
    expect(keys.get("RuntimeDirectory")).toBe("altrepodb");
    expect(keys.get("StateDirectory")).toBe("altrepodb");
    expect(keys.get("RestartPreventExitStatus")).toBe("2");
  });

  test.skipIf(!Bun.which("systemd-analyze"))("systemd-analyze verify finds nothing wrong", () => {
    const dir = scratch("unit");
    const copy = join(dir, "altrepodb.service");
    writeFileSync(copy, text.replace(/^ExecStart=\S+/m, "ExecStart=/bin/true"));
    const r = Bun.spawnSync(["systemd-analyze", "verify", copy], { stdout: "pipe", stderr: "pipe" });
    const complaints = (r.stdout.toString() + r.stderr.toString())
      .split("\n")
      .filter((l) => l.includes("altrepodb.service") && !/Failed to (create|add)|not found/i.test(l));
    expect(complaints).toEqual([]);
  });
});

describe("import boundaries", () => {
  const { readdirSync, readFileSync, statSync } = require("node:fs") as typeof import("node:fs");
  const src = join(import.meta.dir, "..", "..", "src");
  function files(dir: string): string[] {
    return readdirSync(dir).flatMap((n) => {
      const p = join(dir, n);
      return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
    });
  }
  const importsOf = (f: string) => [...readFileSync(f, "utf8").matchAll(/^(?:import|export)[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1]);

  test("src/amqp imports nothing from loaders, daemon or cli", () => {
    for (const f of files(join(src, "amqp"))) for (const i of importsOf(f)) expect({ f, i, bad: /\/(loaders|daemon|cli)(\/|$)/.test(i) }).toMatchObject({ bad: false });
  });

  test("the daemon and the task events never import the CLI", () => {
    for (const f of [...files(join(src, "daemon")), ...files(join(src, "loaders", "task", "events"))])
      for (const i of importsOf(f)) expect({ f, i, bad: /\/cli(\/|$)/.test(i) }).toMatchObject({ bad: false });
  });
});
