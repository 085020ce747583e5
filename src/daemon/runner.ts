/**
 * One service: its queue, its consumer, its scheduled runs.
 *
 * A message is acknowledged only after the service's rows are in the database (and the Buffer
 * tables flushed). What happens otherwise:
 *
 *   invalid (bad JSON, schema, unknown routing key, InputError from the loader)
 *       → published to the dead-letter exchange with the reason, then acked. Never retried.
 *   failed (any other error)
 *       → published to the delay queue of its try (TTL, then back to the queue by itself) with
 *         x-altrepodb-attempts + 1, then acked; after max_attempts tries → dead-lettered.
 *   the database is away (the error is a database error and a health check fails)
 *       → put aside in the first delay queue without counting a try, and consuming pauses until
 *         the database answers again.
 *   shutdown → nack with requeue (or, if the process dies, the broker requeues it).
 *   a crash loop (the process dies on the message) → the quorum queue's x-delivery-limit
 *       dead-letters it on the broker side.
 *
 * Retries use delay queues rather than "sleep, then nack with requeue": the wait costs no
 * prefetch slot and no memory, survives a restart of the daemon, and the headers carry the
 * first and last failure times from try to try.
 */
import { createHash } from "node:crypto";
import type { ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import { backoffDelay, deadQueueName, declareTopology, delayQueueName, keepConnected, publishConfirmed, sleep, whenAborted, type BrokerOptions, type ChannelModel } from "../amqp";
import type { Config } from "../config";
import { AlreadyLoaded, InputError } from "../loaders/errors";
import type { Logger } from "../log";
import { mayBeUnavailable, type DbProvider } from "./db-provider";
import { flushBuffers } from "./flush";
import { cleanHeaders, HEADER, headerText, intHeader } from "./headers";
import type { Notifier } from "./notifier";
import { decodeMessage } from "./payload";
import { nextRun } from "./schedule";
import type { ServiceSettings } from "./settings";
import type { ServiceStatus } from "./status";
import type { HandleResult, IncomingMessage, ServiceContext } from "./types";

export interface RunnerDeps {
  settings: ServiceSettings;
  broker: BrokerOptions;
  /** The current configuration (it changes on reload). */
  config(): Config;
  db: DbProvider;
  notifier: Notifier;
  log: Logger;
  flushBuffers: boolean;
  restartDelayMs: number;
  restartDelayMaxMs: number;
  /** Called whenever something shown in the status changed. */
  onChange(): void;
}

class Timeout extends Error {
  override name = "Timeout";
}

type Counters = Pick<ServiceStatus, "done" | "skipped" | "failed" | "retried" | "dead_lettered" | "invalid" | "deferred" | "restarts">;

export class ServiceRunner {
  state = "stopped";
  readonly counters: Counters = { done: 0, skipped: 0, failed: 0, retried: 0, dead_lettered: 0, invalid: 0, deferred: 0, restarts: 0 };
  lastError: ServiceStatus["last_error"];
  lastDoneAt: string | undefined;

  private readonly s: ServiceSettings;
  private readonly log: Logger;
  private readonly keepAbort = new AbortController();
  private readonly hardStop = new AbortController();
  private loop: Promise<void> | undefined;
  private channel: ConfirmChannel | undefined;
  private consumerTag: string | undefined;
  private accepting = true;
  private paused = false;
  private readonly inFlight = new Map<string, Promise<void>>();
  private busy = 0;
  private idleWaiters: (() => void)[] = [];
  private scheduleTimer: ReturnType<typeof setTimeout> | undefined;
  private nextRunAt: Date | undefined;
  private lastRunAt: string | undefined;
  private lastRunResult: string | undefined;
  private scheduledRun: Promise<void> | undefined;

  /** `previous`: the runner this one replaces on a reload; its counters carry over. */
  constructor(
    private readonly deps: RunnerDeps,
    previous?: ServiceRunner,
  ) {
    this.s = deps.settings;
    this.log = deps.log;
    if (previous) {
      Object.assign(this.counters, previous.counters);
      this.lastError = previous.lastError;
      this.lastDoneAt = previous.lastDoneAt;
    }
  }

  get name(): string {
    return this.s.name;
  }

  get settings(): ServiceSettings {
    return this.s;
  }

  start(): void {
    if (this.loop) return;
    this.setState("connecting");
    this.loop = keepConnected({
      broker: this.deps.broker,
      connectionName: `altrepodb daemon: ${this.s.name}`,
      signal: this.keepAbort.signal,
      log: this.log,
      session: ({ conn, closed, signal }) => this.session(conn, closed, signal),
      onState: (state, err) => {
        if (state === "disconnected" && this.accepting) {
          this.setState("reconnecting");
          if (err) this.recordError(`broker: ${err.message}`);
        }
      },
    });
    this.scheduleNext();
  }

  /** Stop taking messages, let running ones finish within `graceMs`, requeue the rest. */
  async stop(graceMs: number): Promise<void> {
    if (!this.accepting) return this.loop;
    this.accepting = false;
    clearTimeout(this.scheduleTimer);
    this.nextRunAt = undefined;
    this.setState("stopping");
    if (this.channel && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => {});
    this.consumerTag = undefined;
    if (this.busy > 0) {
      this.log.info("waiting for running messages", { count: this.busy, grace_s: graceMs / 1000 });
      await Promise.race([this.idle(), sleep(graceMs)]);
    }
    if (this.busy > 0) {
      this.log.warn("grace period over: stopping running loads and requeueing their messages", { count: this.busy });
      this.hardStop.abort();
      await Promise.race([this.idle(), sleep(3000)]);
    }
    this.keepAbort.abort();
    await this.loop;
    this.setState("stopped");
  }

  status(): ServiceStatus {
    const t = this.s.topology;
    return {
      name: this.s.name,
      state: this.state,
      queue: t.queue,
      exchange: t.exchange,
      routing_keys: t.routingKeys,
      workers: this.s.workers,
      in_flight: this.busy,
      ...this.counters,
      last_error: this.lastError,
      last_done_at: this.lastDoneAt,
      schedule: this.s.schedule
        ? { spec: this.s.schedule.text, next_run: this.nextRunAt?.toISOString(), last_run: this.lastRunAt, last_result: this.lastRunResult, running: Boolean(this.scheduledRun) }
        : undefined,
    };
  }

  /** Queues this service declares (for `daemon status`). */
  queues(): string[] {
    return [this.s.topology.queue, deadQueueName(this.s.topology.queue)];
  }

  private setState(state: string): void {
    if (this.state === state) return;
    this.state = state;
    this.deps.onChange();
  }

  private recordError(message: string, routingKey?: string): void {
    this.lastError = { message, at: new Date().toISOString(), routing_key: routingKey };
    this.deps.onChange();
  }

  private idle(): Promise<void> {
    if (this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ------------------------------------------------------------------ connection and channel

  private async session(conn: ChannelModel, closed: Promise<Error | undefined>, signal: AbortSignal): Promise<void> {
    let connClosed = false;
    void closed.then(() => (connClosed = true));
    let failures = 0;
    while (!signal.aborted && !connClosed) {
      const started = Date.now();
      try {
        await this.runChannel(conn, closed, signal);
        return;
      } catch (e) {
        if (signal.aborted || connClosed) throw e;
        if (Date.now() - started > 60_000) failures = 0;
        failures++;
        this.counters.restarts++;
        const delay = backoffDelay(failures, this.deps.restartDelayMs, this.deps.restartDelayMaxMs);
        const message = (e as Error).message;
        this.recordError(message);
        this.setState("failed");
        this.log.error("service failed; restarting", { error: message, restart_in_ms: delay, restarts: this.counters.restarts });
        this.deps.notifier.notify({ event: "service-error", type: "SERVICE_ERROR", severity: "WARNING", service: this.s.name, reason: message });
        await sleep(delay, signal);
      }
    }
  }

  /** Declares, consumes, and returns when stopping; throws when the channel dies. */
  private async runChannel(conn: ChannelModel, closed: Promise<Error | undefined>, signal: AbortSignal): Promise<void> {
    this.setState("starting");
    const ch = await conn.createConfirmChannel();
    let chError: Error | undefined;
    ch.on("error", (e: Error) => (chError = e));
    const chClosed = new Promise<void>((resolve) => ch.on("close", () => resolve()));
    try {
      await declareTopology(ch, this.s.topology);
      await ch.prefetch(this.s.workers);
      this.channel = ch;
      this.paused = false;
      if (this.accepting) await this.consume(ch);
      this.setState(this.accepting ? "running" : "stopping");
      this.log.info("consuming", { queue: this.s.topology.queue, exchange: this.s.topology.exchange, routing_keys: this.s.topology.routingKeys.join(","), workers: this.s.workers });
      await Promise.race([closed, chClosed, whenAborted(signal)]);
    } finally {
      if (this.channel === ch) {
        this.channel = undefined;
        this.consumerTag = undefined;
      }
    }
    if (signal.aborted) {
      await ch.close().catch(() => {});
      return;
    }
    throw chError ?? new Error("channel closed by the broker");
  }

  private async consume(ch: ConfirmChannel): Promise<void> {
    const r = await ch.consume(this.s.topology.queue, (m) => this.onDelivery(ch, m), { noAck: false });
    this.consumerTag = r.consumerTag;
  }

  private onDelivery(ch: ConfirmChannel, m: ConsumeMessage | null): void {
    if (!m) {
      this.log.warn("the broker cancelled the consumer (queue deleted?); declaring again");
      ch.close().catch(() => {});
      return;
    }
    // a copy redelivered after a reconnect waits for the copy still running
    const key = createHash("sha1").update(m.fields.routingKey).update("\0").update(m.content).digest("hex");
    const previous = this.inFlight.get(key);
    this.busy++;
    this.deps.onChange();
    const p: Promise<void> = (async () => {
      if (previous) await previous.catch(() => {});
      await this.process(ch, m);
    })()
      .catch((e) => this.log.error("unexpected error while handling a message", { error: (e as Error).message, stack: (e as Error).stack }))
      .finally(() => {
        if (this.inFlight.get(key) === p) this.inFlight.delete(key);
        this.busy--;
        this.deps.onChange();
        if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    this.inFlight.set(key, p);
  }

  // ------------------------------------------------------------------ one message

  private async process(ch: ConfirmChannel, m: ConsumeMessage): Promise<void> {
    const headers = m.properties.headers ?? {};
    const routingKey = typeof headers[HEADER.routingKey] === "string" ? (headers[HEADER.routingKey] as string) : m.fields.routingKey;
    const failedBefore = intHeader(headers[HEADER.attempts]);
    const attempt = failedBefore + 1;
    const meta = { routing_key: routingKey, message_id: m.properties.messageId as string | undefined, attempt };

    let payload: unknown;
    try {
      payload = decodeMessage(this.s.module, routingKey, m.content);
    } catch (e) {
      this.counters.invalid++;
      this.recordError((e as Error).message, routingKey);
      this.log.error("invalid message, dead-lettered", { ...meta, error: (e as Error).message });
      await this.deadLetter(ch, m, routingKey, "invalid", (e as Error).message, failedBefore);
      return;
    }
    if (this.paused) {
      await this.defer(ch, m, routingKey, "database unavailable");
      return;
    }

    const msg: IncomingMessage = {
      routingKey,
      payload,
      messageId: meta.message_id,
      attempt,
      source: "amqp",
      publishedAt: typeof m.properties.timestamp === "number" ? new Date(m.properties.timestamp * 1000) : undefined,
    };
    const t0 = performance.now();
    try {
      const result = await this.run(msg);
      const seconds = (performance.now() - t0) / 1000;
      if (this.s.publishOnDone) await this.publishDone(ch, m, routingKey);
      if (!this.ack(ch, m)) return;
      this.succeeded(result);
      this.log.info(result.skipped ? "message done (nothing to do)" : "message done", { ...meta, summary: result.summary, seconds: seconds.toFixed(2) });
      this.deps.notifier.notify({ event: "done", type: "MESSAGE", severity: "INFO", service: this.s.name, reason: result.summary ?? "done", routingKey, messageId: meta.message_id, attempts: attempt, body: m.content });
    } catch (e) {
      await this.failed(ch, m, routingKey, failedBefore, e);
    }
  }

  /** The module's handler with a database, a timeout and the stop signal; flushes buffers after. */
  private async run(msg: IncomingMessage): Promise<HandleResult> {
    const controller = new AbortController();
    const onStop = () => controller.abort();
    if (this.hardStop.signal.aborted) controller.abort();
    else this.hardStop.signal.addEventListener("abort", onStop, { once: true });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const db = await this.deps.db.get();
      const ctx: ServiceContext = {
        service: this.s.name,
        db,
        config: this.deps.config(),
        options: this.s.options,
        log: this.log,
        signal: controller.signal,
      };
      let work = this.s.module.handle(ctx, msg).catch((e) => {
        if (e instanceof AlreadyLoaded) return { summary: e.message, skipped: true } as HandleResult;
        throw e;
      });
      if (this.s.timeoutMs > 0) {
        const timeout = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            controller.abort();
            reject(new Timeout(`took longer than ${this.s.timeoutMs / 1000} s (timeout)`));
          }, this.s.timeoutMs);
        });
        work.catch(() => {});
        work = Promise.race([work, timeout]);
      }
      const result = await work;
      if (this.deps.flushBuffers) await flushBuffers(db);
      return result;
    } finally {
      clearTimeout(timer);
      this.hardStop.signal.removeEventListener("abort", onStop);
    }
  }

  private succeeded(result: HandleResult): void {
    if (result.skipped) this.counters.skipped++;
    else this.counters.done++;
    this.lastDoneAt = new Date().toISOString();
    this.deps.onChange();
  }

  private async failed(ch: ConfirmChannel, m: ConsumeMessage, routingKey: string, failedBefore: number, e: unknown): Promise<void> {
    const error = e instanceof Error ? e.message : String(e);
    const meta = { routing_key: routingKey, message_id: m.properties.messageId as string | undefined, attempt: failedBefore + 1 };
    if (e instanceof InputError) {
      this.counters.invalid++;
      this.recordError(error, routingKey);
      this.log.error("message refused by the service, dead-lettered", { ...meta, error });
      await this.deadLetter(ch, m, routingKey, "invalid", error, failedBefore);
      return;
    }
    if (this.hardStop.signal.aborted) {
      // shutdown: the message goes back to the queue as it was
      this.log.info("load stopped by shutdown; message requeued", meta);
      this.nack(ch, m);
      return;
    }
    if (mayBeUnavailable(e) && !(await this.deps.db.healthy())) {
      this.recordError(`database unavailable: ${error}`, routingKey);
      this.log.warn("database unavailable; message put aside and consuming paused", { ...meta, error });
      await this.defer(ch, m, routingKey, error);
      return;
    }
    this.counters.failed++;
    this.recordError(error, routingKey);
    const attempt = failedBefore + 1;
    const now = new Date().toISOString();
    const headers = m.properties.headers ?? {};
    const first = typeof headers[HEADER.firstFailure] === "string" ? (headers[HEADER.firstFailure] as string) : now;
    if (attempt >= this.s.maxAttempts) {
      this.log.error("message failed for the last time, dead-lettered", { ...meta, max_attempts: this.s.maxAttempts, error });
      await this.deadLetter(ch, m, routingKey, "failed", error, attempt, first, now);
      return;
    }
    const delay = this.s.retryDelaysMs[attempt - 1];
    const sent = await this.republish(ch, m, "", delayQueueName(this.s.topology.queue, delay), routingKey, {
      [HEADER.attempts]: attempt,
      [HEADER.firstFailure]: first,
      [HEADER.lastFailure]: now,
      [HEADER.error]: headerText(error),
      [HEADER.reason]: "failed",
    });
    if (!sent || !this.ack(ch, m)) return;
    this.counters.retried++;
    this.deps.onChange();
    this.log.warn("message failed; will retry", { ...meta, next_try: attempt + 1, max_attempts: this.s.maxAttempts, retry_in_s: delay / 1000, error });
    this.deps.notifier.notify({ event: "retry", type: "SERVICE_RETRY", severity: "WARNING", service: this.s.name, reason: error, routingKey, messageId: meta.message_id, attempts: attempt, firstFailure: first, lastFailure: now, body: m.content });
  }

  private async deadLetter(ch: ConfirmChannel, m: ConsumeMessage, routingKey: string, reason: "invalid" | "failed", error: string, attempts: number, first?: string, last?: string): Promise<void> {
    const now = new Date().toISOString();
    const sent = await this.republish(ch, m, this.s.topology.deadLetterExchange, this.s.topology.queue, routingKey, {
      [HEADER.reason]: reason,
      [HEADER.error]: headerText(error),
      [HEADER.attempts]: attempts,
      [HEADER.firstFailure]: first ?? now,
      [HEADER.lastFailure]: last ?? now,
    });
    if (!sent || !this.ack(ch, m)) return;
    this.counters.dead_lettered++;
    this.deps.onChange();
    this.deps.notifier.notify({
      event: "dead-lettered",
      type: "SERVICE_WORKER_ERROR",
      severity: "CRITICAL",
      service: this.s.name,
      reason: error,
      routingKey,
      messageId: m.properties.messageId as string | undefined,
      attempts,
      firstFailure: first ?? now,
      lastFailure: last ?? now,
      body: m.content,
    });
  }

  private async defer(ch: ConfirmChannel, m: ConsumeMessage, routingKey: string, error: string): Promise<void> {
    const headers = m.properties.headers ?? {};
    const delay = this.s.retryDelaysMs[0] ?? 1000;
    if (this.s.retryDelaysMs.length === 0) {
      // no delay queue (max_attempts = 1): back to the queue, to be taken when consuming resumes
      this.nack(ch, m);
    } else {
      const sent = await this.republish(ch, m, "", delayQueueName(this.s.topology.queue, delay), routingKey, {
        [HEADER.deferrals]: intHeader(headers[HEADER.deferrals]) + 1,
        [HEADER.error]: headerText(error),
        [HEADER.reason]: "deferred",
      });
      if (!sent || !this.ack(ch, m)) return;
    }
    this.counters.deferred++;
    this.deps.onChange();
    this.pause(ch);
  }

  /** Consuming stops until the database answers a health check again. */
  private pause(ch: ConfirmChannel): void {
    if (this.paused) return;
    this.paused = true;
    this.setState("paused");
    if (this.consumerTag && this.channel === ch) {
      const tag = this.consumerTag;
      this.consumerTag = undefined;
      ch.cancel(tag).catch(() => {});
    }
    void (async () => {
      let tries = 0;
      while (this.paused && this.accepting && this.channel === ch) {
        tries++;
        await sleep(backoffDelay(tries, this.deps.restartDelayMs, Math.min(this.deps.restartDelayMaxMs, 30_000)), this.keepAbort.signal);
        if (!this.paused || !this.accepting || this.channel !== ch) return;
        if (await this.deps.db.healthy()) {
          this.paused = false;
          this.log.info("database answers again; consuming");
          try {
            await this.consume(ch);
            this.setState("running");
          } catch (e) {
            this.log.warn("cannot resume consuming", { error: (e as Error).message });
          }
          return;
        }
      }
    })();
  }

  private async republish(ch: ConfirmChannel, m: ConsumeMessage, exchange: string, key: string, routingKey: string, extra: Record<string, unknown>): Promise<boolean> {
    const headers = {
      ...cleanHeaders(m.properties.headers),
      [HEADER.service]: this.s.name,
      [HEADER.routingKey]: routingKey,
      [HEADER.exchange]: (m.properties.headers?.[HEADER.exchange] as string | undefined) ?? m.fields.exchange,
      ...extra,
    };
    try {
      await publishConfirmed(ch, exchange, key, m.content, { ...this.properties(m), headers });
      return true;
    } catch (e) {
      this.log.warn("cannot republish a message; the broker will deliver it again", { routing_key: routingKey, to: exchange || key, error: (e as Error).message });
      return false;
    }
  }

  private properties(m: ConsumeMessage): Options.Publish {
    const p = m.properties;
    return {
      contentType: p.contentType ?? "application/json",
      contentEncoding: p.contentEncoding,
      messageId: p.messageId,
      correlationId: p.correlationId,
      timestamp: p.timestamp,
      type: p.type,
      appId: p.appId,
      persistent: true,
    };
  }

  private async publishDone(ch: ConfirmChannel, m: ConsumeMessage, routingKey: string): Promise<void> {
    try {
      await publishConfirmed(ch, this.s.doneExchange, routingKey, m.content, { ...this.properties(m), headers: cleanHeaders(m.properties.headers) });
    } catch (e) {
      this.log.warn("cannot publish the done message", { exchange: this.s.doneExchange, routing_key: routingKey, error: (e as Error).message });
    }
  }

  private ack(ch: ConfirmChannel, m: ConsumeMessage): boolean {
    try {
      ch.ack(m);
      return true;
    } catch (e) {
      this.log.warn("the acknowledgement did not reach the broker; the message will be delivered again", { error: (e as Error).message });
      return false;
    }
  }

  private nack(ch: ConfirmChannel, m: ConsumeMessage): void {
    try {
      ch.nack(m, false, true);
    } catch {
      // channel gone: the broker requeues unacked messages by itself
    }
  }

  // ------------------------------------------------------------------ schedule

  private scheduleNext(): void {
    const spec = this.s.schedule;
    if (!spec || !this.accepting) return;
    const at = nextRun(spec, new Date());
    this.nextRunAt = at;
    this.scheduleTimer = setTimeout(() => this.runScheduled(), Math.min(2 ** 31 - 1, Math.max(0, at.getTime() - Date.now())));
    this.deps.onChange();
  }

  private runScheduled(): void {
    if (!this.accepting) return;
    if (this.nextRunAt && this.nextRunAt.getTime() > Date.now() + 1000) {
      // a timer cut at 2^31 ms: keep waiting
      this.scheduleTimer = setTimeout(() => this.runScheduled(), Math.min(2 ** 31 - 1, this.nextRunAt.getTime() - Date.now()));
      return;
    }
    this.scheduleNext();
    if (this.scheduledRun) {
      this.log.warn("scheduled run skipped: the previous one is still running", { schedule: this.s.schedule?.text });
      return;
    }
    const sm = this.s.scheduleMessage!;
    const t0 = performance.now();
    this.lastRunAt = new Date().toISOString();
    this.log.info("scheduled run started", { schedule: this.s.schedule?.text, routing_key: sm.routingKey });
    this.busy++;
    this.scheduledRun = this.run({ routingKey: sm.routingKey, payload: sm.payload, attempt: 1, source: "schedule" })
      .then((result) => {
        this.succeeded(result);
        this.lastRunResult = result.summary ?? "done";
        this.log.info("scheduled run finished", { summary: result.summary, seconds: ((performance.now() - t0) / 1000).toFixed(2) });
      })
      .catch((e) => {
        const error = (e as Error).message;
        this.counters.failed++;
        this.lastRunResult = `failed: ${error}`;
        this.recordError(`scheduled run: ${error}`, sm.routingKey);
        this.log.error("scheduled run failed", { error, seconds: ((performance.now() - t0) / 1000).toFixed(2) });
        this.deps.notifier.notify({ event: "dead-lettered", type: "SERVICE_WORKER_ERROR", severity: "CRITICAL", service: this.s.name, reason: `scheduled run failed: ${error}`, routingKey: sm.routingKey });
      })
      .finally(() => {
        this.scheduledRun = undefined;
        this.busy--;
        this.deps.onChange();
        if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }
}

