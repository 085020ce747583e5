/**
 * The daemon with the repo service, [[triggers]] and the relay ([bot] enabled): a repo.load
 * message fires the triggers once (a failing one counted, the message still done), the status
 * shows them, and the relay takes the daemon's own notifications to a fake Bot API. The default
 * vhost with names of this run (deleted afterwards): rabbitmqctl is not needed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { connectBroker, publishConfirmed } from "../../src/amqp";
import { parseConfigText, resolveConfig } from "../../src/config";
import { Daemon } from "../../src/daemon/daemon";
import { renderMetrics } from "../../src/daemon/metrics";
import { parseExposition, PROMTOOL, promtoolCheck, valueOf } from "../daemon/_prom";
import type { Db } from "../../src/db";
import { log } from "../../src/log";
import { FakeApi } from "../bot/_fake";
import { edgeSnapshot, migratedDb } from "../repo/_snapshot";
import { recorder, script, scriptDir } from "./_scripts";

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const N = { services: `test.trig.repodb.${RUN}`, notify: `test.trig.notify.${RUN}`, dlx: `test.trig.dlx.${RUN}`, repoQ: `test-trig-repo-${RUN}`, botQ: `test-trig-bot-${RUN}` };

const BROKER_UP = await new Promise<boolean>((resolve) => {
  const s = connect({ host: "127.0.0.1", port: 5672 });
  s.once("connect", () => (s.destroy(), resolve(true)));
  s.once("error", () => resolve(false));
});
if (!BROKER_UP) console.warn("tests/triggers/daemon: no RabbitMQ on 127.0.0.1:5672; skipped");

let conn: ChannelModel;
let ch: ConfirmChannel;
let db: Db;
let snapshot: string;
let dir: string;

beforeAll(async () => {
  if (!BROKER_UP) return;
  snapshot = (await edgeSnapshot()).root;
  db = await migratedDb("trigd");
  dir = scriptDir("trig-daemon");
  conn = await connectBroker({ host: "127.0.0.1", port: 5672, vhost: "/", username: "guest", password: "guest", tls: false, heartbeat: 10, connectTimeoutMs: 5000, reconnectDelayMs: 100, reconnectDelayMaxMs: 1000 }, "test client");
  conn.on("error", () => {});
  ch = await conn.createConfirmChannel();
  ch.on("error", () => {});
}, 600_000);

afterAll(async () => {
  if (!BROKER_UP) return;
  for (const q of [N.repoQ, `${N.repoQ}.dead`, N.botQ, `${N.botQ}.dead`]) await ch.deleteQueue(q).catch(() => {});
  for (const e of [N.services, N.notify, N.dlx]) await ch.deleteExchange(e).catch(() => {});
  await conn.close().catch(() => {});
  await db?.close();
}, 60_000);

async function until<T>(check: () => T, ms: number, what: string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

describe.skipIf(!BROKER_UP)("triggers and the relay in the daemon", () => {
  test("a repo.load message fires its triggers once; the relay takes the daemon's notifications to Telegram", async () => {
    const api = new FakeApi();
    const rec = recorder(dir, "rec");
    const failing = script(dir, "failing.sh", "echo nope >&2\nexit 2");
    const text = `
[amqp]
host = "127.0.0.1"
vhost = "/"
reconnect_delay = 0.1
reconnect_delay_max = 1
dead_letter_exchange = "${N.dlx}"
[notifier]
exchange = "${N.notify}"
on_done = true
[daemon]
state_dir = "${dir}"
status_interval = 0.5
shutdown_grace = 5
restart_delay = 0.1
restart_delay_max = 1
[repo_dirs]
b1 = "${snapshot}"
[services.repo]
queue = "${N.repoQ}"
exchange = "${N.services}"
max_attempts = 1
[[triggers]]
name = "daemon-rec"
on = ["repo.load"]
run = ["${rec}"]
[[triggers]]
name = "daemon-failing"
on = ["repo.load"]
run = ["${failing}"]
[bot]
enabled = true
queue = "${N.botQ}"
retry_delay = 0.05
[bot.telegram]
api_url = "${api.url}"
token = "42:daemon-test-token"
chat_ids = [4242]
rate_window = 1
`;
    const config = resolveConfig(parseConfigText(text, "daemon.toml"), null, {});
    config.load.workers = 2;
    const daemon = new Daemon({ config, openDb: async () => db, log: log.child("trigd"), env: {} });
    await daemon.start();
    try {
      const repo = () => daemon.status().services.find((s) => s.name === "repo")!;
      await until(() => repo().state === "running" && daemon.status().bot?.state === "running", 30_000, "repo service and relay running");
      await publishConfirmed(ch, N.services, "repo.load", Buffer.from(JSON.stringify({ branch: "b1", date: "2026-11-22" })), { contentType: "application/json" });
      await publishConfirmed(ch, N.services, "repo.load", Buffer.from(JSON.stringify({ branch: "nope", date: "2026-11-22" })), { contentType: "application/json" });
      const trig = (name: string) => daemon.status().triggers?.find((t) => t.name === name);
      await until(() => trig("daemon-rec")?.ok === 1 && trig("daemon-failing")?.failed === 1, 300_000, "both triggers");
      expect(repo()).toMatchObject({ done: 1, dead_lettered: 1 });
      expect(JSON.parse(readFileSync(join(dir, "rec.in"), "utf8"))).toMatchObject({ branch: "b1", date: "2026-11-22", complete: true });
      expect(readFileSync(join(dir, "rec.count"), "utf8")).toBe("run\n");
      expect(trig("daemon-failing")!.last_error!.message).toBe(`${failing}: exit 2: nope`);
      // the done and the dead-lettered notifications, relayed in the order they were published
      await until(() => daemon.status().bot!.relayed >= 2, 60_000, "two notifications relayed");
      const texts = api.seen.map((s) => s.body.text as string);
      expect(texts.some((t) => t.includes("[INFO] MESSAGE in <b>repo</b>") && t.includes("b1 2026-11-22"))).toBe(true);
      expect(texts.some((t) => t.includes("[CRITICAL] SERVICE_WORKER_ERROR in <b>repo</b>") && t.includes('"branch": "nope"'))).toBe(true);
      expect(api.seen.every((s) => s.body.chat_id === "4242")).toBe(true);
      // the metrics of the same status: strict reader and promtool
      const text = renderMetrics({ status: daemon.status(), database: { up: true }, broker: { up: true }, queues: [], process: { startTimeSeconds: 1, residentBytes: 1, cpuSeconds: 1 } });
      const m = parseExposition(text);
      expect(valueOf(m, "altrepodb_trigger_runs_total", { trigger: "daemon-rec", outcome: "ok" })).toBe(1);
      expect(valueOf(m, "altrepodb_trigger_runs_total", { trigger: "daemon-failing", outcome: "failed" })).toBe(1);
      expect(valueOf(m, "altrepodb_bot_up")).toBe(1);
      expect(valueOf(m, "altrepodb_bot_notifications_total", { outcome: "relayed" })).toBeGreaterThanOrEqual(2);
      if (PROMTOOL) expect(promtoolCheck(text)).toMatchObject({ ok: true });
    } finally {
      await daemon.stop();
      api.stop();
    }
    // counters survive in the status file for `daemon status`
    const st = JSON.parse(readFileSync(join(dir, "status.json"), "utf8"));
    expect(st.triggers.map((t: { name: string }) => t.name).sort()).toEqual(["daemon-failing", "daemon-rec"]);
    expect(st.bot.relayed).toBeGreaterThanOrEqual(2);
  }, 600_000);
});
