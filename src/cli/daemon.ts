/** `altrepodb daemon [run]` runs the AMQP daemon; `altrepodb daemon status` shows how it is doing. */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { connectBroker, describeBroker, queueDepths, type QueueDepth } from "../amqp";
import { loadConfig } from "../config";
import { Daemon } from "../daemon/daemon";
import { REGISTRY } from "../daemon/services";
import { brokerOf, resolveDaemonSettings } from "../daemon/settings";
import { notRunningReason, readStatus, type DaemonStatus } from "../daemon/status";
import { deadQueueName } from "../amqp";
import { cliConfig } from "./context";
import { RunFailed } from "./errors";

const run = defineCommand({
  meta: { name: "run", description: "Run the daemon in the foreground (systemd Type=notify); the default", examples: ["altrepodb -c /etc/altrepodb/config.toml daemon"] },
  async run() {
    const config = cliConfig();
    const daemon = new Daemon({ config, reloadConfig: () => loadConfig({ path: config.source ?? undefined }) });
    const uninstall = daemon.installSignals();
    try {
      await daemon.start();
      await daemon.done;
    } finally {
      uninstall();
    }
  },
});

function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "-";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.round(s / 60)}m ago`;
  if (s < 172800) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd()).join("\n") + "\n";
}

async function depths(statusQueues: string[]): Promise<{ byQueue: Map<string, QueueDepth>; error?: string }> {
  const config = cliConfig();
  const broker = brokerOf(config);
  try {
    const conn = await connectBroker({ ...broker, connectTimeoutMs: Math.min(broker.connectTimeoutMs, 5000) }, "altrepodb daemon status");
    conn.on("error", () => {});
    try {
      const out = await queueDepths(conn, statusQueues);
      return { byQueue: new Map(out.map((d) => [d.queue, d])) };
    } finally {
      await conn.close().catch(() => {});
    }
  } catch (e) {
    return { byQueue: new Map(), error: `${describeBroker(broker)}: ${(e as Error).message}` };
  }
}

const status = defineCommand({
  meta: {
    name: "status",
    description: "Per service: state, messages done/failed/dead-lettered, last error, queue depth; exit 1 when the daemon is not running",
    examples: ["altrepodb -c /etc/altrepodb/config.toml daemon status"],
  },
  args: {
    json: { type: "boolean", description: "Print the status file plus queue depths as JSON" },
    "no-broker": { type: "boolean", description: "Do not ask the broker for queue depths" },
  },
  async run({ args }) {
    const config = cliConfig();
    const settings = resolveDaemonSettings(config, REGISTRY);
    let st: DaemonStatus | undefined;
    let reason: string | undefined;
    try {
      st = readStatus(settings.statusFile);
      reason = notRunningReason(st);
    } catch (e) {
      reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? `no status file at ${settings.statusFile}` : `cannot read ${settings.statusFile}: ${(e as Error).message}`;
    }
    const services = st?.services ?? settings.services.map((s) => ({ name: s.name, queue: s.topology.queue }) as DaemonStatus["services"][number]);
    const queues = services.flatMap((s) => [s.queue, deadQueueName(s.queue)]);
    const q = args["no-broker"] ? { byQueue: new Map<string, QueueDepth>(), error: "not asked" } : await depths(queues);
    const depth = (name: string) => {
      const d = q.byQueue.get(name);
      return d?.messages !== undefined ? String(d.messages) : d?.error ? "missing" : "?";
    };
    if (args.json) {
      process.stdout.write(jsonText({ running: !reason, reason, status_file: settings.statusFile, status: st, queues: Object.fromEntries(q.byQueue), broker_error: q.error }, 2) + "\n");
    } else {
      const out: string[] = [];
      if (st) {
        out.push(`daemon: ${reason ? `NOT RUNNING (${reason})` : `${st.state}, pid ${st.pid}, up since ${st.started_at}, updated ${ago(st.updated_at)}`}`);
        out.push(`config: ${st.config ?? "(defaults)"}   status file: ${settings.statusFile}`);
        out.push(`database: ${st.database.healthy === false ? `UNAVAILABLE (${st.database.error ?? "?"})` : st.database.healthy ? "ok" : "not used yet"}`);
        const n = st.notifier;
        out.push(`notifier: ${n.enabled ? `${n.connected ? "connected" : "not connected"}, ${n.pending} waiting, ${n.published} published, ${n.dropped} dropped` : "off"}`);
        if (st.metrics) out.push(`metrics: ${st.metrics.url ?? `NOT SERVED (${st.metrics.error ?? "?"})`}`);
        const b = st.bot;
        if (b) out.push(`bot: ${b.state}, ${b.relayed} relayed, ${b.pending} waiting, ${b.refused} dead-lettered, ${b.retries} retries (${b.destinations.map((d) => d.name).join(", ")})${b.last_error ? `; last error ${ago(b.last_error.at)}: ${b.last_error.message.slice(0, 160)}` : ""}`);
      } else out.push(`daemon: NOT RUNNING (${reason})`);
      if (q.error && !args["no-broker"]) out.push(`queue depths unknown: ${q.error}`);
      process.stdout.write(out.join("\n") + "\n\n");
      const rows = [["SERVICE", "STATE", "DONE", "SKIPPED", "FAILED", "RETRIED", "DEAD", "INVALID", "RUNNING", "QUEUE", "DEAD-Q", "LAST ERROR"]];
      for (const s of services) {
        const e = s.last_error ? `${ago(s.last_error.at)}: ${s.last_error.message}`.replace(/\s+/g, " ").slice(0, 160) : "-";
        rows.push([
          s.name,
          st && !reason ? s.state : "-",
          String(s.done ?? "-"),
          String(s.skipped ?? "-"),
          String(s.failed ?? "-"),
          String(s.retried ?? "-"),
          String(s.dead_lettered ?? "-"),
          String(s.invalid ?? "-"),
          String(s.in_flight ?? "-"),
          depth(s.queue),
          depth(deadQueueName(s.queue)),
          e,
        ]);
      }
      process.stdout.write(table(rows));
      for (const t of st?.triggers ?? [])
        process.stdout.write(`trigger ${t.name}: ${t.fired} fired, ${t.ok} ok, ${t.failed} failed, ${t.timeout} timed out, ${t.error} could not run, ${t.skipped} skipped${t.last_error ? `; last error ${ago(t.last_error.at)}: ${t.last_error.message.slice(0, 160)}` : ""}\n`);
      for (const s of services) if (s.schedule) process.stdout.write(`${s.name}: schedule "${s.schedule.spec}", next ${s.schedule.next_run ?? "-"}, last ${s.schedule.last_run ?? "never"}${s.schedule.last_result ? ` (${s.schedule.last_result})` : ""}\n`);
    }
    if (reason) throw new RunFailed(`daemon is not running: ${reason}`);
  },
});

export default defineCommand({
  meta: { name: "daemon", description: "The AMQP daemon: services for repo, task and other loads (run, status)" },
  default: "run",
  subCommands: { run, status },
});
