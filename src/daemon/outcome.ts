/**
 * The fate of one message, decided in one place and without a broker: an outcome (done, retry
 * after a delay, defer, dead-letter with a reason, requeue on shutdown) maps to exactly one
 * broker action, one notification (or none), the counters to add and one log line. The runner
 * only carries the action out.
 *
 *   done         ack                                          notification "done"
 *   retry        republish to the delay queue of the try, ack  "retry"
 *   dead-letter  republish to the dead-letter exchange, ack    "dead-lettered"
 *   defer        republish to the first delay queue, ack       none (no try counted)
 *                (no delay queue: to the tail of the queue)
 *   requeue      republish to the tail of the queue, ack       none
 *                (not a nack: a requeue by our own shutdown must not count toward the
 *                queue's x-delivery-limit, which is there for crash loops)
 */
import { InputError } from "../loaders/errors";
import { cleanHeaders, HEADER, headerText, intHeader } from "./headers";
import type { Notification } from "./notifier";
import type { ServiceStatus } from "./status";

export type Outcome =
  | { kind: "done"; summary: string; skipped: boolean }
  | { kind: "retry"; error: string }
  | { kind: "defer"; error: string }
  | { kind: "dead-letter"; reason: "invalid" | "failed"; error: string }
  | { kind: "requeue"; why: string };

/** What the runner knows about a delivery (headers as received). */
export interface Delivery {
  service: string;
  queue: string;
  deadLetterExchange: string;
  /** The message's own routing key (from our header when it came back through a delay queue). */
  routingKey: string;
  /** The exchange it was first published to. */
  exchange: string;
  headers: Record<string, unknown>;
  messageId?: string;
  body: Uint8Array;
  maxAttempts: number;
  /** retryDelaysMs[i] = the wait before try i+2. */
  retryDelaysMs: readonly number[];
}

export type BrokerAction =
  | { kind: "ack" }
  /** Publish a copy (confirmed), then ack the original. */
  | { kind: "republish"; exchange: string; routingKey: string; headers: Record<string, unknown> };

export type CounterName = "done" | "skipped" | "failed" | "retried" | "dead_lettered" | "invalid" | "deferred" | "requeued";

export interface Fate {
  action: BrokerAction;
  notification?: Notification;
  /** Added once the action went through. */
  counts: CounterName[];
  /** For last_error in the status. */
  lastError?: string;
  log: { level: "info" | "warn" | "error"; msg: string; fields: Record<string, unknown> };
}

/** Failed tries before this delivery (x-altrepodb-attempts). */
export function failedBefore(d: Pick<Delivery, "headers">): number {
  return intHeader(d.headers[HEADER.attempts]);
}

/** Headers of a copy: ours and the publisher's, never the broker's; the routing key and exchange travel along. */
export function copyHeaders(d: Delivery, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ...cleanHeaders(d.headers),
    [HEADER.service]: d.service,
    [HEADER.routingKey]: d.routingKey,
    [HEADER.exchange]: typeof d.headers[HEADER.exchange] === "string" ? d.headers[HEADER.exchange] : d.exchange,
    ...extra,
  };
}

/**
 * What an error of the service means. `dbDown` is asked only when it matters (a failure that may
 * be the database being away, not a refused message and not our shutdown).
 */
export async function outcomeOfError(e: unknown, o: { attempt: number; maxAttempts: number; stopping: boolean; mayBeDb: boolean; dbDown: () => Promise<boolean> }): Promise<Outcome> {
  const error = e instanceof Error ? e.message : String(e);
  if (e instanceof InputError) return { kind: "dead-letter", reason: "invalid", error };
  if (o.stopping) return { kind: "requeue", why: "shutdown" };
  if (o.mayBeDb && (await o.dbDown())) return { kind: "defer", error };
  if (o.attempt >= o.maxAttempts) return { kind: "dead-letter", reason: "failed", error };
  return { kind: "retry", error };
}

/** The one action, notification, counters and log line for an outcome. `now` and `delayQueue` are injected for tests. */
export function fateOf(outcome: Outcome, d: Delivery, delayQueue: (ms: number) => string, now = new Date()): Fate {
  const before = failedBefore(d);
  const attempt = before + 1;
  const at = now.toISOString();
  const meta = { routing_key: d.routingKey, message_id: d.messageId, attempt };
  const note = (n: Omit<Notification, "service" | "routingKey" | "messageId" | "body">): Notification => ({ ...n, service: d.service, routingKey: d.routingKey, messageId: d.messageId, body: d.body });
  const first = typeof d.headers[HEADER.firstFailure] === "string" ? (d.headers[HEADER.firstFailure] as string) : at;

  switch (outcome.kind) {
    case "done":
      return {
        action: { kind: "ack" },
        counts: [outcome.skipped ? "skipped" : "done"],
        notification: note({ event: "done", type: "MESSAGE", severity: "INFO", reason: outcome.summary, attempts: attempt }),
        log: { level: "info", msg: outcome.skipped ? "message done (nothing to do)" : "message done", fields: { ...meta, summary: outcome.summary } },
      };
    case "retry": {
      const delay = d.retryDelaysMs[attempt - 1];
      if (delay === undefined) return fateOf({ kind: "dead-letter", reason: "failed", error: outcome.error }, d, delayQueue, now);
      return {
        action: {
          kind: "republish",
          exchange: "",
          routingKey: delayQueue(delay),
          headers: copyHeaders(d, { [HEADER.attempts]: attempt, [HEADER.firstFailure]: first, [HEADER.lastFailure]: at, [HEADER.error]: headerText(outcome.error), [HEADER.reason]: "failed" }),
        },
        counts: ["failed", "retried"],
        lastError: outcome.error,
        notification: note({ event: "retry", type: "SERVICE_RETRY", severity: "WARNING", reason: outcome.error, attempts: attempt, firstFailure: first, lastFailure: at }),
        log: { level: "warn", msg: "message failed; will retry", fields: { ...meta, next_try: attempt + 1, max_attempts: d.maxAttempts, retry_in_s: delay / 1000, error: outcome.error } },
      };
    }
    case "dead-letter": {
      const invalid = outcome.reason === "invalid";
      // an invalid message used no try; a failed one used this one
      const attempts = invalid ? before : attempt;
      const firstFailure = invalid ? at : first;
      return {
        action: {
          kind: "republish",
          exchange: d.deadLetterExchange,
          routingKey: d.queue,
          headers: copyHeaders(d, { [HEADER.reason]: outcome.reason, [HEADER.error]: headerText(outcome.error), [HEADER.attempts]: attempts, [HEADER.firstFailure]: firstFailure, [HEADER.lastFailure]: at }),
        },
        counts: invalid ? ["invalid", "dead_lettered"] : ["failed", "dead_lettered"],
        lastError: outcome.error,
        notification: note({ event: "dead-lettered", type: "SERVICE_WORKER_ERROR", severity: "CRITICAL", reason: outcome.error, attempts, firstFailure, lastFailure: at }),
        log: invalid
          ? { level: "error", msg: "invalid message, dead-lettered", fields: { ...meta, error: outcome.error } }
          : { level: "error", msg: "message failed for the last time, dead-lettered", fields: { ...meta, max_attempts: d.maxAttempts, error: outcome.error } },
      };
    }
    case "defer": {
      const delay = d.retryDelaysMs[0];
      const fields = { ...meta, error: outcome.error };
      const log = { level: "warn" as const, msg: "database unavailable; message put aside and consuming paused", fields };
      const lastError = `database unavailable: ${outcome.error}`;
      return {
        action: {
          kind: "republish",
          exchange: "",
          // no delay queue (max_attempts = 1): back to the queue, to be taken when consuming
          // resumes (a republish, not a nack: a long outage must not use up the delivery limit)
          routingKey: delay === undefined ? d.queue : delayQueue(delay),
          headers: copyHeaders(d, { [HEADER.deferrals]: intHeader(d.headers[HEADER.deferrals]) + 1, [HEADER.error]: headerText(outcome.error), [HEADER.reason]: "deferred" }),
        },
        counts: ["deferred"],
        lastError,
        log,
      };
    }
    case "requeue":
      return {
        action: { kind: "republish", exchange: "", routingKey: d.queue, headers: copyHeaders(d, { [HEADER.requeues]: intHeader(d.headers[HEADER.requeues]) + 1 }) },
        counts: ["requeued"],
        log: { level: "info", msg: `load stopped by ${outcome.why}; message requeued`, fields: meta },
      };
  }
}

/**
 * A copy the broker refused (a full dead-letter queue with overflow=reject-publish, …): the
 * message goes back to the tail of its own queue, unchanged but for a count of refusals, and is
 * handled again from there. Not a nack: that would count toward the delivery limit and, at the
 * limit, let the broker dead-letter it without our headers (or drop it, the queue being full).
 */
export function putBack(d: Delivery): BrokerAction {
  return { kind: "republish", exchange: "", routingKey: d.queue, headers: copyHeaders(d, { [HEADER.refusals]: intHeader(d.headers[HEADER.refusals]) + 1 }) };
}

export function refusals(d: Pick<Delivery, "headers">): number {
  return intHeader(d.headers[HEADER.refusals]);
}

/** Counter fields of the status a fate adds to. */
export type Counters = Pick<ServiceStatus, CounterName | "restarts" | "republish_refused">;
