/**
 * The `[bot]` section: the notification relay (`altrepodb bot`, or the daemon with enabled =
 * true). Imports nothing of the project, so src/config can use it.
 */
import * as v from "valibot";

const positiveSeconds = v.pipe(v.number(), v.minValue(0.001));
const amqpName = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:@-]*$/, "letters, digits and _ . : @ -"));

export const TelegramSchema = v.strictObject({
  /** Bot API base (a local fake in tests). */
  api_url: v.optional(v.pipe(v.string(), v.url()), "https://api.telegram.org"),
  /** Secret: better $ALTREPODB_BOT_TOKEN or token_file; never logged, masked by `config check`. */
  token: v.optional(v.string()),
  token_file: v.optional(v.string()),
  /** Chats every notification goes to (numbers or @channel names). */
  chat_ids: v.optional(v.array(v.union([v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.minLength(1))])), []),
  /** At most rate_limit messages per rate_window seconds per chat (Telegram: 20 a minute). */
  rate_limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 20),
  rate_window: v.optional(positiveSeconds, 60),
  /** Seconds for one request. */
  timeout: v.optional(positiveSeconds, 30),
});

export const WebhookSchema = v.strictObject({
  /** Every notification is POSTed here as JSON (empty: no webhook). */
  url: v.optional(v.string(), ""),
  timeout: v.optional(positiveSeconds, 30),
});

export const BotSchema = v.strictObject({
  /** The daemon runs the relay as well (`altrepodb bot` runs it whatever this says). */
  enabled: v.optional(v.boolean(), false),
  queue: v.optional(v.pipe(amqpName, v.minLength(1)), "altrepodb-bot-q"),
  queue_type: v.optional(v.picklist(["quorum", "classic"]), "quorum"),
  /** The notifier's exchange by default ([notifier] exchange). */
  exchange: v.optional(amqpName, ""),
  routing_keys: v.optional(v.pipe(v.array(v.pipe(v.string(), v.minLength(1))), v.minLength(1)), ["#"]),
  /** Messages taken from the queue ahead (they wait for the rate limit in order, unacked). */
  prefetch: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10000)), 100),
  /** Backoff of a failed send: retry_delay doubling up to retry_delay_max (429: Telegram's retry_after). */
  retry_delay: v.optional(positiveSeconds, 1),
  retry_delay_max: v.optional(positiveSeconds, 300),
  telegram: v.optional(TelegramSchema, {}),
  webhook: v.optional(WebhookSchema, {}),
});

export type BotFileConfig = v.InferOutput<typeof BotSchema>;
