/**
 * The HTTP endpoint behind `[daemon] metrics_listen`: `GET /metrics` answers in the Prometheus
 * text format (src/daemon/metrics.ts). It binds only the configured address; a non-loopback one
 * needs `metrics_allow_remote = true` (the endpoint has no authentication and no TLS).
 *
 * Each scrape asks the database for `SELECT 1` and the broker for the depth of every queue the
 * services use (passive declares on one connection of its own, "altrepodb daemon: metrics",
 * opened at the first scrape and kept). Neither can hold a scrape for long: the database check
 * gives up after DB_CHECK_MS, the broker after BROKER_MS (and the connection is dropped).
 */
import { isIP } from "node:net";
import type { ChannelModel } from "amqplib";
import { connectBroker, queueDepths, type BrokerOptions, type QueueDepth } from "../amqp";
import type { Logger } from "../log";
import { deadQueueName, delayQueueName } from "../amqp";
import { CONTENT_TYPE, renderMetrics, type QueueKind, type QueueSample } from "./metrics";
import type { ServiceSettings } from "./settings";
import type { DaemonStatus } from "./status";

const DB_CHECK_MS = 3000;
const BROKER_MS = 5000;

export interface ListenAddress {
  host: string;
  /** 0: any free port (the status file shows the one taken). */
  port: number;
  /** As written in the configuration. */
  text: string;
}

/** "HOST:PORT" or "[IPv6]:PORT"; throws an Error saying what is expected. */
export function parseListen(text: string): ListenAddress {
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(text) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535 || (text.startsWith("[") && isIP(m[1]) !== 6)) {
    throw new Error(`${JSON.stringify(text)} is not HOST:PORT (e.g. "127.0.0.1:9469" or "[::1]:9469"; port 0 takes any free port)`);
  }
  return { host: m[1], port, text };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (isIP(h) === 6) return h === "::1" || /^(0{1,4}:){7}0{0,3}1$/.test(h) || /^::ffff:127\./.test(h);
  return false;
}

export function urlOf(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}/metrics`;
}

export interface QueueRef {
  service: string;
  queue: string;
  kind: QueueKind;
}

/** Every queue of the services: main, dead letters, one per retry delay. */
export function queuesOf(services: readonly ServiceSettings[]): QueueRef[] {
  return services.flatMap((s) => {
    const q = s.topology.queue;
    const delays = [...new Set(s.retryDelaysMs)].sort((a, b) => a - b);
    return [
      { service: s.name, queue: q, kind: "main" as const },
      { service: s.name, queue: deadQueueName(q), kind: "dead" as const },
      ...delays.map((ms) => ({ service: s.name, queue: delayQueueName(q, ms), kind: "delay" as const })),
    ];
  });
}

/** What a scrape reads from the daemon. */
export interface MetricsSource {
  status(): DaemonStatus;
  queues(): QueueRef[];
  broker(): BrokerOptions;
  /** A database check (SELECT 1). */
  databaseUp(): Promise<boolean>;
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
  p.catch(() => {});
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Queue depths over one kept connection. */
export class QueueProbe {
  private conn: ChannelModel | undefined;
  private connKey = "";

  constructor(private readonly log: Logger) {}

  async depths(broker: BrokerOptions, queues: readonly string[]): Promise<{ up: boolean; depths: QueueDepth[] }> {
    const key = JSON.stringify(broker);
    if (this.conn && this.connKey !== key) await this.close();
    try {
      if (!this.conn) {
        const c = await connectBroker({ ...broker, connectTimeoutMs: Math.min(broker.connectTimeoutMs, BROKER_MS) }, "altrepodb daemon: metrics");
        c.on("error", () => {});
        c.on("close", () => {
          if (this.conn === c) this.conn = undefined;
        });
        this.conn = c;
        this.connKey = key;
      }
      return { up: true, depths: await within(queueDepths(this.conn, queues), BROKER_MS, "queue depths") };
    } catch (e) {
      this.log.debug("metrics: the broker did not answer", { error: (e as Error).message });
      await this.close();
      return { up: false, depths: [] };
    }
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    if (c) await c.close().catch(() => {});
  }
}

export class MetricsServer {
  private server: ReturnType<typeof Bun.serve> | undefined;
  private readonly probe: QueueProbe;
  private readonly scrapes = new Set<Promise<unknown>>();
  private scraping: Promise<string> | undefined;

  constructor(
    private readonly source: MetricsSource,
    private readonly log: Logger,
  ) {
    this.probe = new QueueProbe(log);
  }

  /** Binds the address; returns the URL served, or why it cannot be served (the daemon goes on). */
  listen(addr: ListenAddress): { url?: string; error?: string } {
    try {
      this.server = Bun.serve({
        hostname: addr.host,
        port: addr.port,
        development: false,
        idleTimeout: 30,
        fetch: (req) => this.handle(req),
        error: (e) => {
          this.log.error("metrics: request failed", { error: e.message });
          return new Response("internal error\n", { status: 500 });
        },
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "EADDRINUSE" ? "address already in use" : code === "EADDRNOTAVAIL" ? "address not available on this host" : code === "EACCES" ? "permission denied" : (e as Error).message;
      return { error: `cannot listen on ${addr.text}: ${why}` };
    }
    return { url: urlOf(addr.host, this.server.port ?? addr.port) };
  }

  get listening(): boolean {
    return this.server !== undefined;
  }

  /** The text a scrape gets; concurrent scrapes share one. */
  scrape(): Promise<string> {
    if (this.scraping) return this.scraping;
    const p = this.collect().finally(() => {
      this.scraping = undefined;
      this.scrapes.delete(p);
    });
    this.scraping = p;
    this.scrapes.add(p);
    return p;
  }

  private async collect(): Promise<string> {
    const refs = this.source.queues();
    const [database, broker] = await Promise.all([
      within(this.source.databaseUp(), DB_CHECK_MS, "database check").catch(() => false),
      this.probe.depths(this.source.broker(), refs.map((r) => r.queue)),
    ]);
    const byQueue = new Map(broker.depths.map((d) => [d.queue, d]));
    const queues: QueueSample[] = refs.map((r) => ({ ...r, messages: byQueue.get(r.queue)?.messages, consumers: byQueue.get(r.queue)?.consumers }));
    const cpu = process.cpuUsage();
    return renderMetrics({
      status: this.source.status(),
      database: { up: database },
      broker: { up: broker.up },
      queues,
      process: { startTimeSeconds: Math.round(performance.timeOrigin) / 1000, residentBytes: process.memoryUsage.rss(), cpuSeconds: (cpu.user + cpu.system) / 1e6 },
    });
  }

  private async handle(req: Request): Promise<Response> {
    if (req.method !== "GET" && req.method !== "HEAD") return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
    const path = new URL(req.url).pathname;
    if (path === "/metrics") {
      const body = await this.scrape();
      return new Response(req.method === "HEAD" ? null : body, { headers: { "content-type": CONTENT_TYPE } });
    }
    if (path === "/") return new Response("altrepodb daemon: Prometheus metrics at /metrics\n", { headers: { "content-type": "text/plain; charset=utf-8" } });
    return new Response("not found\n", { status: 404 });
  }

  /** Stops listening and waits for running scrapes (they may use the database). */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await s.stop(true);
    await Promise.allSettled([...this.scrapes]);
    await this.probe.close();
  }
}

/** The daemon's endpoint: started, moved or stopped to match [daemon] metrics_listen. */
export class MetricsEndpoint {
  private current: { server: MetricsServer; listen: string } | undefined;
  /** For the status file: the URL served, or why the address is not served. */
  state: DaemonStatus["metrics"];

  constructor(
    private readonly source: MetricsSource,
    private readonly log: Logger,
  ) {}

  /** An address that cannot be bound is one error line and `state.error`; nothing is thrown. */
  async apply(want: ListenAddress | undefined): Promise<void> {
    if (this.current && want && this.current.listen === want.text) return;
    await this.stop();
    if (!want) return;
    const server = new MetricsServer(this.source, this.log);
    const r = server.listen(want);
    if (r.error) {
      this.state = { listen: want.text, error: r.error };
      this.log.error(`metrics: ${r.error}; the daemon runs without metrics until a reload (SIGHUP) can bind [daemon] metrics_listen`, { metrics_listen: want.text });
      return;
    }
    this.current = { server, listen: want.text };
    this.state = { listen: want.text, url: r.url };
    this.log.info("serving metrics", { url: r.url });
  }

  async stop(): Promise<void> {
    const c = this.current;
    this.current = undefined;
    this.state = undefined;
    if (c) await c.server.stop();
  }
}
