/** Queue depth through a passive declare (checkQueue): it never creates anything. */
import type { ChannelModel } from "amqplib";

export interface QueueDepth {
  queue: string;
  /** Ready messages; undefined when the queue does not exist. */
  messages?: number;
  consumers?: number;
  error?: string;
}

export async function queueDepths(conn: ChannelModel, queues: readonly string[]): Promise<QueueDepth[]> {
  const out: QueueDepth[] = [];
  for (const queue of queues) {
    // a failed passive declare closes the channel: one channel per question
    const ch = await conn.createChannel();
    ch.on("error", () => {});
    try {
      const r = await ch.checkQueue(queue);
      out.push({ queue, messages: r.messageCount, consumers: r.consumerCount });
    } catch (e) {
      out.push({ queue, error: /NOT_FOUND/.test((e as Error).message) ? "queue does not exist" : (e as Error).message });
    } finally {
      await ch.close().catch(() => {});
    }
  }
  return out;
}
