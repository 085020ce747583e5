/**
 * Where a message ends when things go wrong around it (real broker, embedded database):
 * a republish the broker refuses, our own shutdown requeueing a long message again and again,
 * a second stop signal during the grace, two messages for the same key at once.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { Daemon } from "../../src/daemon/daemon";
import { HEADER } from "../../src/daemon/headers";
import { REGISTRY } from "../../src/daemon/services";
import { selftest, SELFTEST_TABLE } from "../../src/daemon/services/selftest";
import type { DaemonStatus } from "../../src/daemon/status";
import type { Registry } from "../../src/daemon/settings";
import type { Db } from "../../src/db";
import { testDb } from "../helpers/db";
import { BROKER_UP, makeVhost, rabbitmqctl, until } from "../amqp/_broker";
import { daemonConfig, FlakyDb, recordingLogger, scratch, TestClient, type Recorded } from "./_daemon";

setDefaultTimeout(90_000);

let vh: ReturnType<typeof makeVhost>;
let client: TestClient;
let db: Db;

beforeAll(async () => {
  if (!BROKER_UP) return;
  vh = makeVhost("fate");
  client = await TestClient.forVhost(vh.vhost);
  db = await testDb("fate");
});
afterAll(async () => {
  await client?.close();
  vh?.remove();
});

let seq = 0;

interface Running {
  daemon: Daemon;
  flaky: FlakyDb;
  lines: Recorded[];
  queue: string;
  exchange: string;
  service(): DaemonStatus["services"][number];
}

/** serviceToml plus the test defaults for the keys it does not set. */
function withDefaults(serviceToml: string): string {
  const defaults: Record<string, string> = { max_attempts: "3", retry_delay: "0.2", retry_delay_max: "1" };
  const set = new Set([...serviceToml.matchAll(/^(\w+)\s*=/gm)].map((m) => m[1]));
  return Object.entries(defaults).filter(([k]) => !set.has(k)).map(([k, v]) => `${k} = ${v}\n`).join("") + serviceToml;
}

/** A daemon with one selftest service; `n` reuses the queue of an earlier start. */
async function startDaemon(opts: { serviceToml?: string; extra?: string; registry?: Registry; n?: number } = {}): Promise<Running> {
  const n = opts.n ?? ++seq;
  const queue = `f-${n}-q`;
  const exchange = `f-${n}-ex`;
  const config = daemonConfig(
    vh.vhost,
    scratch("fstate"),
    `[services.selftest]\nqueue = "${queue}"\nexchange = "${exchange}"\nrouting_keys = ["selftest.#"]\n${withDefaults(opts.serviceToml ?? "")}`,
    opts.extra ?? "",
  );
  const lines: Recorded[] = [];
  const flaky = new FlakyDb(db);
  const daemon = new Daemon({ config, registry: opts.registry, openDb: async () => flaky, log: recordingLogger(lines), env: {} });
  await daemon.start();
  const service = () => daemon.status().services[0];
  await until(() => service().state === "running", 10_000, "the service to run");
  return { daemon, flaky, lines, queue, exchange, service };
}

async function rowsOf(ids: string[]): Promise<Map<string, number>> {
  const list = ids.map((i) => `'${i}'`).join(",");
  const r = await db.query<{ id: string; n: bigint }>(`SELECT id, count() AS n FROM ${SELFTEST_TABLE} WHERE id IN (${list}) GROUP BY id`);
  return new Map(r.map((x) => [x.id, Number(x.n)]));
}

describe.skipIf(!BROKER_UP)("message fate (in process, selftest service)", () => {
  test("a dead letter the broker refuses (full dead-letter queue) is not left unacked: the message is put back, status shows it, other messages go on, and it is dead-lettered once there is room", async () => {
    const d = await startDaemon({ serviceToml: "workers = 2\n" });
    const dead = `${d.queue}.dead`;
    const policy = `full-${d.queue}`;
    const limit = (n: number) => rabbitmqctl("set_policy", "-p", vh.vhost, policy, `^${d.queue.replace(/[.-]/g, "\\$&")}\\.dead$`, `{"max-length":${n},"overflow":"reject-publish"}`, "--apply-to", "queues").ok;
    expect(limit(1)).toBe(true);
    try {
      // fill the dead-letter queue until the broker refuses (quorum queues take one more than max-length)
      await until(async () => {
        try {
          await client.publish("", dead, { filler: true });
          return false;
        } catch {
          return true;
        }
      }, 10_000, "the dead-letter queue to be full");
      const bad = `refused-${d.queue}`;
      await client.publish(d.exchange, "selftest.run", { id: bad, invalid: true });
      await until(() => d.service().republish_refused >= 1, 10_000, "a refused republish in the status");
      expect(d.service().last_error?.message).toContain("refused");
      // the service keeps consuming
      const good = `after-refusal-${d.queue}`;
      await client.publish(d.exchange, "selftest.run", { id: good });
      await until(() => d.service().done === 1, 10_000, "a good message after the refusal");
      // room again: the refused message ends in the dead-letter queue with our headers
      // (a quorum queue keeps its max-length when the policy is cleared: raise it instead)
      expect(limit(1000)).toBe(true);
      await until(() => d.service().dead_lettered === 1, 20_000, "the dead letter once there is room");
      const got = await until(async () => {
        const all = (await client.drain(dead)).filter((m) => !m.body.includes("filler"));
        return all.length ? all : undefined;
      }, 5000, "the dead letter");
      expect(JSON.parse(got[0].body).id).toBe(bad);
      expect(got[0].headers).toMatchObject({ [HEADER.reason]: "invalid", [HEADER.service]: "selftest" });
      await until(async () => (await client.depth(d.queue)) === 0 && d.service().in_flight === 0, 10_000, "an empty queue");
    } finally {
      rabbitmqctl("clear_policy", "-p", vh.vhost, policy);
      await d.daemon.stop();
    }
  });

  test("requeues by our own shutdown do not count toward the delivery limit: a long message survives more restarts than delivery_limit", async () => {
    const n = ++seq;
    const id = `long-${n}`;
    const serviceToml = "delivery_limit = 2\n";
    for (let round = 0; round < 4; round++) {
      const d = await startDaemon({ serviceToml, n });
      (d.daemon as unknown as { settings: { shutdownGraceMs: number } }).settings.shutdownGraceMs = 100;
      if (round === 0) await client.publish(d.exchange, "selftest.run", { id, sleep_ms: 60_000 });
      await until(() => d.service().in_flight === 1, 10_000, `the message to start (round ${round + 1})`);
      await d.daemon.stop();
      expect(d.service().requeued).toBe(1);
    }
    expect(await client.depth(`f-${n}-q.dead`)).toBe(0);
    expect(await until(() => client.depth(`f-${n}-q`), 5000, "the message back in its queue")).toBe(1);
    const [m] = await client.drain(`f-${n}-q`);
    expect(JSON.parse(m.body).id).toBe(id);
    expect(m.headers[HEADER.requeues]).toBe(4);
    expect(m.headers[HEADER.routingKey]).toBe("selftest.run");
  });

  test("database down without delay queues (max_attempts = 1): deferred messages go back to the queue by republishing, not by a nack the delivery limit counts", async () => {
    const d = await startDaemon({ serviceToml: "max_attempts = 1\ndelivery_limit = 1\n" });
    d.flaky.down = true;
    const id = `deferred-${d.queue}`;
    await client.publish(d.exchange, "selftest.run", { id });
    await until(() => d.service().state === "paused" && d.service().in_flight === 0, 10_000, "the pause");
    // (the copy may come back once before the consumer is cancelled)
    expect(d.service().deferred).toBeGreaterThanOrEqual(1);
    d.flaky.down = false;
    await until(() => d.service().done === 1, 20_000, "the message once the database is back");
    expect((await rowsOf([id])).get(id)).toBe(1);
    expect(await client.depth(`${d.queue}.dead`)).toBe(0);
    await d.daemon.stop();
  });

  test("a second stop skips the grace at once; the running message is requeued", async () => {
    const d = await startDaemon({ extra: "" });
    (d.daemon as unknown as { settings: { shutdownGraceMs: number } }).settings.shutdownGraceMs = 60_000;
    await client.publish(d.exchange, "selftest.run", { id: `hurry-${d.queue}`, sleep_ms: 60_000 });
    await until(() => d.service().in_flight === 1, 10_000, "the message to start");
    const t0 = Date.now();
    const stopped = d.daemon.stop();
    await Bun.sleep(300);
    d.daemon.hurry();
    const within = await Promise.race([stopped.then(() => true), Bun.sleep(10_000).then(() => false)]);
    expect(within).toBe(true);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(d.service()).toMatchObject({ done: 0, failed: 0, dead_lettered: 0, requeued: 1 });
    expect(await until(() => client.depth(d.queue), 5000, "the requeued message")).toBe(1);
    await client.drain(d.queue);
  });

  test("two messages with the same key never run at once (workers = 2); other keys run alongside", async () => {
    let running = new Map<string, number>();
    const overlaps: string[] = [];
    let maxTotal = 0;
    let total = 0;
    const keyed = {
      ...selftest,
      async handle(ctx: Parameters<typeof selftest.handle>[0], msg: Parameters<typeof selftest.handle>[1]) {
        const k = msg.payload.id.split("/")[0];
        running.set(k, (running.get(k) ?? 0) + 1);
        if (running.get(k)! > 1) overlaps.push(k);
        maxTotal = Math.max(maxTotal, ++total);
        try {
          return await selftest.handle(ctx, msg);
        } finally {
          running.set(k, running.get(k)! - 1);
          total--;
        }
      },
    };
    const d = await startDaemon({ serviceToml: "workers = 2\n", registry: { ...REGISTRY, selftest: keyed } });
    // the id starts with the key, so the wrapper sees overlaps whatever the runner does
    const ids = [`task 1/a/${d.queue}`, `task 1/b/${d.queue}`, `task 2/c/${d.queue}`, `task 3/d/${d.queue}`];
    await client.publish(d.exchange, "selftest.run", { id: ids[0], key: "task 1", sleep_ms: 400 });
    await client.publish(d.exchange, "selftest.run", { id: ids[1], key: "task 1", sleep_ms: 400 });
    await until(() => d.service().done === 2, 10_000, "the two messages of one key");
    expect(overlaps).toEqual([]);
    await client.publish(d.exchange, "selftest.run", { id: ids[2], key: "task 2", sleep_ms: 400 });
    await client.publish(d.exchange, "selftest.run", { id: ids[3], key: "task 3", sleep_ms: 400 });
    await until(() => d.service().done === 4, 10_000, "two messages of other keys");
    expect(maxTotal).toBe(2);
    expect(overlaps).toEqual([]);
    const rows = await rowsOf(ids);
    expect(ids.every((id) => rows.get(id) === 1)).toBe(true);
    running = new Map();
    await d.daemon.stop();
  });
});
