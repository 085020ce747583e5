/**
 * The metrics listener on its own (no daemon): a database check or a broker that never answers
 * does not hold a scrape (database_up/broker_up 0 instead), concurrent scrapes share one
 * collection, a queue that does not exist is left out while the others are reported, and
 * stop() closes the port and waits for a running scrape.
 */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createServer, type Server } from "node:net";
import { MetricsServer, type MetricsSource, type QueueRef } from "../../src/daemon/metrics-server";
import type { DaemonStatus } from "../../src/daemon/status";
import { BROKER_UP, brokerOptions, connectionNames, makeVhost, until } from "../amqp/_broker";
import { recordingLogger, TestClient, type Recorded } from "./_daemon";
import { parseExposition, valueOf } from "./_prom";

setDefaultTimeout(60_000);

const status = (): DaemonStatus => ({
  pid: process.pid,
  version: "test",
  state: "running",
  started_at: new Date().toISOString(),
  updated_at: new Date().toISOString(),
  config: null,
  status_interval_ms: 1000,
  database: { healthy: true },
  notifier: { enabled: false, connected: false, pending: 0, published: 0, dropped: 0 },
  services: [],
});

/** A TCP port that accepts connections and never says a word (a hung broker). */
let mute: Server;
let mutePort = 0;
beforeAll(async () => {
  mute = createServer(() => {});
  await new Promise<void>((resolve) => mute.listen(0, "127.0.0.1", resolve));
  mutePort = (mute.address() as { port: number }).port;
});
afterAll(() => mute?.close());

function serve(source: Partial<MetricsSource>, lines: Recorded[] = []): { server: MetricsServer; url: string } {
  const server = new MetricsServer(
    {
      status,
      queues: () => [],
      broker: () => brokerOptions("/", { port: mutePort, connectTimeoutMs: 300 }),
      databaseUp: async () => true,
      ...source,
    },
    recordingLogger(lines),
  );
  const r = server.listen({ host: "127.0.0.1", port: 0, text: "127.0.0.1:0" });
  if (!r.url) throw new Error(r.error);
  return { server, url: r.url };
}

describe("metrics listener", () => {
  test("a database check that never answers and a broker that never speaks: the scrape still answers, both down", async () => {
    const { server, url } = serve({ databaseUp: () => new Promise<boolean>(() => {}), queues: () => [{ service: "s", queue: "q", kind: "main" }] });
    try {
      const p = parseExposition(await (await fetch(url)).text());
      expect(valueOf(p, "altrepodb_database_up")).toBe(0);
      expect(valueOf(p, "altrepodb_broker_up")).toBe(0);
      expect(p.samples.some((s) => s.name === "altrepodb_queue_messages")).toBe(false);
    } finally {
      await server.stop();
    }
  });

  test("a failing database check is database_up 0; concurrent scrapes share one collection", async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { server, url } = serve({
      databaseUp: async () => {
        calls++;
        await gate;
        throw new Error("refused");
      },
      broker: () => brokerOptions("/", { port: mutePort, connectTimeoutMs: 50 }),
    });
    try {
      const scrapes = [fetch(url), fetch(url), fetch(url)];
      while (calls === 0) await Bun.sleep(10);
      release();
      const texts = await Promise.all(scrapes.map(async (r) => (await r).text()));
      expect(calls).toBe(1);
      for (const t of texts) expect(valueOf(parseExposition(t), "altrepodb_database_up")).toBe(0);
      // the next scrape asks again
      await fetch(url);
      expect(calls).toBe(2);
    } finally {
      await server.stop();
    }
  });

  test("stop() waits for a running scrape, then the port is closed", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let finished = false;
    const { server, url } = serve({
      databaseUp: async () => {
        await gate;
        finished = true;
        return true;
      },
    });
    const pending = fetch(url).catch(() => undefined);
    await Bun.sleep(100);
    const stopped = server.stop();
    let stopDone = false;
    void stopped.then(() => (stopDone = true));
    await Bun.sleep(100);
    expect(stopDone).toBe(false);
    release();
    await stopped;
    expect(finished).toBe(true);
    await pending;
    expect(await fetch(url).then(() => "answered", () => "refused")).toBe("refused");
  });

  test("an address in use is reported, not thrown", () => {
    const squatter = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    try {
      const server = new MetricsServer({ status, queues: () => [], broker: () => brokerOptions("/"), databaseUp: async () => true }, recordingLogger([]));
      expect(server.listen({ host: "127.0.0.1", port: squatter.port!, text: `127.0.0.1:${squatter.port}` })).toEqual({ error: `cannot listen on 127.0.0.1:${squatter.port}: address already in use` });
      expect(server.listening).toBe(false);
    } finally {
      squatter.stop(true);
    }
  });
});

describe.skipIf(!BROKER_UP)("metrics listener with the real broker", () => {
  let vh: ReturnType<typeof makeVhost>;
  beforeAll(() => {
    vh = makeVhost("mserver");
  });
  afterAll(() => vh?.remove());

  test("depths of existing queues; a missing queue is left out, the broker is still up; the connection is kept between scrapes", async () => {
    const client = await TestClient.forVhost(vh.vhost);
    try {
      await client.ch.assertQueue("ms-main", { durable: true });
      for (let i = 0; i < 3; i++) await client.publish("", "ms-main", { i });
      const refs: QueueRef[] = [
        { service: "s", queue: "ms-main", kind: "main" },
        { service: "s", queue: "ms-missing", kind: "dead" },
      ];
      const { server, url } = serve({ queues: () => refs, broker: () => brokerOptions(vh.vhost) });
      try {
        for (let round = 0; round < 2; round++) {
          const p = parseExposition(await (await fetch(url)).text());
          expect(valueOf(p, "altrepodb_broker_up")).toBe(1);
          expect(valueOf(p, "altrepodb_queue_messages", { queue: "ms-main", kind: "main" })).toBe(3);
          expect(valueOf(p, "altrepodb_queue_consumers", { queue: "ms-main" })).toBe(0);
          expect(valueOf(p, "altrepodb_queue_messages", { queue: "ms-missing" })).toBeUndefined();
        }
        expect(connectionNames(vh.vhost).filter((n) => n === "altrepodb daemon: metrics").length).toBe(1);
      } finally {
        await server.stop();
      }
      await until(() => !connectionNames(vh.vhost).includes("altrepodb daemon: metrics"), 10_000, "the metrics connection closed");
    } finally {
      await client.close();
    }
  });
});
