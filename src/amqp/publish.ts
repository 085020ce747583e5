/** Publishing with publisher confirms: resolved only when the broker has taken the message. */
import type { ConfirmChannel, Options } from "amqplib";

export class PublishFailed extends Error {
  override name = "PublishFailed";
}

export function publishConfirmed(ch: ConfirmChannel, exchange: string, routingKey: string, body: Buffer, opts: Options.Publish = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    try {
      ch.publish(exchange, routingKey, body, { persistent: true, ...opts }, (err) => {
        if (err) reject(new PublishFailed(`broker refused the message for ${exchange || "(default exchange)"} ${routingKey}: ${err instanceof Error ? err.message : String(err)}`));
        else resolve();
      });
    } catch (e) {
      reject(new PublishFailed(`cannot publish to ${exchange || "(default exchange)"} ${routingKey}: ${(e as Error).message}`));
    }
  });
}

/** Waits until the channel's write buffer has room (publish returned false). */
export function drained(ch: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => ch.once("drain", () => resolve()));
}
