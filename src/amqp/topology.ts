/**
 * The broker objects one service needs, declared on every (re)connect:
 *
 *   exchange (topic) --routing keys--> queue (quorum, x-delivery-limit, dead-letters to the DLX)
 *   DLX (direct) --"<queue>"--> <queue>.dead
 *   <queue>.delay.<N> (TTL N, then dead-lettered through the default exchange back to <queue>)
 *
 * A failed message waits in a delay queue (one per distinct delay, so every message in it has
 * the same TTL and they expire in order) and comes back to the main queue by itself.
 */
import type { Channel } from "amqplib";

export interface ServiceTopology {
  queue: string;
  queueType: "quorum" | "classic";
  /** Source exchange the queue is bound to. */
  exchange: string;
  declareExchange: boolean;
  routingKeys: readonly string[];
  deadLetterExchange: string;
  /** x-delivery-limit (quorum queues only). */
  deliveryLimit: number;
  /** Retry delays; one delay queue per distinct value. */
  delaysMs: readonly number[];
}

export type Declaration =
  | { kind: "exchange"; name: string; type: "topic" | "direct" }
  | { kind: "queue"; name: string; args: Record<string, unknown> }
  | { kind: "bind"; queue: string; exchange: string; key: string };

export const deadQueueName = (queue: string): string => `${queue}.dead`;

export function delayQueueName(queue: string, ms: number): string {
  return `${queue}.delay.${ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`}`;
}

export function planTopology(t: ServiceTopology): Declaration[] {
  const out: Declaration[] = [];
  if (t.declareExchange) out.push({ kind: "exchange", name: t.exchange, type: "topic" });
  out.push({ kind: "exchange", name: t.deadLetterExchange, type: "direct" });
  const typeArg = { "x-queue-type": t.queueType };
  const dead = deadQueueName(t.queue);
  out.push({ kind: "queue", name: dead, args: { ...typeArg } });
  out.push({ kind: "bind", queue: dead, exchange: t.deadLetterExchange, key: t.queue });
  out.push({
    kind: "queue",
    name: t.queue,
    args: {
      ...typeArg,
      ...(t.queueType === "quorum" ? { "x-delivery-limit": t.deliveryLimit } : {}),
      "x-dead-letter-exchange": t.deadLetterExchange,
      "x-dead-letter-routing-key": t.queue,
    },
  });
  for (const key of t.routingKeys) out.push({ kind: "bind", queue: t.queue, exchange: t.exchange, key });
  for (const ms of [...new Set(t.delaysMs)].sort((a, b) => a - b)) {
    out.push({
      kind: "queue",
      name: delayQueueName(t.queue, ms),
      args: { "x-queue-type": "classic", "x-message-ttl": ms, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": t.queue },
    });
  }
  return out;
}

export class TopologyError extends Error {
  override name = "TopologyError";
}

function explain(d: Declaration, e: Error): TopologyError {
  const what = d.kind === "bind" ? `binding ${d.queue} to ${d.exchange} (${d.key})` : `${d.kind} ${d.name}`;
  let hint = "";
  if (/PRECONDITION_FAILED|inequivalent/i.test(e.message)) {
    hint = d.kind === "queue" ? "; it exists with other arguments: delete it (after draining) or restore the old settings" : "; it exists with another type";
  } else if (/NOT_FOUND/.test(e.message) && d.kind === "bind") {
    hint = `; exchange ${d.exchange} does not exist (set declare_exchange = true or create it)`;
  }
  return new TopologyError(`cannot declare ${what}: ${e.message}${hint}`);
}

export async function declareTopology(ch: Channel, t: ServiceTopology): Promise<void> {
  for (const d of planTopology(t)) {
    try {
      if (d.kind === "exchange") await ch.assertExchange(d.name, d.type, { durable: true, autoDelete: false, internal: false });
      else if (d.kind === "queue") await ch.assertQueue(d.name, { durable: true, exclusive: false, autoDelete: false, arguments: d.args });
      else await ch.bindQueue(d.queue, d.exchange, d.key);
    } catch (e) {
      throw explain(d, e as Error);
    }
  }
}
