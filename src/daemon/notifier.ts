/**
 * Notifications about processed and failed messages, published with confirms to a topic exchange.
 * Every notification is first written to the on-disk spool and removed only after the broker
 * confirmed it, so a broker outage (or a daemon restart) delays notifications instead of losing
 * them; a full spool drops its oldest entries, with a warning each.
 *
 * Routing key "<type>.<severity>" and the body fields subject/severity/type/message/timestamp/
 * payload are those of the reference uploaderd (altrepobot reads them); the other fields are new.
 */
import { hostname } from "node:os";
import { keepConnected, publishConfirmed, sleep, type BrokerOptions, type Session } from "../amqp";
import type { Logger } from "../log";
import type { NotifierSettings } from "./settings";
import { Spool } from "./spool";

export type Severity = "INFO" | "WARNING" | "CRITICAL";
export type NotificationType = "MESSAGE" | "SERVICE_RETRY" | "SERVICE_WORKER_ERROR" | "SERVICE_ERROR";

export interface Notification {
  event: "done" | "retry" | "dead-lettered" | "service-error";
  type: NotificationType;
  severity: Severity;
  service: string;
  reason: string;
  routingKey?: string;
  messageId?: string;
  attempts?: number;
  firstFailure?: string;
  lastFailure?: string;
  /** The message body as received. */
  body?: Uint8Array;
}

const MAX_PAYLOAD = 64 * 1024;

function payloadOf(body: Uint8Array | undefined): unknown {
  if (!body) return null;
  const text = new TextDecoder().decode(body.subarray(0, MAX_PAYLOAD));
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function notificationKey(n: Pick<Notification, "type" | "severity">): string {
  return `${n.type}.${n.severity}`.toLowerCase();
}

export function notificationBody(n: Notification, now = new Date()): Record<string, unknown> {
  return {
    subject: n.service,
    severity: n.severity,
    type: n.type,
    message: n.reason,
    timestamp: now.getTime() / 1000,
    payload: payloadOf(n.body),
    event: n.event,
    service: n.service,
    routing_key: n.routingKey ?? null,
    reason: n.reason,
    message_id: n.messageId ?? null,
    attempts: n.attempts ?? null,
    first_failure: n.firstFailure ?? null,
    last_failure: n.lastFailure ?? null,
    time: now.toISOString(),
    host: hostname(),
    pid: process.pid,
  };
}

interface SpoolEntry {
  routing_key: string;
  body: Record<string, unknown>;
}

export class Notifier {
  private readonly spool: Spool | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  connected = false;
  published = 0;
  lastError: string | undefined;

  constructor(
    readonly settings: NotifierSettings,
    private readonly broker: BrokerOptions,
    private readonly log: Logger,
  ) {
    if (settings.enabled) this.spool = new Spool(settings.spoolDir, { maxFiles: settings.maxFiles, maxBytes: settings.maxBytes }, log);
  }

  start(): void {
    if (!this.spool || this.loop) return;
    this.loop = keepConnected({
      broker: this.broker,
      connectionName: "altrepodb daemon: notifier",
      signal: this.abort.signal,
      log: this.log,
      session: (s) => this.session(s),
      onState: (state, err) => {
        this.connected = state === "connected";
        if (err) this.lastError = err.message;
      },
    });
  }

  notify(n: Notification): void {
    if (!this.spool) return;
    if (n.event === "done" && !this.settings.onDone) return;
    if (n.event === "retry" && !this.settings.onRetry) return;
    const entry: SpoolEntry = { routing_key: notificationKey(n), body: notificationBody(n) };
    try {
      this.spool.push(entry);
    } catch (e) {
      this.log.error("cannot spool a notification", { error: (e as Error).message, spool: this.spool.dir });
      return;
    }
    this.wake?.();
  }

  stats(): { enabled: boolean; connected: boolean; pending: number; published: number; dropped: number; last_error?: string } {
    return {
      enabled: Boolean(this.spool),
      connected: this.connected,
      pending: this.spool?.list().length ?? 0,
      published: this.published,
      dropped: this.spool?.dropped ?? 0,
      last_error: this.lastError,
    };
  }

  private async session({ conn, closed, signal }: Session): Promise<void> {
    const spool = this.spool!;
    const ch = await conn.createConfirmChannel();
    let chClosed = false;
    ch.on("error", (e: Error) => (this.lastError = e.message));
    ch.on("close", () => {
      chClosed = true;
      this.wake?.();
    });
    let connClosed = false;
    void closed.then(() => {
      connClosed = true;
      this.wake?.();
    });
    await ch.assertExchange(this.settings.exchange, "topic", { durable: true, autoDelete: false });
    while (!signal.aborted && !chClosed && !connClosed) {
      for (const name of spool.list()) {
        const entry = spool.read(name) as SpoolEntry | undefined;
        if (!entry) continue;
        await publishConfirmed(ch, this.settings.exchange, entry.routing_key, Buffer.from(JSON.stringify(entry.body)), {
          contentType: "application/json",
          timestamp: Math.floor(Date.now() / 1000),
        });
        spool.remove(name);
        this.published++;
      }
      const woken = new Promise<void>((resolve) => (this.wake = resolve));
      await Promise.race([woken, sleep(5000, signal)]);
    }
    await ch.close().catch(() => {});
  }

  /** Stops publishing; whatever is still spooled is sent by the next start. */
  async stop(timeoutMs = 2000): Promise<void> {
    if (this.loop && this.spool && this.connected) {
      // a short chance to send what the shutdown itself reported
      const until = Date.now() + timeoutMs;
      while (this.spool.list().length && this.connected && Date.now() < until) await sleep(50);
    }
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }
}
