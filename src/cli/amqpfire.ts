/**
 * `altrepodb amqpfire VERB [ARGS…]`: publish one message a daemon service takes, to the exchange
 * that service is bound to in the same configuration, with publisher confirms. The payload is
 * checked with the service's own schema first; --dry-run prints "<routing key> <json>" instead.
 */
import { randomUUID } from "node:crypto";
import { defineCommand } from "citty";
import { connectBroker, describeBroker, publishConfirmed } from "../amqp";
import { validatePayload } from "../daemon/payload";
import { REGISTRY } from "../daemon/services";
import { brokerOf } from "../daemon/settings";
import type { FireVerb, ServiceModule } from "../daemon/types";
import { log } from "../log";
import { cliConfig } from "./context";
import { RunFailed, UsageError } from "./errors";

export function fireVerbs(): Map<string, { module: ServiceModule; verb: FireVerb }> {
  const out = new Map<string, { module: ServiceModule; verb: FireVerb }>();
  for (const module of Object.values(REGISTRY)) for (const verb of module.fire ?? []) out.set(verb.name, { module, verb });
  return out;
}

function verbList(): string {
  return [...fireVerbs().values()].map(({ verb }) => `  ${verb.name} ${verb.usage}  — ${verb.description}`).join("\n");
}

export default defineCommand({
  meta: {
    name: "amqpfire",
    description: "Publish a message a daemon service takes (repo, task, task-approve, …); the words after SERVICE are passed as they are",
    examples: ["altrepodb -c /etc/altrepodb/config.toml amqpfire repo p10 2026-11-20", "altrepodb amqpfire --dry-run task-approve 412345 100 alice -v looks good"],
    rest: "text",
  },
  args: {
    service: { type: "positional", description: `What to send:\n${verbList()}`, required: true },
    "dry-run": { type: "boolean", description: 'Print "<routing key> <json>" instead of publishing' },
    exchange: { type: "string", description: "Publish to this exchange (default: the service's exchange in the config)" },
  },
  async run({ args }) {
    const config = cliConfig();
    const name = String(args.service);
    const found = fireVerbs().get(name);
    if (!found) throw new UsageError(`unknown message kind ${JSON.stringify(name)}; one of:\n${verbList()}`);
    const { module, verb } = found;
    const rest = (args._ as string[]).slice(1).map(String);
    let built: { routingKey: string; payload: unknown };
    try {
      built = verb.build(rest, config);
      validatePayload(module, built.routingKey, built.payload);
    } catch (e) {
      throw new UsageError(`${name} ${verb.usage}: ${(e as Error).message}`);
    }
    const body = JSON.stringify(built.payload);
    const exchange = args.exchange ?? config.file.services[module.name]?.exchange ?? module.defaults.exchange;
    if (args["dry-run"]) {
      process.stdout.write(`${built.routingKey} ${body}\n`);
      log.debug("dry run: nothing published", { exchange });
      return;
    }
    const broker = brokerOf(config);
    const conn = await connectBroker(broker, `altrepodb amqpfire ${name}`).catch((e) => {
      throw new RunFailed(`cannot send: ${(e as Error).message}`);
    });
    conn.on("error", () => {});
    try {
      const ch = await conn.createConfirmChannel();
      let channelError: Error | undefined;
      ch.on("error", (e: Error) => (channelError = e));
      let returned = false;
      ch.on("return", () => (returned = true));
      const messageId = randomUUID();
      try {
        await publishConfirmed(ch, exchange, built.routingKey, Buffer.from(body), {
          mandatory: true,
          contentType: "application/json",
          messageId,
          timestamp: Math.floor(Date.now() / 1000),
          appId: "altrepodb amqpfire",
        });
      } catch (e) {
        const why = channelError?.message ?? (e as Error).message;
        throw new RunFailed(`cannot send to exchange ${exchange} at ${describeBroker(broker)}: ${why}`);
      }
      if (returned) throw new RunFailed(`the broker took the message but no queue is bound to exchange ${exchange} for ${built.routingKey}: is the daemon's ${module.name} service configured and started once?`);
      process.stdout.write(`OK ${built.routingKey} → ${exchange} (message id ${messageId})\n`);
      await ch.close().catch(() => {});
    } finally {
      await conn.close().catch(() => {});
    }
  },
});
