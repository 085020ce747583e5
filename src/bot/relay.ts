/**
 * The notification relay (the reference's altrepobot): consumes the notifier's messages from its
 * own durable queue bound to the notifier's exchange, and hands each to every destination — each
 * Telegram chat (at most rate_limit messages per rate_window, in order, waiting, never dropped)
 * and the webhook. A message is acknowledged only after every destination accepted it; a failed
 * send is tried again with backoff (429: after Telegram's retry_after) for as long as it takes,
 * holding the messages behind it, so the order per chat is kept. Only a notice a destination
 * refuses for its content (HTTP 400 even without HTML, 413, 422) is dead-lettered (to
 * <queue>.dead through [amqp] dead_letter_exchange), with an error line. When the connection
 * drops, unacknowledged messages go back to the queue and come again (at least once).
 */
import { backoffDelay, declareTopology, keepConnected, sleep, whenAborted, type Channel, type ConsumeMessage, type Session } from "../amqp";
import type { Logger } from "../log";
import { formatNotice, type Notice } from "./format";
import { RateLimit, telegramChat, webhook, type Destination } from "./send";
import type { BotSettings } from "./settings";

export interface BotStats {
  state: "stopped" | "connecting" | "running" | "reconnecting" | "stopping";
  queue: string;
  exchange: string;
  /** Messages taken from the queue. */
  received: number;
  /** Acknowledged: every destination accepted them. */
  relayed: number;
  /** Dead-lettered: a destination refused the content. */
  refused: number;
  /** Failed attempts that were tried again. */
  retries: number;
  /** Taken but not yet acknowledged (waiting for the rate limit or a retry). */
  pending: number;
  destinations: { name: string; sent: number; retries: number; refused: number }[];
  last_error?: { message: string; at: string };
}

type LaneResult = "ok" | "refused" | "aborted";

class Lane {
  private tail: Promise<unknown> = Promise.resolve();
  sent = 0;
  retries = 0;
  refused = 0;

  constructor(
    readonly dest: Destination,
    private readonly relay: Relay,
  ) {}

  /** Queued behind the notices before it; resolves with what became of this one. */
  push(notice: Notice, key: string, signal: AbortSignal): Promise<LaneResult> {
    const run = this.tail.then(() => this.deliver(notice, key, signal));
    this.tail = run.catch(() => {});
    return run;
  }

  private async deliver(notice: Notice, key: string, signal: AbortSignal): Promise<LaneResult> {
    const s = this.relay.settings;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return "aborted";
      if (this.dest.before && !(await this.dest.before(signal))) return "aborted";
      let r;
      try {
        r = await this.dest.send(notice, signal);
      } finally {
        this.dest.after?.();
      }
      if (signal.aborted) return "aborted";
      if (r.kind === "ok") {
        this.sent++;
        return "ok";
      }
      if (r.kind === "refused") {
        this.refused++;
        this.relay.error(`bot: ${this.dest.name} refused a notification (${key}) for good: ${r.error}; it is dead-lettered`);
        return "refused";
      }
      this.retries++;
      this.relay.counters.retries++;
      const wait = r.afterMs ?? backoffDelay(attempt, s.retryDelayMs, s.retryDelayMaxMs);
      this.relay.warn(`bot: ${this.dest.name} did not take a notification (${key}): ${r.error}; trying again in ${(wait / 1000).toFixed(1)} s (attempt ${attempt + 1})`);
      if (!(await sleep(wait, signal))) return "aborted";
    }
  }
}

export class Relay {
  state: BotStats["state"] = "stopped";
  readonly counters = { received: 0, relayed: 0, refused: 0, retries: 0 };
  private pending = 0;
  private lastError: BotStats["last_error"];
  private readonly lanes: Lane[];
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private consumer: { ch: Channel; tag: string } | undefined;

  constructor(
    readonly settings: BotSettings,
    private readonly log: Logger,
  ) {
    const dests: Destination[] = [];
    const t = settings.telegram;
    if (t)
      for (const chatId of t.chatIds) {
        const limit = new RateLimit(t.rateLimit, t.rateWindowMs);
        dests.push({ ...telegramChat({ apiUrl: t.apiUrl, token: t.token, chatId, timeoutMs: t.timeoutMs }), before: (sig) => limit.take(sig), after: () => limit.finish() });
      }
    if (settings.webhook) dests.push(webhook(settings.webhook));
    this.lanes = dests.map((d) => new Lane(d, this));
  }

  warn(msg: string): void {
    this.lastError = { message: msg, at: new Date().toISOString() };
    this.log.warn(msg);
  }

  error(msg: string): void {
    this.lastError = { message: msg, at: new Date().toISOString() };
    this.log.error(msg);
  }

  start(): void {
    if (this.loop) return;
    this.state = "connecting";
    this.loop = keepConnected({
      broker: this.settings.broker,
      connectionName: "altrepodb bot",
      signal: this.abort.signal,
      log: this.log,
      session: (s) => this.session(s),
      onState: (state, err) => {
        if (state === "disconnected" && !this.abort.signal.aborted) {
          this.state = "reconnecting";
          if (err) this.lastError = { message: `broker: ${err.message}`, at: new Date().toISOString() };
        }
      },
    });
  }

  /**
   * Stops consuming, gives the sends under way up to `graceMs` to be answered (and acknowledged);
   * notices not accepted by then stay in the queue for the next start.
   */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.loop) return;
    this.state = "stopping";
    const c = this.consumer;
    this.consumer = undefined;
    if (c) await c.ch.cancel(c.tag).catch(() => {});
    const until = Date.now() + graceMs;
    while (this.pending > 0 && Date.now() < until) await sleep(20);
    this.abort.abort();
    await this.loop;
    this.loop = undefined;
    this.state = "stopped";
  }

  stats(): BotStats {
    return {
      state: this.state,
      queue: this.settings.topology.queue,
      exchange: this.settings.topology.exchange,
      ...this.counters,
      pending: this.pending,
      destinations: this.lanes.map((l) => ({ name: l.dest.name, sent: l.sent, retries: l.retries, refused: l.refused })),
      last_error: this.lastError,
    };
  }

  private async session({ conn, closed, signal }: Session): Promise<void> {
    const ch = await conn.createChannel();
    let chError: Error | undefined;
    ch.on("error", (e: Error) => (chError = e));
    const chClosed = new Promise<void>((resolve) => ch.on("close", () => resolve()));
    const session = new AbortController();
    try {
      await declareTopology(ch, this.settings.topology);
      await ch.prefetch(this.settings.prefetch);
      const { consumerTag } = await ch.consume(this.settings.topology.queue, (m) => m && void this.onMessage(ch, m, session.signal), { noAck: false });
      this.consumer = { ch, tag: consumerTag };
      this.state = "running";
      this.log.info("relaying notifications", { queue: this.settings.topology.queue, exchange: this.settings.topology.exchange, to: this.lanes.map((l) => l.dest.name).join(", ") });
      await Promise.race([closed, chClosed, whenAborted(signal)]);
    } finally {
      // what is not acknowledged yet comes back from the queue on the next session
      this.consumer = undefined;
      session.abort();
    }
    if (signal.aborted) {
      await ch.close().catch(() => {});
      return;
    }
    throw chError ?? new Error("channel closed by the broker");
  }

  private async onMessage(ch: Channel, m: ConsumeMessage, signal: AbortSignal): Promise<void> {
    this.counters.received++;
    this.pending++;
    const key = m.fields.routingKey;
    try {
      await this.relay(ch, m, key, signal);
    } catch (e) {
      this.error(`bot: cannot relay a notification (${key}): ${(e as Error).message}; it comes again after a reconnect`);
    } finally {
      this.pending--;
    }
  }

  private async relay(ch: Channel, m: ConsumeMessage, key: string, signal: AbortSignal): Promise<void> {
    {
      const notice = formatNotice(m.content, key);
      const results = await Promise.all(this.lanes.map((l) => l.push(notice, key, signal)));
      if (results.includes("aborted")) return;
      try {
        if (results.includes("refused")) {
          ch.nack(m, false, false);
          this.counters.refused++;
        } else {
          ch.ack(m);
          this.counters.relayed++;
          this.log.info(`bot: relayed ${key} to ${this.lanes.map((l) => l.dest.name).join(", ")}`);
        }
      } catch (e) {
        this.warn(`bot: the acknowledgement did not reach the broker (${(e as Error).message}); the notification comes again`);
      }
    }
  }
}
