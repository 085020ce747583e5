/** Shared set-up for daemon tests: configs on a test vhost, a database that can be made to fail, a recording logger. */
import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { connectBroker, publishConfirmed, type BrokerOptions } from "../../src/amqp";
import { parseConfigText, resolveConfig, type Config } from "../../src/config";
import { DbError, type Db } from "../../src/db";
import { log, type Fields, type Logger } from "../../src/log";
import { brokerOptions } from "../amqp/_broker";

export const scratch = (p: string): string => mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, `${p}-`));

/** A config for `vhost`, fast retries and reconnects, `services` TOML appended. */
export function daemonConfigText(vhost: string, stateDir: string, services: string, extra = ""): string {
  return `
[amqp]
host = "127.0.0.1"
vhost = "${vhost}"
heartbeat = 10
reconnect_delay = 0.1
reconnect_delay_max = 1
connect_timeout = 5
[notifier]
exchange = "test.notify"
on_done = true
[daemon]
state_dir = "${stateDir}"
status_interval = 0.5
shutdown_grace = 5
restart_delay = 0.1
restart_delay_max = 1
${extra}
${services}
`;
}

export function daemonConfig(vhost: string, stateDir: string, services: string, extra = ""): Config {
  return resolveConfig(parseConfigText(daemonConfigText(vhost, stateDir, services, extra), "test.toml"), null, {});
}

/** Passes everything to `inner` unless `down` is set: then every call fails like an unreachable server. */
export class FlakyDb implements Db {
  down = false;
  calls = 0;
  constructor(private readonly inner: Db) {}
  get kind() {
    return this.inner.kind;
  }
  get database() {
    return this.inner.database;
  }
  private check(): void {
    this.calls++;
    if (this.down) throw new DbError("connection refused (test: database down)");
  }
  async query<T>(sql: string, opts?: Parameters<Db["query"]>[1]): Promise<T[]> {
    this.check();
    return this.inner.query<T>(sql, opts);
  }
  async queryRaw(sql: string, format: string, opts?: Parameters<Db["queryRaw"]>[2]) {
    this.check();
    return this.inner.queryRaw(sql, format, opts);
  }
  async command(sql: string, opts?: Parameters<Db["command"]>[1]) {
    this.check();
    return this.inner.command(sql, opts);
  }
  async insertRowBinary(...a: Parameters<Db["insertRowBinary"]>) {
    this.check();
    return this.inner.insertRowBinary(...a);
  }
  async close() {}
}

export interface Recorded {
  level: string;
  tag: string;
  msg: string;
  fields?: Fields;
}

/** A logger that keeps every line (and prints with ALTREPODB_TEST_LOG=1). */
export function recordingLogger(lines: Recorded[], tag = "daemon"): Logger {
  const rec =
    (level: string) =>
    (msg: string, fields?: Fields): void => {
      lines.push({ level, tag, msg, fields });
      if (process.env.ALTREPODB_TEST_LOG) (log as unknown as Record<string, (m: string, f?: Fields) => void>)[level](`[${tag}] ${msg}`, fields);
    };
  return { error: rec("error"), warn: rec("warn"), info: rec("info"), debug: rec("debug"), trace: rec("trace"), child: (t) => recordingLogger(lines, `${tag}:${t}`) };
}

/** A publishing/peeking client for the test vhost. */
export class TestClient {
  private constructor(
    readonly conn: ChannelModel,
    readonly ch: ConfirmChannel,
  ) {}
  static async open(o: BrokerOptions): Promise<TestClient> {
    const conn = await connectBroker(o, "test client");
    conn.on("error", () => {});
    const ch = await conn.createConfirmChannel();
    ch.on("error", () => {});
    return new TestClient(conn, ch);
  }
  static forVhost(vhost: string): Promise<TestClient> {
    // tests block their event loop in spawnSync (CLI runs): a long heartbeat keeps this idle
    // client's connection alive through a slow run on a loaded machine
    return TestClient.open(brokerOptions(vhost, { heartbeat: 300 }));
  }
  publish(exchange: string, key: string, body: unknown, opts: Record<string, unknown> = {}): Promise<void> {
    const content = typeof body === "string" ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
    return publishConfirmed(this.ch, exchange, key, content, { contentType: "application/json", ...opts });
  }
  /** Every message now in `queue` (taken off it). */
  async drain(queue: string): Promise<{ key: string; body: string; headers: Record<string, unknown> }[]> {
    const out: { key: string; body: string; headers: Record<string, unknown> }[] = [];
    for (;;) {
      const m = await this.ch.get(queue, { noAck: true });
      if (!m) return out;
      out.push({ key: m.fields.routingKey, body: m.content.toString(), headers: m.properties.headers ?? {} });
    }
  }
  async depth(queue: string): Promise<number> {
    const c = await this.conn.createChannel();
    c.on("error", () => {});
    try {
      return (await c.checkQueue(queue)).messageCount;
    } finally {
      await c.close().catch(() => {});
    }
  }
  /** A queue bound to `exchange` for `key` (declared if needed). */
  async tap(exchange: string, key: string, queue: string): Promise<string> {
    await this.ch.assertExchange(exchange, "topic", { durable: true });
    await this.ch.assertQueue(queue, { durable: false, autoDelete: false });
    await this.ch.bindQueue(queue, exchange, key);
    return queue;
  }
  async close(): Promise<void> {
    await this.conn.close().catch(() => {});
  }
}
