/**
 * The daemon's metrics in the Prometheus text exposition format (version 0.0.4), rendered from
 * the same snapshot the status file is written from (`Daemon.status()`), plus what only a scrape
 * asks for: a live database check, the broker's answer and queue depths.
 *
 * Rules kept here (and checked by tests/daemon/metrics-text.test.ts with promtool as the oracle):
 * one HELP and one TYPE line per family, before its samples; the samples of a family together;
 * counters end in `_total`; times are `_seconds` (timestamps `_timestamp_seconds`, Unix time);
 * label values escape `\`, `"` and newlines; HELP text escapes `\` and newlines.
 */
import type { DaemonStatus, ServiceStatus } from "./status";
import { TRIGGER_OUTCOMES } from "../triggers/stats";

export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels = Readonly<Record<string, string>>;
type MetricType = "counter" | "gauge";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export function escapeHelp(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

interface Family {
  name: string;
  type: MetricType;
  help: string;
  samples: { labels: Labels; value: number }[];
}

/** Families in the order they were declared; a programming error (bad name, duplicate) throws. */
export class Exposition {
  private readonly families = new Map<string, Family>();

  /** Declares a family; the returned function adds one sample. */
  family(name: string, type: MetricType, help: string): (value: number, labels?: Labels) => void {
    if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
    if (this.families.has(name)) throw new Error(`metric family ${name} declared twice`);
    if (type === "counter" && !name.endsWith("_total")) throw new Error(`counter ${name} must end in _total`);
    const f: Family = { name, type, help, samples: [] };
    this.families.set(name, f);
    return (value, labels = {}) => {
      for (const k of Object.keys(labels)) if (!LABEL_NAME.test(k) || k.startsWith("__")) throw new Error(`invalid label name ${JSON.stringify(k)} on ${name}`);
      f.samples.push({ labels, value });
    };
  }

  render(): string {
    const out: string[] = [];
    for (const f of this.families.values()) {
      out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
      for (const s of f.samples) {
        const entries = Object.entries(s.labels);
        const labels = entries.length ? `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}` : "";
        out.push(`${f.name}${labels} ${formatValue(s.value)}`);
      }
    }
    return out.join("\n") + "\n";
  }
}

export type QueueKind = "main" | "dead" | "delay";

export interface QueueSample {
  service: string;
  queue: string;
  kind: QueueKind;
  /** Ready messages; undefined when the queue does not exist or could not be asked. */
  messages?: number;
  consumers?: number;
}

export interface MetricsSnapshot {
  status: DaemonStatus;
  /** A database check made for this scrape. */
  database: { up: boolean };
  /** Whether the broker answered this scrape's queue questions. */
  broker: { up: boolean };
  queues: readonly QueueSample[];
  process: { startTimeSeconds: number; residentBytes: number; cpuSeconds: number };
}

export const DAEMON_STATES: readonly DaemonStatus["state"][] = ["starting", "running", "reloading", "stopping", "stopped"];
/** Every state a service runner reports (src/daemon/runner.ts). */
export const SERVICE_STATES = ["connecting", "reconnecting", "starting", "running", "paused", "failed", "stopping", "stopped"] as const;
/** The per-service counters of the status file, as `outcome` labels of altrepodb_messages_total. */
export const OUTCOMES = ["done", "skipped", "failed", "retried", "dead_lettered", "invalid", "deferred", "requeued", "republish_refused"] as const satisfies readonly (keyof ServiceStatus)[];

const seconds = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t / 1000;
};

export function renderMetrics(snap: MetricsSnapshot): string {
  const e = new Exposition();
  const st = snap.status;
  const b = (x: boolean | undefined) => (x ? 1 : 0);

  e.family("altrepodb_build_info", "gauge", "Always 1; the version of the running daemon as a label.")(1, { version: st.version });
  const daemonState = e.family("altrepodb_daemon_state", "gauge", "1 for the daemon's current state, 0 for the others.");
  for (const s of DAEMON_STATES) daemonState(b(st.state === s), { state: s });
  e.family("altrepodb_database_up", "gauge", "1 when the database answered a query for this scrape.")(b(snap.database.up));
  e.family("altrepodb_broker_up", "gauge", "1 when RabbitMQ answered this scrape's queue depth questions.")(b(snap.broker.up));
  e.family("altrepodb_notifier_up", "gauge", "1 when the notifier is connected to the broker (0 when disabled).")(b(st.notifier.enabled && st.notifier.connected));
  e.family("altrepodb_notifier_pending", "gauge", "Notifications waiting in the spool for the broker.")(st.notifier.pending);
  const notes = e.family("altrepodb_notifications_total", "counter", "Notifications since the daemon started, by outcome (published: confirmed by the broker; dropped: pushed out of a full spool).");
  notes(st.notifier.published, { outcome: "published" });
  notes(st.notifier.dropped, { outcome: "dropped" });

  const services = st.services;
  const up = e.family("altrepodb_service_up", "gauge", "1 when the service is consuming its queue (state running).");
  for (const s of services) up(b(s.state === "running"), { service: s.name });
  const state = e.family("altrepodb_service_state", "gauge", "1 for the service's current state, 0 for the others.");
  for (const s of services) {
    const states: string[] = [...SERVICE_STATES];
    if (!states.includes(s.state)) states.push(s.state);
    for (const x of states) state(b(s.state === x), { service: s.name, state: x });
  }
  const messages = e.family(
    "altrepodb_messages_total",
    "counter",
    "Messages and scheduled runs since the daemon started, by outcome, as in the status file: done, skipped (nothing to do), failed (each failed try), retried, dead_lettered (including invalid), invalid, deferred (put aside while the database was away), requeued (put back by our own shutdown), republish_refused (a copy the broker refused, held and tried again).",
  );
  for (const s of services) for (const o of OUTCOMES) messages(s[o] ?? 0, { service: s.name, outcome: o });
  const restarts = e.family("altrepodb_service_restarts_total", "counter", "Restarts of the service after its channel or consumer failed.");
  for (const s of services) restarts(s.restarts, { service: s.name });
  const inFlight = e.family("altrepodb_messages_in_flight", "gauge", "Messages and scheduled runs being processed now.");
  for (const s of services) inFlight(s.in_flight, { service: s.name });
  const waiting = e.family("altrepodb_messages_waiting_for_key", "gauge", "Messages received but waiting because another message with the same key (task, branch and date) is being processed.");
  for (const s of services) waiting(s.waiting ?? 0, { service: s.name });
  const workers = e.family("altrepodb_service_workers", "gauge", "Messages the service may process at the same time (workers, the channel prefetch).");
  for (const s of services) workers(s.workers, { service: s.name });
  const lastDone = e.family("altrepodb_last_success_timestamp_seconds", "gauge", "When the service last finished a message or scheduled run successfully (Unix time); absent until the first.");
  for (const s of services) {
    const t = seconds(s.last_done_at);
    if (t !== undefined) lastDone(t, { service: s.name });
  }
  const lastError = e.family("altrepodb_last_error_timestamp_seconds", "gauge", "When the service last recorded an error (Unix time); absent until the first.");
  for (const s of services) {
    const t = seconds(s.last_error?.at);
    if (t !== undefined) lastError(t, { service: s.name });
  }

  const scheduled = services.filter((s) => s.schedule);
  const schedInfo = e.family("altrepodb_schedule_info", "gauge", "Always 1; the service's schedule as a label.");
  for (const s of scheduled) schedInfo(1, { service: s.name, schedule: s.schedule!.spec });
  const schedRunning = e.family("altrepodb_schedule_running", "gauge", "1 while a scheduled run is in progress.");
  for (const s of scheduled) schedRunning(b(s.schedule!.running), { service: s.name });
  const times: [string, string, (x: NonNullable<ServiceStatus["schedule"]>) => string | undefined][] = [
    ["altrepodb_schedule_next_run_timestamp_seconds", "When the next scheduled run is due (Unix time).", (x) => x.next_run],
    ["altrepodb_schedule_last_run_timestamp_seconds", "When the last scheduled run started (Unix time); absent until the first.", (x) => x.last_run],
    ["altrepodb_schedule_last_success_timestamp_seconds", "When the last successful scheduled run started (Unix time); absent until the first.", (x) => x.last_success],
  ];
  for (const [name, help, get] of times) {
    const f = e.family(name, "gauge", help);
    for (const s of scheduled) {
      const t = seconds(get(s.schedule!));
      if (t !== undefined) f(t, { service: s.name });
    }
  }

  const depth = e.family("altrepodb_queue_messages", "gauge", "Messages ready in the service's queues (kind: main, dead = dead letters, delay = waiting for a retry); absent when the broker did not answer or the queue does not exist.");
  for (const q of snap.queues) if (q.messages !== undefined) depth(q.messages, { service: q.service, queue: q.queue, kind: q.kind });
  const consumers = e.family("altrepodb_queue_consumers", "gauge", "Consumers of the service's queues, as the broker counts them.");
  for (const q of snap.queues) if (q.consumers !== undefined) consumers(q.consumers, { service: q.service, queue: q.queue, kind: q.kind });

  const bot = st.bot;
  const botUp = e.family("altrepodb_bot_up", "gauge", "1 when the notification relay consumes its queue (absent when [bot] is not enabled in the daemon).");
  const botPending = e.family("altrepodb_bot_pending", "gauge", "Notifications taken by the relay and not yet accepted by every destination (rate limit, retries).");
  const botNotes = e.family("altrepodb_bot_notifications_total", "counter", "Notifications of the relay by outcome: received, relayed (every destination accepted, acknowledged), refused (dead-lettered), retried (failed attempts tried again).");
  if (bot) {
    botUp(b(bot.state === "running"));
    botPending(bot.pending);
    for (const [o, n] of [["received", bot.received], ["relayed", bot.relayed], ["refused", bot.refused], ["retried", bot.retries]] as const) botNotes(n, { outcome: o });
  }
  const triggerRuns = e.family("altrepodb_trigger_runs_total", "counter", "[[triggers]] runs after loads since the daemon started, by trigger and outcome (ok; failed: non-zero exit or a signal; timeout: killed at its timeout; error: could not start, or its export failed; skipped: exporter not in this build).");
  for (const t of st.triggers ?? []) for (const o of TRIGGER_OUTCOMES) triggerRuns(t[o], { trigger: t.name, outcome: o });
  e.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.")(snap.process.startTimeSeconds);
  e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")(snap.process.residentBytes);
  e.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")(snap.process.cpuSeconds);
  return e.render();
}

/**
 * The start of the last successful scheduled run of each service, remembered across snapshots
 * (the runner keeps only the last run and its result) and across runners replaced on a reload.
 */
export class ScheduleSuccess {
  private readonly last = new Map<string, string>();

  /** Adds schedule.last_success to the services that have a schedule. */
  observe(services: ServiceStatus[]): ServiceStatus[] {
    return services.map((s) => {
      const sc = s.schedule;
      if (!sc) return s;
      if (!sc.running && sc.last_run && sc.last_result !== undefined && !sc.last_result.startsWith("failed:")) {
        const prev = this.last.get(s.name);
        if (!prev || Date.parse(prev) < Date.parse(sc.last_run)) this.last.set(s.name, sc.last_run);
      }
      const lastSuccess = this.last.get(s.name);
      return lastSuccess ? { ...s, schedule: { ...sc, last_success: lastSuccess } } : s;
    });
  }
}
