/**
 * The metrics text without a daemon: the exposition format checked strictly (tests/daemon/_prom.ts
 * and `promtool check metrics` as the oracle), label and HELP escaping, what each status field
 * becomes, schedule successes remembered across snapshots, and the metrics_listen setting.
 */
import { describe, expect, test } from "bun:test";
import { parseConfigText, resolveConfig } from "../../src/config";
import { escapeLabelValue, Exposition, renderMetrics, ScheduleSuccess, type MetricsSnapshot } from "../../src/daemon/metrics";
import { isLoopback, parseListen } from "../../src/daemon/metrics-server";
import { REGISTRY } from "../../src/daemon/services";
import { resolveDaemonSettings } from "../../src/daemon/settings";
import type { DaemonStatus, ServiceStatus } from "../../src/daemon/status";
import { parseExposition, PROMTOOL, promtoolCheck, valueOf } from "./_prom";

if (!PROMTOOL) console.warn("tests/daemon: promtool not found (Debian package prometheus, installed by .ci/setup); its checks are skipped");

function service(over: Partial<ServiceStatus> = {}): ServiceStatus {
  return {
    name: "repo",
    state: "running",
    queue: "repo-loader-q",
    exchange: "repodb-ex",
    routing_keys: ["repo.load"],
    workers: 2,
    in_flight: 1,
    done: 10,
    skipped: 2,
    failed: 3,
    retried: 2,
    dead_lettered: 1,
    invalid: 0,
    deferred: 4,
    requeued: 0,
    republish_refused: 0,
    waiting: 0,
    restarts: 5,
    ...over,
  };
}

function snapshot(over: Partial<DaemonStatus> = {}, rest: Partial<MetricsSnapshot> = {}): MetricsSnapshot {
  return {
    status: {
      pid: 1,
      version: "1.2.3",
      state: "running",
      started_at: "2026-12-03T10:00:00.000Z",
      updated_at: "2026-12-03T10:05:00.000Z",
      config: "/etc/altrepodb/config.toml",
      status_interval_ms: 5000,
      database: { healthy: true },
      notifier: { enabled: true, connected: true, pending: 7, published: 11, dropped: 1 },
      services: [
        service({ last_done_at: "2026-12-03T10:04:00.500Z", last_error: { message: "boom", at: "2026-12-03T10:03:00.000Z" } }),
        service({
          name: "task",
          state: "paused",
          queue: "task-loader-q",
          in_flight: 0,
          schedule: { spec: "every 30m", next_run: "2026-12-03T10:30:00.000Z", last_run: "2026-12-03T10:00:00.000Z", last_result: "done", last_success: "2026-12-03T10:00:00.000Z", running: false },
        }),
      ],
      ...over,
    },
    database: { up: true },
    broker: { up: true },
    queues: [
      { service: "repo", queue: "repo-loader-q", kind: "main", messages: 3, consumers: 1 },
      { service: "repo", queue: "repo-loader-q.dead", kind: "dead", messages: 1, consumers: 0 },
      { service: "repo", queue: "repo-loader-q.delay.30s", kind: "delay" },
    ],
    process: { startTimeSeconds: 1764756000.25, residentBytes: 123456789, cpuSeconds: 12.5 },
    ...rest,
  };
}

describe("metrics text", () => {
  test("a full snapshot: strictly valid, promtool agrees, every status field as a sample", () => {
    const text = renderMetrics(snapshot());
    const p = parseExposition(text);
    if (PROMTOOL) expect(promtoolCheck(text)).toEqual({ ok: true, out: "" });
    const v = (name: string, labels: Record<string, string> = {}) => valueOf(p, name, labels);
    expect(v("altrepodb_build_info", { version: "1.2.3" })).toBe(1);
    expect(v("altrepodb_daemon_state", { state: "running" })).toBe(1);
    expect(v("altrepodb_daemon_state", { state: "stopping" })).toBe(0);
    expect(v("altrepodb_database_up")).toBe(1);
    expect(v("altrepodb_broker_up")).toBe(1);
    expect(v("altrepodb_notifier_up")).toBe(1);
    expect(v("altrepodb_notifier_pending")).toBe(7);
    expect(v("altrepodb_notifications_total", { outcome: "published" })).toBe(11);
    expect(v("altrepodb_notifications_total", { outcome: "dropped" })).toBe(1);
    const outcomes = { done: 10, skipped: 2, failed: 3, retried: 2, dead_lettered: 1, invalid: 0, deferred: 4 };
    for (const [outcome, n] of Object.entries(outcomes)) expect(v("altrepodb_messages_total", { service: "repo", outcome })).toBe(n);
    expect(v("altrepodb_service_restarts_total", { service: "repo" })).toBe(5);
    expect(v("altrepodb_messages_in_flight", { service: "repo" })).toBe(1);
    expect(v("altrepodb_service_workers", { service: "task" })).toBe(2);
    expect(v("altrepodb_service_up", { service: "repo" })).toBe(1);
    expect(v("altrepodb_service_up", { service: "task" })).toBe(0);
    expect(v("altrepodb_service_state", { service: "task", state: "paused" })).toBe(1);
    expect(p.samples.filter((s) => s.name === "altrepodb_service_state" && s.labels.service === "task" && s.value === 1).length).toBe(1);
    expect(v("altrepodb_last_success_timestamp_seconds", { service: "repo" })).toBe(Date.parse("2026-12-03T10:04:00.500Z") / 1000);
    expect(v("altrepodb_last_success_timestamp_seconds", { service: "task" })).toBeUndefined();
    expect(v("altrepodb_last_error_timestamp_seconds", { service: "repo" })).toBe(Date.parse("2026-12-03T10:03:00.000Z") / 1000);
    expect(v("altrepodb_schedule_info", { service: "task", schedule: "every 30m" })).toBe(1);
    expect(v("altrepodb_schedule_info", { service: "repo" })).toBeUndefined();
    expect(v("altrepodb_schedule_running", { service: "task" })).toBe(0);
    expect(v("altrepodb_schedule_next_run_timestamp_seconds", { service: "task" })).toBe(Date.parse("2026-12-03T10:30:00.000Z") / 1000);
    expect(v("altrepodb_schedule_last_success_timestamp_seconds", { service: "task" })).toBe(Date.parse("2026-12-03T10:00:00.000Z") / 1000);
    expect(v("altrepodb_queue_messages", { queue: "repo-loader-q", kind: "main", service: "repo" })).toBe(3);
    expect(v("altrepodb_queue_messages", { queue: "repo-loader-q.dead", kind: "dead" })).toBe(1);
    expect(v("altrepodb_queue_messages", { queue: "repo-loader-q.delay.30s" })).toBeUndefined();
    expect(v("altrepodb_queue_consumers", { queue: "repo-loader-q" })).toBe(1);
    expect(v("process_resident_memory_bytes")).toBe(123456789);
    expect(v("process_cpu_seconds_total")).toBe(12.5);
    expect(p.families.get("altrepodb_messages_total")?.type).toBe("counter");
    expect(p.families.get("altrepodb_queue_messages")?.type).toBe("gauge");
    expect(text).toContain('altrepodb_messages_total{service="repo",outcome="done"} 10\n');
  });

  test("a daemon with the database and broker away, no services' samples missing their TYPE", () => {
    const text = renderMetrics(
      snapshot(
        { state: "stopping", database: { healthy: false, error: "refused" }, notifier: { enabled: false, connected: false, pending: 0, published: 0, dropped: 0 }, services: [] },
        { database: { up: false }, broker: { up: false }, queues: [{ service: "repo", queue: "q", kind: "main" }] },
      ),
    );
    const p = parseExposition(text);
    if (PROMTOOL) expect(promtoolCheck(text)).toEqual({ ok: true, out: "" });
    expect(valueOf(p, "altrepodb_database_up")).toBe(0);
    expect(valueOf(p, "altrepodb_broker_up")).toBe(0);
    expect(valueOf(p, "altrepodb_notifier_up")).toBe(0);
    expect(valueOf(p, "altrepodb_daemon_state", { state: "stopping" })).toBe(1);
    expect(p.samples.some((s) => s.name === "altrepodb_queue_messages")).toBe(false);
    // families without samples still have HELP and TYPE, once
    expect(p.families.has("altrepodb_messages_total")).toBe(true);
  });

  test("label values and HELP text are escaped; the reader gets the original back", () => {
    const nasty = 'a\\b"c\nd}e,f="g"';
    expect(escapeLabelValue(nasty)).toBe('a\\\\b\\"c\\nd}e,f=\\"g\\"');
    const e = new Exposition();
    e.family("x_total", "counter", 'help with \\ and\nnewline and "quotes"')(1, { v: nasty, w: "" });
    const text = e.render();
    expect(text).toBe('# HELP x_total help with \\\\ and\\nnewline and "quotes"\n# TYPE x_total counter\nx_total{v="a\\\\b\\"c\\nd}e,f=\\"g\\"",w=""} 1\n');
    const p = parseExposition(text);
    expect(p.samples[0].labels).toEqual({ v: nasty, w: "" });
    expect(p.families.get("x_total")?.help).toBe('help with \\ and\nnewline and "quotes"');
    if (PROMTOOL) expect(promtoolCheck(text).ok).toBe(true);

    // through renderMetrics: a version, a schedule and a queue name with every special character
    const text2 = renderMetrics(
      snapshot({ version: nasty, services: [service({ queue: nasty, schedule: { spec: nasty, running: true } })] }, { queues: [{ service: "repo", queue: nasty, kind: "main", messages: 0 }] }),
    );
    const p2 = parseExposition(text2);
    if (PROMTOOL) expect(promtoolCheck(text2)).toEqual({ ok: true, out: "" });
    expect(valueOf(p2, "altrepodb_build_info", { version: nasty })).toBe(1);
    expect(valueOf(p2, "altrepodb_schedule_info", { schedule: nasty })).toBe(1);
    expect(valueOf(p2, "altrepodb_schedule_running", { service: "repo" })).toBe(1);
    expect(valueOf(p2, "altrepodb_queue_messages", { queue: nasty })).toBe(0);
  });

  test("special values, and programming errors caught when a family is declared", () => {
    const e = new Exposition();
    const g = e.family("g", "gauge", "h");
    g(NaN, { k: "nan" });
    g(Infinity, { k: "inf" });
    g(-Infinity, { k: "-inf" });
    g(1.5e-7, { k: "small" });
    const text = e.render();
    expect(text).toContain('g{k="nan"} NaN\ng{k="inf"} +Inf\ng{k="-inf"} -Inf\n');
    expect(parseExposition(text).samples.length).toBe(4);
    if (PROMTOOL) expect(promtoolCheck(text).ok).toBe(true);
    expect(() => e.family("g", "gauge", "again")).toThrow("declared twice");
    expect(() => e.family("bad-name", "gauge", "h")).toThrow("invalid metric name");
    expect(() => e.family("c", "counter", "h")).toThrow("must end in _total");
    expect(() => e.family("ok", "gauge", "h")(1, { "bad-label": "x" })).toThrow("invalid label name");
  });

  test("the strict reader itself refuses what the format forbids", () => {
    const bad: [string, string][] = [
      ["# HELP a x\n# TYPE a gauge\na 1", "newline"],
      ["a 1\n", "before its TYPE"],
      ["# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n", "second TYPE"],
      ["# TYPE a gauge\na 1\n", "TYPE for a without HELP"],
      ["# HELP a x\n# HELP a y\n# TYPE a gauge\na 1\n", "second HELP"],
      ["# HELP a-b x\n# TYPE a-b gauge\n", "bad metric name"],
      ['# HELP a x\n# TYPE a gauge\na{k="1",} 1\n', "trailing comma"],
      ["# HELP a x\n# TYPE a gauge\na 1\n# HELP b x\n# TYPE b gauge\nb 1\na 2\n", "outside its family"],
      ['# HELP a x\n# TYPE a gauge\na{k="x} 1\n', "unterminated"],
      ['# HELP a x\n# TYPE a gauge\na{k="\\t"} 1\n', "bad escape"],
      ['# HELP a x\n# TYPE a gauge\na{k="1"} 1\na{k="1"} 2\n', "duplicate series"],
      ["# HELP a x\n# TYPE a counter\na 1\n", "does not end in _total"],
      ["# HELP a x\n# TYPE a gauge\na one\n", "bad value"],
      ["# HELP a x\n# TYPE a gauge\na 1 1700000000\n", "bad value"],
      ["# HELP a bad \\t\n# TYPE a gauge\na 1\n", "bad escape"],
    ];
    for (const [text, why] of bad) expect(() => parseExposition(text)).toThrow(why);
  });
});

describe("schedule successes", () => {
  const sched = (last_run: string | undefined, last_result: string | undefined, running: boolean): ServiceStatus =>
    service({ name: "task", schedule: { spec: "every 1m", last_run, last_result, running } });

  test("the last successful run is kept through failed and running ones", () => {
    const t = new ScheduleSuccess();
    expect(t.observe([sched(undefined, undefined, false)])[0].schedule?.last_success).toBeUndefined();
    expect(t.observe([sched("2026-12-03T10:00:00.000Z", undefined, true)])[0].schedule?.last_success).toBeUndefined();
    expect(t.observe([sched("2026-12-03T10:00:00.000Z", "done", false)])[0].schedule?.last_success).toBe("2026-12-03T10:00:00.000Z");
    // the next run is running: the previous result is still shown but is not this run's
    expect(t.observe([sched("2026-12-03T10:01:00.000Z", "done", true)])[0].schedule?.last_success).toBe("2026-12-03T10:00:00.000Z");
    expect(t.observe([sched("2026-12-03T10:01:00.000Z", "failed: boom", false)])[0].schedule?.last_success).toBe("2026-12-03T10:00:00.000Z");
    // a runner replaced on reload starts without a last run
    expect(t.observe([sched(undefined, undefined, false)])[0].schedule?.last_success).toBe("2026-12-03T10:00:00.000Z");
    expect(t.observe([sched("2026-12-03T10:02:00.000Z", "loaded 3 packages", false)])[0].schedule?.last_success).toBe("2026-12-03T10:02:00.000Z");
    // services without a schedule are passed through unchanged
    const plain = service();
    expect(t.observe([plain])[0]).toBe(plain);
  });
});

describe("metrics_listen", () => {
  test("addresses: HOST:PORT and [IPv6]:PORT; loopback told apart", () => {
    expect(parseListen("127.0.0.1:9469")).toEqual({ host: "127.0.0.1", port: 9469, text: "127.0.0.1:9469" });
    expect(parseListen("[::1]:0")).toEqual({ host: "::1", port: 0, text: "[::1]:0" });
    expect(parseListen("localhost:9469").host).toBe("localhost");
    for (const bad of ["9469", "127.0.0.1", "127.0.0.1:", ":9469", "127.0.0.1:65536", "::1:9469", "[nothex]:1", "a b:1", "http://127.0.0.1:9469"]) {
      expect(() => parseListen(bad)).toThrow("is not HOST:PORT");
    }
    for (const h of ["127.0.0.1", "127.8.9.10", "localhost", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"]) expect(isLoopback(h)).toBe(true);
    for (const h of ["0.0.0.0", "::", "10.0.0.1", "192.168.1.1", "example.org", "128.0.0.1"]) expect(isLoopback(h)).toBe(false);
  });

  const settingsOf = (daemon: string) => {
    const text = `[daemon]\n${daemon}\n[services.selftest]\n`;
    return resolveDaemonSettings(resolveConfig(parseConfigText(text, "m.toml"), null, {}), REGISTRY, {});
  };

  test("off by default; a bad or non-loopback address is a configuration error naming the key", () => {
    expect(settingsOf("").metrics).toBeUndefined();
    expect(settingsOf('metrics_listen = "127.0.0.1:9469"').metrics).toEqual({ host: "127.0.0.1", port: 9469, text: "127.0.0.1:9469" });
    expect(() => settingsOf('metrics_listen = "9469"')).toThrow(/daemon\.metrics_listen.*is not HOST:PORT/);
    expect(() => settingsOf('metrics_listen = "0.0.0.0:9469"')).toThrow(/daemon\.metrics_listen.*0\.0\.0\.0 is not a loopback address.*metrics_allow_remote = true/);
    expect(settingsOf('metrics_listen = "0.0.0.0:9469"\nmetrics_allow_remote = true').metrics?.host).toBe("0.0.0.0");
  });
});
