/**
 * The relay on the real RabbitMQ, Telegram and the webhook played by a local server: order per
 * chat, the rate limit (a 1-second window in tests), retry_after, a 500 survived, acked only
 * after the API took the message, content refused for good dead-lettered, the token never logged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { connectBroker, publishConfirmed } from "../../src/amqp";
import { Relay, resolveBotSettings } from "../../src/bot";
import { parseConfigText, resolveConfig } from "../../src/config";
import type { Fields, Logger } from "../../src/log";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI } from "../helpers/cli";
import { FakeApi, type Answer, type Seen } from "./_fake";

// the default vhost with names of this run (rabbitmqctl costs seconds a call): queues and the exchange are deleted afterwards
const TOKEN = "123456:TEST-secret-token";
const RUN = `${process.pid}-${Date.now().toString(36)}`;
const EXCHANGE = `test.bot.notify.${RUN}`;
const Q = (name: string) => `test-bot-${name}-${RUN}`;

const BROKER_UP = await new Promise<boolean>((resolve) => {
  const s = connect({ host: "127.0.0.1", port: 5672 });
  s.once("connect", () => (s.destroy(), resolve(true)));
  s.once("error", () => resolve(false));
});
if (!BROKER_UP) console.warn("tests/bot: no RabbitMQ on 127.0.0.1:5672; relay tests are skipped");

const broker = { host: "127.0.0.1", port: 5672, vhost: "/", username: "guest", password: "guest", tls: false, heartbeat: 10, connectTimeoutMs: 5000, reconnectDelayMs: 100, reconnectDelayMaxMs: 1000 };
let conn: ChannelModel;
let ch: ConfirmChannel;
const queues: string[] = [];

const client = {
  publish: (exchange: string, key: string, body: unknown) =>
    publishConfirmed(ch, exchange, key, Buffer.from(typeof body === "string" ? body : JSON.stringify(body)), { contentType: "application/json" }),
  depth: async (queue: string) => (await client.check(queue)).messageCount,
  check: async (queue: string) => {
    const c = await conn.createChannel();
    c.on("error", () => {});
    try {
      return await c.checkQueue(queue);
    } finally {
      await c.close().catch(() => {});
    }
  },
};

async function until<T>(check: () => T | Promise<T>, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

interface Recorded {
  level: string;
  msg: string;
  fields?: Fields;
}

function recordingLogger(lines: Recorded[]): Logger {
  const rec = (level: string) => (msg: string, fields?: Fields) => void lines.push({ level, msg, fields });
  return { error: rec("error"), warn: rec("warn"), info: rec("info"), debug: rec("debug"), trace: rec("trace"), child: () => recordingLogger(lines) };
}

beforeAll(async () => {
  if (!BROKER_UP) return;
  conn = await connectBroker(broker, "test client");
  conn.on("error", () => {});
  ch = await conn.createConfirmChannel();
  ch.on("error", () => {});
  await ch.assertExchange(EXCHANGE, "topic", { durable: true, autoDelete: false });
}, 60_000);

afterAll(async () => {
  if (!BROKER_UP) return;
  for (const q of queues) {
    await ch.deleteQueue(q).catch(() => {});
    await ch.deleteQueue(`${q}.dead`).catch(() => {});
  }
  await ch.deleteExchange(EXCHANGE).catch(() => {});
  await ch.deleteExchange(`${EXCHANGE}.dlx`).catch(() => {});
  await conn.close().catch(() => {});
}, 60_000);

function relayFor(api: FakeApi, name: string, lines: Recorded[], extra = ""): Relay {
  const queue = Q(name);
  if (!queues.includes(queue)) queues.push(queue);
  const text = `
[amqp]
host = "127.0.0.1"
vhost = "/"
dead_letter_exchange = "${EXCHANGE}.dlx"
reconnect_delay = 0.1
reconnect_delay_max = 1
[notifier]
exchange = "${EXCHANGE}"
[bot]
queue = "${queue}"
retry_delay = 0.05
retry_delay_max = 0.2
[bot.telegram]
api_url = "${api.url}"
token = "${TOKEN}"
chat_ids = [-1001]
rate_limit = 3
rate_window = 1
timeout = 5
${extra}
`;
  const config = resolveConfig(parseConfigText(text, "bot.toml"), null, {});
  return new Relay(resolveBotSettings(config), recordingLogger(lines));
}

const note = (i: number, extra: Record<string, unknown> = {}) => ({ subject: "repo", severity: "CRITICAL", type: "SERVICE_WORKER_ERROR", message: `failure ${i}`, timestamp: 1700000000 + i, payload: { n: i }, ...extra });
const sendPath = `/bot${TOKEN}/sendMessage`;

describe.skipIf(!BROKER_UP)("altrepodb bot relay", () => {
  test("order per chat, at most rate_limit per window, a 500 and a 429 with retry_after survived, the webhook too", async () => {
    const api = new FakeApi();
    const hook = new FakeApi();
    const answers = new Map<Seen, number>();
    // the third request fails with 500, the fifth with 429 retry_after = 1
    let n = 0;
    api.decide = (s) => {
      n++;
      const a: Answer = n === 3 ? { status: 500, body: { ok: false, description: "Internal Server Error" } } : n === 5 ? { status: 429, body: { ok: false, error_code: 429, description: "Too Many Requests: retry after 1", parameters: { retry_after: 1 } } } : { status: 200, body: { ok: true } };
      answers.set(s, a.status);
      return a;
    };
    const lines: Recorded[] = [];
    const relay = relayFor(api, "order", lines, `[bot.webhook]\nurl = "${hook.url}/hook"\n`);
    relay.start();
    try {
      await until(() => relay.stats().state === "running", 15_000, "relay running");
      for (let i = 1; i <= 7; i++) await client.publish(EXCHANGE, "service_worker_error.critical", note(i));
      await until(() => relay.stats().relayed === 7, 30_000, "7 relayed");
      const ok = api.seen.filter((s) => answers.get(s) === 200);
      expect(ok.map((s) => s.path)).toEqual(Array(7).fill(sendPath));
      expect(ok.map((s) => (s.body.text as string).split("\n")[3])).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `failure ${i}`));
      expect(ok[0]!.body).toMatchObject({ chat_id: "-1001", parse_mode: "HTML" });
      expect(ok[0]!.body.text).toContain("[CRITICAL] SERVICE_WORKER_ERROR in <b>repo</b>");
      // every API call counts: no 1-second window holds more than 3
      const times = api.seen.map((s) => s.at);
      for (const t of times) expect(times.filter((x) => x >= t && x < t + 1000).length).toBeLessThanOrEqual(3);
      // the retry after the 429 waited for retry_after (1 s)
      const i429 = api.seen.findIndex((s) => answers.get(s) === 429);
      expect(api.seen[i429 + 1]!.at - api.seen[i429]!.at).toBeGreaterThanOrEqual(950);
      expect(relay.stats()).toMatchObject({ received: 7, relayed: 7, refused: 0, retries: 2, pending: 0 });
      // the webhook got the notifier's JSON itself, in order
      expect(hook.seen.map((s) => s.body.message)).toEqual([1, 2, 3, 4, 5, 6, 7].map((i) => `failure ${i}`));
      expect(await client.depth(Q("order"))).toBe(0);
      const text = lines.map((l) => `${l.msg} ${JSON.stringify(l.fields ?? {})}`).join("\n");
      expect(text).toContain("bot: telegram -1001 did not take a notification (service_worker_error.critical): HTTP 500: Internal Server Error; trying again");
      expect(text).not.toContain("TEST-secret-token");
    } finally {
      await relay.stop();
      api.stop();
      hook.stop();
    }
  }, 60_000);

  test("acknowledged only after the API took it: a relay stopped while the API fails leaves the message queued", async () => {
    const api = new FakeApi();
    api.decide = () => ({ status: 502, body: { ok: false, description: "Bad Gateway" } });
    const lines: Recorded[] = [];
    const first = relayFor(api, "ack", lines);
    first.start();
    await until(() => first.stats().state === "running", 15_000, "relay running");
    await client.publish(EXCHANGE, "service_error.warning", note(1, { type: "SERVICE_ERROR", payload: "b'{\"x\": 1}'" }));
    await until(() => api.seen.length >= 2, 15_000, "two failed attempts");
    expect(first.stats()).toMatchObject({ relayed: 0, pending: 1 });
    // a short grace: the API keeps failing, nothing will be answered
    await first.stop(200);
    await until(async () => (await client.depth(Q("ack"))) === 1, 15_000, "message back in the queue");
    api.decide = undefined;
    const second = relayFor(api, "ack", lines);
    second.start();
    try {
      await until(() => second.stats().relayed === 1, 15_000, "relayed after the restart");
      const last = api.seen[api.seen.length - 1]!;
      expect(last.body.text).toContain('<pre>{\n    "x": 1\n}</pre>');
      expect(await client.depth(Q("ack"))).toBe(0);
    } finally {
      await second.stop();
      api.stop();
    }
  }, 60_000);

  test("content refused for good (400 with and without HTML) is dead-lettered; the next message still goes", async () => {
    const api = new FakeApi();
    api.decide = (s) => ((s.body.text as string).includes("poison") ? { status: 400, body: { ok: false, description: "Bad Request: can't parse entities" } } : undefined);
    const lines: Recorded[] = [];
    const relay = relayFor(api, "dead", lines);
    relay.start();
    try {
      await until(() => relay.stats().state === "running", 15_000, "relay running");
      await client.publish(EXCHANGE, "service_worker_error.critical", note(1, { message: "poison" }));
      await client.publish(EXCHANGE, "service_worker_error.critical", "not json: fine");
      await until(() => relay.stats().relayed === 1 && relay.stats().refused === 1, 15_000, "one relayed, one refused");
      expect(api.seen.filter((s) => (s.body.text as string).includes("poison")).map((s) => s.body.parse_mode ?? "plain")).toEqual(["HTML", "plain"]);
      expect(api.seen[api.seen.length - 1]!.body.text).toBe("A notification that is not JSON (service_worker_error.critical):\n<pre>not json: fine</pre>");
      await until(async () => (await client.depth(`${Q("dead")}.dead`)) === 1, 15_000, "dead letter");
      expect(lines.some((l) => l.level === "error" && l.msg.includes("bot: telegram -1001 refused a notification (service_worker_error.critical) for good: HTTP 400"))).toBe(true);
    } finally {
      await relay.stop();
      api.stop();
    }
  }, 60_000);

  test("an API that is down: retried, logged without the token", async () => {
    const api = new FakeApi();
    const url = api.url;
    api.stop();
    const lines: Recorded[] = [];
    const relay = relayFor(api, "down", lines);
    relay.start();
    try {
      await until(() => relay.stats().state === "running", 15_000, "relay running");
      await client.publish(EXCHANGE, "service_error.warning", note(1));
      await until(() => relay.stats().retries >= 2, 15_000, "retries");
      const text = lines.map((l) => `${l.msg} ${JSON.stringify(l.fields ?? {})}`).join("\n");
      expect(text).toContain("bot: telegram -1001 did not take a notification");
      expect(text).not.toContain("TEST-secret-token");
      expect(url).toStartWith("http://127.0.0.1:");
    } finally {
      await relay.stop(200);
    }
  }, 60_000);

  test("altrepodb bot as a process: relays, and SIGTERM stops it with exit 0", async () => {
    const api = new FakeApi();
    const queue = Q("cli");
    queues.push(queue);
    const dir = mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, "bot-cli-"));
    const config = join(dir, "bot.toml");
    writeFileSync(
      config,
      `[amqp]\nhost = "127.0.0.1"\nvhost = "/"\ndead_letter_exchange = "${EXCHANGE}.dlx"\n[notifier]\nexchange = "${EXCHANGE}"\n[bot]\nqueue = "${queue}"\n[bot.telegram]\napi_url = "${api.url}"\nchat_ids = ["@altrepo"]\n`,
    );
    const proc = Bun.spawn([...CLI, "-c", config, "bot"], { env: { ...process.env, ALTREPODB_BOT_TOKEN: TOKEN }, stdout: "pipe", stderr: "pipe" });
    try {
      await until(async () => (await client.check(queue).catch(() => ({ consumerCount: 0 }))).consumerCount === 1, 30_000, "the relay consuming");
      await client.publish(EXCHANGE, "service_error.warning", note(1, { type: "SERVICE_ERROR", severity: "WARNING", payload: { state: "FAILED", reason: "dead workers" } }));
      await until(() => api.seen.length === 1, 30_000, "the relayed message");
      expect(api.seen[0]!.body).toMatchObject({ chat_id: "@altrepo", parse_mode: "HTML" });
      expect(api.seen[0]!.body.text).toContain('"reason": "dead workers"');
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    const stderr = await new Response(proc.stderr).text();
    expect(stderr).toContain("bot stopped: 1 received, 1 relayed");
    expect(stderr).not.toContain("TEST-secret-token");
    api.stop();
  }, 60_000);
});
