/** Counters per trigger since the process started (the daemon's status file and metrics show them). */
import type { RunOutcome } from "./run";

export type TriggerOutcome = RunOutcome | "skipped";

export interface TriggerStats {
  name: string;
  fired: number;
  ok: number;
  /** Exited non-zero or was killed by a signal. */
  failed: number;
  /** Killed at its timeout. */
  timeout: number;
  /** Could not be started (missing, not executable) or its export threw. */
  error: number;
  /** An export whose exporter is not in this build. */
  skipped: number;
  last_error?: { message: string; at: string };
}

export const TRIGGER_OUTCOMES = ["ok", "failed", "timeout", "error", "skipped"] as const satisfies readonly (keyof TriggerStats)[];

const stats = new Map<string, TriggerStats>();

export function triggerStats(): TriggerStats[] {
  return [...stats.values()].map((s) => ({ ...s }));
}

export function count(name: string, outcome: TriggerOutcome | "fired", error?: string): void {
  let s = stats.get(name);
  if (!s) stats.set(name, (s = { name, fired: 0, ok: 0, failed: 0, timeout: 0, error: 0, skipped: 0 }));
  s[outcome]++;
  if (error) s.last_error = { message: error, at: new Date().toISOString() };
}
