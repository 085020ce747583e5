/**
 * Headers the daemon puts on messages it re-publishes (for a retry, or into the dead-letter
 * queue). A retried message travels through the default exchange, so the original routing key
 * and exchange travel in headers too.
 */
export const HEADER = {
  /** The last error text. */
  error: "x-altrepodb-error",
  /** invalid (never retried), failed (retries used up), deferred (database away). */
  reason: "x-altrepodb-reason",
  service: "x-altrepodb-service",
  /** Failed tries so far. */
  attempts: "x-altrepodb-attempts",
  firstFailure: "x-altrepodb-first-failure",
  lastFailure: "x-altrepodb-last-failure",
  routingKey: "x-altrepodb-routing-key",
  exchange: "x-altrepodb-exchange",
  /** Times the message was put aside because the database was unavailable (not failures). */
  deferrals: "x-altrepodb-deferrals",
  /** Times our own shutdown put the message back in its queue (not failures, not counted by the broker). */
  requeues: "x-altrepodb-requeues",
  /** Times the broker refused a copy (retry, dead letter, …) and the message was put back in its queue. */
  refusals: "x-altrepodb-refusals",
} as const;

/** Headers the broker adds on dead-lettering and redelivery; they do not travel with a copy. */
const BROKER_HEADERS = new Set(["x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason", "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", "x-delivery-count"]);

export function cleanHeaders(h: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(h ?? {})) if (!BROKER_HEADERS.has(k) && v !== undefined) out[k] = v;
  return out;
}

export function intHeader(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : typeof v === "bigint" ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** Header values must stay well under the 64 KiB table limit. */
export function headerText(s: string, max = 4000): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
