/**
 * A connection that comes back: connect, run the session (declare topology, consume, publish),
 * and when the broker goes away reconnect with exponential backoff and run the session again,
 * so everything is re-declared after a broker restart. Ends when `signal` aborts.
 */
import type { ChannelModel } from "amqplib";
import type { Logger } from "../log";
import { backoffDelay, sleep } from "./backoff";
import { connectBroker } from "./connect";
import { describeBroker, type BrokerOptions } from "./options";

export type LinkState = "connecting" | "connected" | "disconnected";

export interface Session {
  conn: ChannelModel;
  /** Resolves when the connection closes (with the reason, if the broker or the socket gave one). */
  closed: Promise<Error | undefined>;
  signal: AbortSignal;
}

export interface KeepOptions {
  broker: BrokerOptions;
  /** Shown by the broker (rabbitmqctl list_connections name). */
  connectionName: string;
  signal: AbortSignal;
  log: Logger;
  /** Runs while the connection is up; return or throw when it is over (the connection is then closed). */
  session(s: Session): Promise<void>;
  onState?(state: LinkState, error?: Error): void;
  /** A session that lasted this long resets the backoff (default 30 s). */
  stableMs?: number;
}

export async function keepConnected(o: KeepOptions): Promise<void> {
  const { broker, signal, log } = o;
  let failures = 0;
  while (!signal.aborted) {
    o.onState?.("connecting");
    let conn: ChannelModel;
    try {
      conn = await connectBroker(broker, o.connectionName);
    } catch (e) {
      failures++;
      const delay = backoffDelay(failures, broker.reconnectDelayMs, broker.reconnectDelayMaxMs);
      log.warn("broker unreachable", { broker: describeBroker(broker), error: (e as Error).message, retry_in_ms: delay });
      o.onState?.("disconnected", e as Error);
      await sleep(delay, signal);
      continue;
    }
    const started = Date.now();
    let closeError: Error | undefined;
    const closed = new Promise<Error | undefined>((resolve) => {
      conn.on("close", (err?: Error) => {
        closeError ??= err;
        resolve(closeError);
      });
    });
    conn.on("error", (err: Error) => {
      closeError = err;
    });
    conn.on("blocked", (reason: string) => log.warn("broker blocked the connection", { reason }));
    conn.on("unblocked", () => log.info("broker unblocked the connection"));
    o.onState?.("connected");
    log.debug("connected to broker", { broker: describeBroker(broker) });
    let sessionError: Error | undefined;
    try {
      await o.session({ conn, closed, signal });
    } catch (e) {
      sessionError = e as Error;
    }
    await conn.close().catch(() => {});
    if (signal.aborted) break;
    if (Date.now() - started > (o.stableMs ?? 30_000)) failures = 0;
    failures++;
    const delay = backoffDelay(failures, broker.reconnectDelayMs, broker.reconnectDelayMaxMs);
    const reason = sessionError ?? closeError;
    log.warn("broker connection lost; reconnecting", { error: reason?.message ?? "closed", retry_in_ms: delay });
    o.onState?.("disconnected", reason);
    await sleep(delay, signal);
  }
}
