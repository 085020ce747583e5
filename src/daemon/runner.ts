/**
 * One service: its queue, its consumer, its scheduled runs.
 *
 * A message is acknowledged only after the service's rows are in the database (and the Buffer
 * tables flushed). What happens otherwise is decided in outcome.ts (one broker action, one
 * notification per outcome); this file carries it out:
 *
 *   invalid (bad JSON, schema, unknown routing key, InputError from the loader) → dead-lettered.
 *   failed (any other error) → a delay queue, then the queue again; after max_attempts → dead-lettered.
 *   the database is away → put aside without counting a try; consuming pauses until it answers.
 *   shutdown → republished to the tail of the queue (a nack would count toward x-delivery-limit).
 *   a copy the broker refuses (full dead-letter queue, …) → after a delay the message is put back
 *     at the tail of its queue (or nacked), counted in republish_refused, never left unacked.
 *   a crash loop (the process dies on the message) → the quorum queue's x-delivery-limit
 *     dead-letters it on the broker side.
 *
 * Two messages with the same key (the service's key(): a task, a branch and date) or the same
 * body never run at once: the later one waits.
 */
import { createHash } from "node:crypto";
import type { ConfirmChannel, ConsumeMessage, Options } from "amqplib";
import { backoffDelay, declareTopology, deadQueueName, delayQueueName, keepConnected, publishConfirmed, sleep, whenAborted, type BrokerOptions, type ChannelModel } from "../amqp";
import type { Config } from "../config";
import { AlreadyLoaded } from "../loaders/errors";
import type { Logger } from "../log";
import { mayBeUnavailable, type DbProvider } from "./db-provider";
import { flushBuffers } from "./flush";
import { cleanHeaders, HEADER } from "./headers";
import { KeyedLock } from "./keyed";
import type { Notifier } from "./notifier";
import { failedBefore, fateOf, outcomeOfError, putBack, refusals, type BrokerAction, type Counters, type Delivery, type Outcome } from "./outcome";
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

export class ServiceRunner {
  state = "stopped";
  readonly counters: Counters = { done: 0, skipped: 0, failed: 0, retried: 0, dead_lettered: 0, invalid: 0, deferred: 0, restarts: 0, requeued: 0, republish_refused: 0 };
  lastError: ServiceStatus["last_error"];
  lastDoneAt: string | undefined;

  private readonly s: ServiceSettings;
  private readonly log: Logger;
  private readonly keepAbort = new AbortController();
  private readonly hardStop = new AbortController();
  /** Aborted when stopping begins. */
  private readonly stopping = new AbortController();
  /** Aborted by a second stop signal: the grace is over at once. */
  private readonly graceCut = new AbortController();
  private loop: Promise<void> | undefined;
  private channel: ConfirmChannel | undefined;
  private consumerTag: string | undefined;
  private accepting = true;
  private paused = false;
  private readonly lock = new KeyedLock();
  private busy = 0;
  private waiting = 0;
  /** Messages held after a refused copy, until they are put back. */
  private held = 0;
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
    this.stopping.abort();
    clearTimeout(this.scheduleTimer);
    this.nextRunAt = undefined;
    this.setState("stopping");
    if (this.channel && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => {});
    this.consumerTag = undefined;
    if (this.busy > 0) {
      this.log.info("waiting for running messages", { count: this.busy, grace_s: graceMs / 1000 });
      await Promise.race([this.idle(), sleep(graceMs, this.graceCut.signal)]);
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

  /** A second stop signal: stop waiting for running messages now. */
  hurry(): void {
    this.graceCut.abort();
  }

  status(): ServiceStatus {
    const t = this.s.topology;
    return {
      name: this.s.name,
      state: this.held > 0 && this.state === "running" ? "degraded" : this.state,
      queue: t.queue,
      exchange: t.exchange,
      routing_keys: t.routingKeys,
      workers: this.s.workers,
      in_flight: this.busy,
      waiting: this.waiting,
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
    const headers = m.properties.headers ?? {};
    const d: Delivery = {
      service: this.s.name,
      queue: this.s.topology.queue,
      deadLetterExchange: this.s.topology.deadLetterExchange,
      routingKey: typeof headers[HEADER.routingKey] === "string" ? (headers[HEADER.routingKey] as string) : m.fields.routingKey,
      exchange: m.fields.exchange,
      headers,
      messageId: m.properties.messageId as string | undefined,
      body: m.content,
      maxAttempts: this.s.maxAttempts,
      retryDelaysMs: this.s.retryDelaysMs,
    };
    let msg: IncomingMessage | Error;
    try {
      msg = {
        routingKey: d.routingKey,
        payload: decodeMessage(this.s.module, d.routingKey, m.content),
        messageId: d.messageId,
        attempt: failedBefore(d) + 1,
        source: "amqp",
        publishedAt: typeof m.properties.timestamp === "number" ? new Date(m.properties.timestamp * 1000) : undefined,
      };
    } catch (e) {
      msg = e as Error;
    }
    // a copy redelivered after a reconnect waits for the copy still running; so does a message
    // for the same task or snapshot
    const keys = [`body ${createHash("sha1").update(d.routingKey).update("\0").update(m.content).digest("hex")}`];
    const own = msg instanceof Error ? undefined : this.keyOf(msg);
    if (own !== undefined) keys.push(`key ${own}`);
    this.track(this.lock.run(keys, () => this.process(ch, m, d, msg), (w) => this.onWait(w)));
  }

  private keyOf(msg: IncomingMessage): string | undefined {
    try {
      return this.s.module.key?.(msg);
    } catch (e) {
      this.log.warn("cannot tell the key of a message; it runs without waiting for others", { routing_key: msg.routingKey, error: (e as Error).message });
      return undefined;
    }
  }

  private onWait(waiting: boolean): void {
    this.waiting += waiting ? 1 : -1;
    this.deps.onChange();
  }

  /** Counts `work` in flight until it settles. */
  private track(work: Promise<unknown>): void {
    this.busy++;
    this.deps.onChange();
    void work
      .catch((e) => this.log.error("unexpected error while handling a message", { error: (e as Error).message, stack: (e as Error).stack }))
      .finally(() => {
        this.busy--;
        this.deps.onChange();
        if (this.busy === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
  }

  // ------------------------------------------------------------------ one message

  private async process(ch: ConfirmChannel, m: ConsumeMessage, d: Delivery, msg: IncomingMessage | Error): Promise<void> {
    if (msg instanceof Error) return this.settle(ch, m, d, { kind: "dead-letter", reason: "invalid", error: msg.message });
    // it waited for another message with its key and the shutdown came meanwhile: not started, back it goes
    if (!this.accepting) return this.settle(ch, m, d, { kind: "requeue", why: "shutdown" });
    if (this.paused) return this.settle(ch, m, d, { kind: "defer", error: "database unavailable" });
    const t0 = performance.now();
    let outcome: Outcome;
    try {
      const result = await this.run(msg);
      outcome = { kind: "done", summary: result.summary ?? "done", skipped: Boolean(result.skipped) };
      if (this.s.publishOnDone) await this.publishDone(ch, m, d.routingKey);
    } catch (e) {
      outcome = await outcomeOfError(e, {
        attempt: msg.attempt,
        maxAttempts: this.s.maxAttempts,
        stopping: this.hardStop.signal.aborted,
        mayBeDb: mayBeUnavailable(e),
        dbDown: async () => !(await this.deps.db.healthy()),
      });
    }
    await this.settle(ch, m, d, outcome, (performance.now() - t0) / 1000);
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
      try {
        result.after?.();
      } catch (e) {
        this.log.warn("cannot start the triggers of a load", { error: (e as Error).message });
      }
      return result;
    } finally {
      clearTimeout(timer);
      this.hardStop.signal.removeEventListener("abort", onStop);
    }
  }

  /** Carries out the one broker action of the outcome; counts and notifies once it went through. */
  private async settle(ch: ConfirmChannel, m: ConsumeMessage, d: Delivery, outcome: Outcome, seconds?: number): Promise<void> {
    const fate = fateOf(outcome, d, (ms) => delayQueueName(d.queue, ms));
    if (fate.lastError) this.recordError(fate.lastError, d.routingKey);
    this.log[fate.log.level](fate.log.msg, seconds === undefined ? fate.log.fields : { ...fate.log.fields, seconds: seconds.toFixed(2) });
    const r = await this.perform(ch, m, d, fate.action);
    if (r.refused !== undefined) return this.refused(ch, m, d, outcome, r.refused);
    if (!r.ok) return;
    for (const c of fate.counts) this.counters[c]++;
    if (outcome.kind === "done") this.lastDoneAt = new Date().toISOString();
    this.deps.onChange();
    if (fate.notification) this.deps.notifier.notify(fate.notification);
    if (outcome.kind === "defer") this.pause(ch);
  }

  /**
   * ok; refused = the broker nacked the copy (the original is still ours); neither = the channel
   * is gone (the broker delivers the message again by itself).
   */
  private async perform(ch: ConfirmChannel, m: ConsumeMessage, d: Delivery, a: BrokerAction): Promise<{ ok: boolean; refused?: string }> {
    if (a.kind === "republish") {
      try {
        await publishConfirmed(ch, a.exchange, a.routingKey, m.content, { ...this.properties(m), headers: a.headers });
      } catch (e) {
        const error = (e as Error).message;
        if (this.channel !== ch) {
          this.log.warn("the channel closed before a copy of the message was confirmed; the broker will deliver it again", { routing_key: d.routingKey, error });
          return { ok: false };
        }
        this.log.warn("the broker refused a copy of the message", { routing_key: d.routingKey, to: a.exchange || a.routingKey, error });
        return { ok: false, refused: error };
      }
    }
    try {
      ch.ack(m);
      return { ok: true };
    } catch (e) {
      this.log.warn("the acknowledgement did not reach the broker; the message will be delivered again", { error: (e as Error).message });
      return { ok: false };
    }
  }

  /**
   * The broker refused the copy: hold the message a while (the dead-letter queue may be full),
   * then put it back at the tail of its queue to be handled again; nack it if even that fails.
   */
  private async refused(ch: ConfirmChannel, m: ConsumeMessage, d: Delivery, outcome: Outcome, error: string): Promise<void> {
    this.counters.republish_refused++;
    const delay = outcome.kind === "requeue" ? 0 : backoffDelay(refusals(d) + 1, this.deps.restartDelayMs, this.deps.restartDelayMaxMs);
    this.recordError(`the broker refused the ${outcome.kind} copy (${error}); the message goes back to ${d.queue} in ${(delay / 1000).toFixed(1)} s`, d.routingKey);
    this.held++;
    this.deps.onChange();
    try {
      if (delay > 0) await sleep(delay, this.stopping.signal);
      const r = outcome.kind === "requeue" ? { ok: false, refused: error } : await this.perform(ch, m, d, putBack(d));
      if (r.refused !== undefined) {
        try {
          ch.nack(m, false, true);
        } catch {
          // channel gone: the broker requeues unacked messages by itself
        }
      }
    } finally {
      this.held--;
      this.deps.onChange();
    }
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
    const msg: IncomingMessage = { routingKey: sm.routingKey, payload: sm.payload, attempt: 1, source: "schedule" };
    const own = this.keyOf(msg);
    const run = this.lock
      .run(own === undefined ? [] : [`key ${own}`], () => this.run(msg), (w) => this.onWait(w))
      .then((result) => {
        this.counters[result.skipped ? "skipped" : "done"]++;
        this.lastDoneAt = new Date().toISOString();
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
      .finally(() => (this.scheduledRun = undefined));
    this.scheduledRun = run;
    this.track(run);
  }
}
