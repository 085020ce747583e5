/**
 * The daemon's part of the configuration, resolved and checked against the service registry.
 * Anything wrong is a ConfigError naming file:line:key, so the daemon refuses to start (exit 2)
 * or, on SIGHUP, keeps the configuration it has.
 */
import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { ConfigError, expandHome, type Config } from "../config";
import { locateKey } from "../config/locate";
import type { BrokerOptions, ServiceTopology } from "../amqp";
import { isLoopback, parseListen, type ListenAddress } from "./metrics-server";
import { issueText, validatePayload } from "./payload";
import { parseSchedule, type Schedule } from "./schedule";
import type { ServiceModule } from "./types";

export type Registry = Readonly<Record<string, ServiceModule>>;

/** Where the systemd unit's StateDirectory= and RuntimeDirectory= are. */
export const SYSTEM_STATE_DIR = "/var/lib/altrepodb";
export const SYSTEM_RUNTIME_DIR = "/run/altrepodb";

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export interface ServiceSettings {
  name: string;
  module: ServiceModule;
  topology: ServiceTopology;
  workers: number;
  maxAttempts: number;
  /** retryDelaysMs[i] = the wait before try i+2. */
  retryDelaysMs: number[];
  timeoutMs: number;
  publishOnDone: boolean;
  doneExchange: string;
  schedule?: Schedule;
  scheduleMessage?: { routingKey: string; payload: unknown };
  options: unknown;
  /** Everything above as text: a reload restarts the service only when it changed. */
  fingerprint: string;
}

export interface NotifierSettings {
  enabled: boolean;
  exchange: string;
  onDone: boolean;
  onRetry: boolean;
  spoolDir: string;
  maxFiles: number;
  maxBytes: number;
}

export interface DaemonSettings {
  broker: BrokerOptions;
  stateDir: string;
  statusFile: string;
  statusIntervalMs: number;
  shutdownGraceMs: number;
  restartDelayMs: number;
  restartDelayMaxMs: number;
  flushBuffers: boolean;
  /** [daemon] metrics_listen; undefined: no metrics endpoint. */
  metrics?: ListenAddress;
  notifier: NotifierSettings;
  /** Enabled services only. */
  services: ServiceSettings[];
}

export function retryDelays(attempts: number, firstMs: number, maxMs: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < attempts - 1; i++) out.push(Math.round(Math.min(maxMs, firstMs * 2 ** i)));
  return out;
}

function brokerOf(c: Config): BrokerOptions {
  return { ...c.amqp };
}

export { brokerOf };

export function resolveDaemonSettings(config: Config, registry: Registry, env: Record<string, string | undefined> = process.env): DaemonSettings {
  const file = config.file;
  let text: string | undefined;
  const fail = (path: (string | number)[], message: string): never => {
    if (text === undefined && config.source) {
      try {
        text = readFileSync(config.source, "utf8");
      } catch {
        text = "";
      }
    }
    throw new ConfigError(message, config.source ?? undefined, text ? locateKey(text, path) : undefined, path.join("."));
  };

  const d = file.daemon;
  // systemd's StateDirectory=/RuntimeDirectory= (the unit sets them); an admin's shell has no such
  // variables, so the same directories are also found by their standard paths
  const dirOf = (v: string | undefined, standard: string) => v?.split(":")[0] || (isDir(standard) ? standard : undefined);
  const stateDir = resolve(
    expandHome(d.state_dir || dirOf(env.STATE_DIRECTORY, SYSTEM_STATE_DIR) || join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state"), "altrepodb")),
  );
  const runtime = dirOf(env.RUNTIME_DIRECTORY, SYSTEM_RUNTIME_DIR);
  const statusFile = resolve(expandHome(d.status_file || (runtime ? join(runtime, "status.json") : join(stateDir, "status.json"))));
  const n = file.notifier;
  const notifier: NotifierSettings = {
    enabled: n.enabled,
    exchange: n.exchange,
    onDone: n.on_done,
    onRetry: n.on_retry,
    spoolDir: resolve(expandHome(n.spool_dir || join(stateDir, "notifier"))),
    maxFiles: n.spool_max_files,
    maxBytes: n.spool_max_bytes,
  };
  if (config.amqp.reconnectDelayMs > config.amqp.reconnectDelayMaxMs) fail(["amqp", "reconnect_delay"], "must not exceed reconnect_delay_max");
  if (d.restart_delay > d.restart_delay_max) fail(["daemon", "restart_delay"], "must not exceed restart_delay_max");
  let metrics: ListenAddress | undefined;
  if (d.metrics_listen.trim() !== "") {
    try {
      metrics = parseListen(d.metrics_listen.trim());
    } catch (e) {
      fail(["daemon", "metrics_listen"], (e as Error).message);
    }
    if (!isLoopback(metrics!.host) && !d.metrics_allow_remote) {
      fail(["daemon", "metrics_listen"], `${metrics!.host} is not a loopback address; the metrics endpoint has no authentication: set metrics_allow_remote = true to serve it there`);
    }
  }

  const services: ServiceSettings[] = [];
  for (const [name, s] of Object.entries(file.services)) {
    const module = registry[name];
    if (!module) fail(["services", name], `unknown service ${JSON.stringify(name)} (known: ${Object.keys(registry).sort().join(", ")})`);
    if (!s.enabled) continue;
    const opts = v.safeParse(module.options, s.options ?? {});
    if (!opts.success) {
      const issue = opts.issues[0];
      const sub = (issue.path ?? []).map((p) => p.key as string | number);
      const msg = issue.type === "strict_object" && issue.kind === "schema" ? "unknown key" : issueText([issue]).replace(/^[^:]*: /, (m) => (sub.length ? "" : m));
      fail(["services", name, "options", ...sub], msg);
    }
    const routingKeys = s.routing_keys ?? [...module.defaults.routingKeys];
    if (routingKeys.length === 0) fail(["services", name, "routing_keys"], "needs at least one routing key");
    routingKeys.forEach((key, i) => {
      if (!/[*#]/.test(key) && !module.schema(key)) fail(["services", name, "routing_keys", i], `service ${name} does not take routing key ${JSON.stringify(key)} (takes ${module.defaults.routingKeys.join(", ")})`);
    });
    if (s.retry_delay > s.retry_delay_max) fail(["services", name, "retry_delay"], "must not exceed retry_delay_max");
    let schedule: Schedule | undefined;
    try {
      schedule = parseSchedule(s.schedule);
    } catch (e) {
      fail(["services", name, "schedule"], (e as Error).message);
    }
    let scheduleMessage: ServiceSettings["scheduleMessage"];
    if (schedule) {
      const routingKey = module.defaults.routingKeys[0];
      try {
        scheduleMessage = { routingKey, payload: validatePayload(module, routingKey, s.schedule_message) };
      } catch (e) {
        fail(["services", name, "schedule_message"], (e as Error).message);
      }
    }
    const queue = s.queue ?? module.defaults.queue;
    const retryDelaysMs = retryDelays(s.max_attempts, s.retry_delay * 1000, s.retry_delay_max * 1000);
    const topology: ServiceTopology = {
      queue,
      queueType: s.queue_type,
      exchange: s.exchange ?? module.defaults.exchange,
      declareExchange: s.declare_exchange,
      routingKeys,
      deadLetterExchange: config.amqp.deadLetterExchange,
      deliveryLimit: s.delivery_limit,
      delaysMs: retryDelaysMs,
    };
    const resolved = {
      name,
      topology,
      workers: s.workers,
      maxAttempts: s.max_attempts,
      retryDelaysMs,
      timeoutMs: s.timeout * 1000,
      publishOnDone: s.publish_on_done,
      doneExchange: s.done_exchange,
      schedule,
      scheduleMessage,
      options: (opts as v.SafeParseResult<typeof module.options>).output,
    };
    services.push({ ...resolved, module, fingerprint: JSON.stringify(resolved) });
  }
  const queues = new Map<string, string>();
  for (const s of services) {
    const other = queues.get(s.topology.queue);
    if (other) fail(["services", s.name, "queue"], `queue ${s.topology.queue} is already used by service ${other}`);
    queues.set(s.topology.queue, s.name);
  }
  if (services.length === 0 && !file.bot.enabled) fail(["services"], "no service is enabled: add a [services.<name>] table (repo, task, …)");
  return {
    broker: brokerOf(config),
    stateDir,
    statusFile,
    statusIntervalMs: d.status_interval * 1000,
    shutdownGraceMs: d.shutdown_grace * 1000,
    restartDelayMs: d.restart_delay * 1000,
    restartDelayMaxMs: d.restart_delay_max * 1000,
    flushBuffers: d.flush_buffers,
    metrics,
    notifier,
    services,
  };
}
