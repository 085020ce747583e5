/** The relay's settings from the configuration ([bot], [notifier] exchange, [amqp]). */
import type { ServiceTopology } from "../amqp";
import { readFileSync } from "node:fs";
import { ConfigError, type AmqpConfig, type Config } from "../config";
import { locateKey } from "../config/locate";

export interface BotSettings {
  broker: AmqpConfig;
  topology: ServiceTopology;
  prefetch: number;
  retryDelayMs: number;
  retryDelayMaxMs: number;
  telegram?: { apiUrl: string; token: string; chatIds: string[]; rateLimit: number; rateWindowMs: number; timeoutMs: number };
  webhook?: { url: string; timeoutMs: number };
}

/** A ConfigError naming the file, the line and the key. */
function configError(config: Config, message: string, key: string): ConfigError {
  let text = "";
  try {
    text = config.source ? readFileSync(config.source, "utf8") : "";
  } catch {
    // no line then
  }
  return new ConfigError(message, config.source ?? undefined, text ? locateKey(text, key.split(".")) : undefined, key);
}

export function resolveBotSettings(config: Config): BotSettings {
  const b = config.file.bot;
  const t = b.telegram;
  const chatIds = t.chat_ids.map(String);
  if (chatIds.length && !config.botToken) throw configError(config, "chat_ids are set but there is no bot token ($ALTREPODB_BOT_TOKEN, token_file or token)", "bot.telegram.chat_ids");
  if (b.webhook.url && !URL.canParse(b.webhook.url)) throw configError(config, `not a URL: ${JSON.stringify(b.webhook.url)}`, "bot.webhook.url");
  if (!chatIds.length && !b.webhook.url) throw configError(config, "nothing to relay to: set [bot.telegram] chat_ids (and a token) or [bot.webhook] url", "bot");
  if (b.retry_delay > b.retry_delay_max) throw configError(config, "must not exceed retry_delay_max", "bot.retry_delay");
  return {
    broker: config.amqp,
    topology: {
      queue: b.queue,
      queueType: b.queue_type,
      exchange: b.exchange || config.file.notifier.exchange,
      declareExchange: true,
      routingKeys: b.routing_keys,
      deadLetterExchange: config.amqp.deadLetterExchange,
      // redeliveries after reconnects must not dead-letter a message that only waited for Telegram
      deliveryLimit: 1000,
      delaysMs: [],
    },
    prefetch: b.prefetch,
    retryDelayMs: b.retry_delay * 1000,
    retryDelayMaxMs: b.retry_delay_max * 1000,
    telegram: chatIds.length
      ? { apiUrl: t.api_url.replace(/\/+$/, ""), token: config.botToken!, chatIds, rateLimit: t.rate_limit, rateWindowMs: t.rate_window * 1000, timeoutMs: t.timeout * 1000 }
      : undefined,
    webhook: b.webhook.url ? { url: b.webhook.url, timeoutMs: b.webhook.timeout * 1000 } : undefined,
  };
}
