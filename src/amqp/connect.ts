/** One connection attempt, bounded by the connect timeout. */
import amqp, { type ChannelModel } from "amqplib";
import { connectArgs, describeBroker, type BrokerOptions } from "./options";

export class BrokerUnavailable extends Error {
  override name = "BrokerUnavailable";
}

export async function connectBroker(o: BrokerOptions, connectionName: string): Promise<ChannelModel> {
  const [url, socket] = connectArgs(o, connectionName);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = amqp.connect(url, socket);
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerUnavailable(`no answer from ${describeBroker(o)} within ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (e) {
    // a connection that completes after the timeout must not linger
    attempt.then((c) => c.close().catch(() => {})).catch(() => {});
    if (e instanceof BrokerUnavailable) throw e;
    throw new BrokerUnavailable(`cannot connect to ${describeBroker(o)}: ${(e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
