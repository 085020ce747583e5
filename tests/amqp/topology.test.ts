/** The service topology: what is declared, and that it works on the real broker. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { connectBroker, deadQueueName, declareTopology, delayQueueName, planTopology, publishConfirmed, type ServiceTopology } from "../../src/amqp";
import { BROKER_UP, brokerOptions, makeVhost, until } from "./_broker";

setDefaultTimeout(60_000);

const topo = (over: Partial<ServiceTopology> = {}): ServiceTopology => ({
  queue: "svc-q",
  queueType: "quorum",
  exchange: "src-ex",
  declareExchange: true,
  routingKeys: ["a.b", "a.c"],
  deadLetterExchange: "dlx",
  deliveryLimit: 3,
  delaysMs: [200, 400, 400],
  ...over,
});

describe("planTopology", () => {
  test("quorum queue with delivery limit and DLX, dead queue, bindings, one delay queue per distinct delay", () => {
    const plan = planTopology(topo());
    expect(plan).toContainEqual({ kind: "exchange", name: "src-ex", type: "topic" });
    expect(plan).toContainEqual({ kind: "exchange", name: "dlx", type: "direct" });
    expect(plan).toContainEqual({
      kind: "queue",
      name: "svc-q",
      args: { "x-queue-type": "quorum", "x-delivery-limit": 3, "x-dead-letter-exchange": "dlx", "x-dead-letter-routing-key": "svc-q" },
    });
    expect(plan).toContainEqual({ kind: "queue", name: "svc-q.dead", args: { "x-queue-type": "quorum" } });
    expect(plan).toContainEqual({ kind: "bind", queue: "svc-q.dead", exchange: "dlx", key: "svc-q" });
    expect(plan.filter((d) => d.kind === "bind" && d.queue === "svc-q").map((d) => (d as { key: string }).key)).toEqual(["a.b", "a.c"]);
    const delays = plan.filter((d) => d.kind === "queue" && d.name.includes(".delay."));
    expect(delays.map((d) => (d as { name: string }).name)).toEqual(["svc-q.delay.200ms", "svc-q.delay.400ms"]);
    expect((delays[0] as { args: Record<string, unknown> }).args).toEqual({ "x-queue-type": "classic", "x-message-ttl": 200, "x-dead-letter-exchange": "", "x-dead-letter-routing-key": "svc-q" });
  });

  test("classic queues carry no delivery limit; the source exchange can be left alone", () => {
    const plan = planTopology(topo({ queueType: "classic", declareExchange: false }));
    expect(plan.find((d) => d.kind === "exchange" && d.name === "src-ex")).toBeUndefined();
    const q = plan.find((d) => d.kind === "queue" && d.name === "svc-q") as { args: Record<string, unknown> };
    expect(q.args["x-delivery-limit"]).toBeUndefined();
    expect(q.args["x-queue-type"]).toBe("classic");
  });

  test("names", () => {
    expect(deadQueueName("q")).toBe("q.dead");
    expect(delayQueueName("q", 30_000)).toBe("q.delay.30s");
    expect(delayQueueName("q", 1500)).toBe("q.delay.1500ms");
  });
});

describe.skipIf(!BROKER_UP)("on the broker", () => {
  let vh: ReturnType<typeof makeVhost>;
  let conn: ChannelModel;
  let ch: ConfirmChannel;
  beforeAll(async () => {
    vh = makeVhost("topology");
    conn = await connectBroker(brokerOptions(vh.vhost), "test topology");
    ch = await conn.createConfirmChannel();
  });
  afterAll(async () => {
    await conn?.close().catch(() => {});
    vh?.remove();
  });

  test("declaring twice is fine; a message in a delay queue comes back to the main queue by itself", async () => {
    await declareTopology(ch, topo());
    await declareTopology(ch, topo());
    await publishConfirmed(ch, "", delayQueueName("svc-q", 200), Buffer.from('{"x":1}'), { headers: { h: 1 } });
    const t0 = Date.now();
    const got = await until(async () => ch.get("svc-q", { noAck: true }), 5000, "the delayed message");
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(got && got.content.toString()).toBe('{"x":1}');
    expect(got && got.properties.headers?.h).toBe(1);
  });

  test("the broker dead-letters a message that is delivered more than x-delivery-limit times", async () => {
    await publishConfirmed(ch, "src-ex", "a.b", Buffer.from("poison"));
    for (let i = 0; i < 4; i++) {
      const m = await until(async () => ch.get("svc-q", { noAck: false }), 5000, `delivery ${i + 1}`);
      if (m) ch.nack(m, false, true);
    }
    const dead = await until(async () => ch.get(deadQueueName("svc-q"), { noAck: true }), 5000, "the dead letter");
    expect(dead && dead.content.toString()).toBe("poison");
    expect(dead && JSON.stringify(dead.properties.headers?.["x-death"])).toContain("delivery_limit");
  });

  test("a queue that exists with other arguments is refused with a hint", async () => {
    const c2 = await conn.createConfirmChannel();
    c2.on("error", () => {});
    await expect(declareTopology(c2, topo({ deliveryLimit: 7 }))).rejects.toThrow(/cannot declare queue svc-q: .*PRECONDITION_FAILED.*delete it/);
  });

  test("binding to a missing exchange without declare_exchange names the exchange", async () => {
    const c3 = await conn.createConfirmChannel();
    c3.on("error", () => {});
    await expect(declareTopology(c3, topo({ queue: "other-q", exchange: "nope-ex", declareExchange: false }))).rejects.toThrow(/exchange nope-ex does not exist/);
  });
});
