/**
 * selftest: a service that writes one row per message into daemon_selftest, idempotently (a
 * message delivered twice leaves one row). For checking a deployment end to end
 * (`altrepodb amqpfire selftest ID`) and for the daemon's own tests, which also use its knobs:
 * sleep_ms (a slow load), fail_attempts (fail the first N tries), invalid (a refused message),
 * key (messages with one key never run at once).
 */
import * as v from "valibot";
import { quoteString } from "../../db";
import { InputError } from "../../loaders/errors";
import { sleep } from "../../amqp";
import type { ServiceModule } from "../types";

export const SELFTEST_TABLE = "daemon_selftest";

const Payload = v.object({
  id: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  sleep_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3_600_000)), 0),
  fail_attempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  invalid: v.optional(v.boolean(), false),
  /** Messages with the same key never run at once (like two loads of one task). */
  key: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(200))),
});
type Payload = v.InferOutput<typeof Payload>;

const Options = v.strictObject({});

async function ensureTable(db: import("../../db").Db): Promise<void> {
  await db.command(
    `CREATE TABLE IF NOT EXISTS ${SELFTEST_TABLE} (id String, routing_key String, attempt UInt32, done_at DateTime64(3) DEFAULT now64(3)) ENGINE = ReplacingMergeTree ORDER BY id`,
  );
}

export const selftest: ServiceModule<Payload, v.InferOutput<typeof Options>> = {
  name: "selftest",
  description: "Writes one row per message into daemon_selftest (deployment check)",
  defaults: { queue: "altrepodb-selftest-q", exchange: "repodb-ex", routingKeys: ["selftest.run"] },
  schema: (key) => (key === "selftest.run" ? Payload : undefined),
  options: Options,
  key: (msg) => msg.payload.key,
  async handle(ctx, msg) {
    const p = msg.payload;
    if (p.invalid) throw new InputError(`selftest message ${p.id} asks to be refused`);
    if (p.sleep_ms > 0 && !(await sleep(p.sleep_ms, ctx.signal))) throw new Error("stopped while sleeping");
    if (msg.attempt <= p.fail_attempts) throw new Error(`selftest failure on try ${msg.attempt} of ${p.fail_attempts + 1}`);
    await ensureTable(ctx.db);
    const seen = await ctx.db.query<{ n: number | bigint }>(`SELECT count() AS n FROM ${SELFTEST_TABLE} WHERE id = ${quoteString(p.id)}`);
    if (Number(seen[0]?.n ?? 0) > 0) return { summary: `selftest ${p.id} already written`, skipped: true };
    await ctx.db.command(`INSERT INTO ${SELFTEST_TABLE} (id, routing_key, attempt) VALUES (${quoteString(p.id)}, ${quoteString(msg.routingKey)}, ${msg.attempt})`);
    return { summary: `selftest ${p.id} written`, rows: { [SELFTEST_TABLE]: 1 } };
  },
  fire: [
    {
      name: "selftest",
      usage: "<id> [sleep-ms] [fail-attempts]",
      description: "A selftest message: one row in daemon_selftest",
      build(args) {
        if (args.length < 1 || args.length > 3) throw new Error("selftest takes <id> [sleep-ms] [fail-attempts]");
        const num = (s: string | undefined, what: string) => {
          if (s === undefined) return undefined;
          if (!/^\d+$/.test(s)) throw new Error(`${what} must be a whole number, got ${JSON.stringify(s)}`);
          return Number(s);
        };
        return { routingKey: "selftest.run", payload: { id: args[0], sleep_ms: num(args[1], "sleep-ms"), fail_attempts: num(args[2], "fail-attempts") } };
      },
    },
  ],
};
