/** The status file the running daemon keeps up to date and `altrepodb daemon status` reads. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { TriggerStats } from "../triggers";
import type { BotStats } from "../bot";

export interface ServiceStatus {
  name: string;
  state: string;
  queue: string;
  exchange: string;
  routing_keys: readonly string[];
  workers: number;
  in_flight: number;
  done: number;
  skipped: number;
  failed: number;
  retried: number;
  dead_lettered: number;
  invalid: number;
  deferred: number;
  restarts: number;
  /** Messages our own shutdown put back in the queue (republished, so the delivery limit does not see them). */
  requeued: number;
  /** Copies (retry, dead letter, defer, requeue) the broker refused; the message was put back or nacked. */
  republish_refused: number;
  /** Messages held because another one with the same key (task, branch and date) is running. */
  waiting: number;
  last_error?: { message: string; at: string; routing_key?: string };
  last_done_at?: string;
  /** last_success: start of the last successful run (kept by the daemon across runs and reloads). */
  schedule?: { spec: string; next_run?: string; last_run?: string; last_result?: string; last_success?: string; running: boolean };
}

export interface DaemonStatus {
  pid: number;
  version: string;
  state: "starting" | "running" | "reloading" | "stopping" | "stopped";
  started_at: string;
  updated_at: string;
  config: string | null;
  status_interval_ms: number;
  database: { healthy?: boolean; error?: string };
  notifier: { enabled: boolean; connected: boolean; pending: number; published: number; dropped: number; last_error?: string };
  services: ServiceStatus[];
  /** The Prometheus endpoint, when [daemon] metrics_listen is set: its URL, or why it is not served. */
  metrics?: { listen: string; url?: string; error?: string };
  /** [[triggers]] run after loads: counts per trigger since the daemon started. */
  triggers?: TriggerStats[];
  /** The notification relay ([bot] enabled = true). */
  bot?: BotStats;
}

export function writeStatus(path: string, status: DaemonStatus): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(status, null, 2) + "\n");
  renameSync(tmp, path);
}

export function readStatus(path: string): DaemonStatus {
  return JSON.parse(readFileSync(path, "utf8")) as DaemonStatus;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Why the file does not describe a running daemon, or undefined when it does. */
export function notRunningReason(s: DaemonStatus, now = Date.now()): string | undefined {
  if (s.state === "stopped") return `the daemon stopped at ${s.updated_at}`;
  if (!pidAlive(s.pid)) return `process ${s.pid} is gone (last update ${s.updated_at})`;
  const age = now - Date.parse(s.updated_at);
  const limit = Math.max(3 * s.status_interval_ms, 15_000);
  if (age > limit) return `status file is stale: last update ${Math.round(age / 1000)} s ago (process ${s.pid} is not responding)`;
  return undefined;
}
