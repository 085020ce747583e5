/**
 * The real RabbitMQ for AMQP tests: a vhost of its own per test file (created with rabbitmqctl,
 * deleted afterwards), so runs never see each other's queues. Without a broker on
 * 127.0.0.1:5672 the broker tests are skipped with a note.
 */
import { connect } from "node:net";
import type { BrokerOptions } from "../../src/amqp";

export function rabbitmqctl(...args: string[]): { ok: boolean; out: string } {
  const tool = Bun.which("rabbitmqctl");
  if (!tool) return { ok: false, out: "rabbitmqctl not found" };
  const r = Bun.spawnSync([tool, ...args], { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString() + r.stderr.toString() };
}

export function brokerListening(port = 5672): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: "127.0.0.1", port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    setTimeout(() => {
      s.destroy();
      resolve(false);
    }, 2000);
  });
}

export const BROKER_UP = (await brokerListening()) && rabbitmqctl("status").ok;
if (!BROKER_UP) console.warn("tests/amqp: no RabbitMQ on 127.0.0.1:5672 (or no rabbitmqctl); broker tests are skipped");

export function makeVhost(prefix: string): { vhost: string; remove(): void } {
  const vhost = `altrepodb-test-${prefix}-${process.pid}-${Date.now().toString(36)}`;
  if (!rabbitmqctl("add_vhost", vhost).ok) throw new Error(`cannot create vhost ${vhost}`);
  rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*");
  return { vhost, remove: () => void rabbitmqctl("delete_vhost", vhost) };
}

export function brokerOptions(vhost: string, over: Partial<BrokerOptions> = {}): BrokerOptions {
  return {
    host: "127.0.0.1",
    port: 5672,
    vhost,
    username: "guest",
    password: "guest",
    tls: false,
    heartbeat: 10,
    connectTimeoutMs: 5000,
    reconnectDelayMs: 100,
    reconnectDelayMaxMs: 1000,
    ...over,
  };
}

/** Polls `check` every 50 ms until it is truthy or `ms` passed; returns its last value. */
export async function until<T>(check: () => T | Promise<T>, ms = 15_000, what = "condition"): Promise<Exclude<T, undefined | null | false | 0 | "">> {
  const end = Date.now() + ms;
  let last: T;
  for (;;) {
    last = await check();
    if (last) return last as Exclude<T, undefined | null | false | 0 | "">;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Names of the connections the broker has open in `vhost`. */
export function connectionNames(vhost: string): string[] {
  const r = rabbitmqctl("list_connections", "-q", "--no-table-headers", "vhost", "client_properties");
  return r.out
    .split("\n")
    .filter((l) => l.startsWith(vhost + "\t"))
    .map((l) => /connection_name","?([^"]*)"?/.exec(l)?.[1] ?? /"connection_name",longstr,<<"([^"]*)">>/.exec(l)?.[1] ?? l);
}

/** Closes every connection of `vhost` from the broker side (what a broker restart does to us). */
export function dropConnections(vhost: string): number {
  const r = rabbitmqctl("list_connections", "-q", "--no-table-headers", "vhost", "pid");
  let n = 0;
  for (const line of r.out.split("\n")) {
    const [v, pid] = line.split("\t");
    if (v === vhost && pid) {
      rabbitmqctl("close_connection", pid.trim(), "test: dropped by the broker");
      n++;
    }
  }
  return n;
}
