/** Connecting: options, TLS with CA and client certificate, heartbeats, reconnect after the broker drops us. */
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createServer, type TLSSocket } from "node:tls";
import { BrokerUnavailable, connectArgs, connectBroker, describeBroker, keepConnected, whenAborted } from "../../src/amqp";
import { log } from "../../src/log";
import { BROKER_UP, brokerOptions, dropConnections, makeVhost, until } from "./_broker";

setDefaultTimeout(60_000);

function openssl(...args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr.toString()}`);
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA. */
function makeCerts(): Record<"ca" | "caKey" | "serverCert" | "serverKey" | "clientCert" | "clientKey" | "otherCa", string> {
  const dir = mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, "tls-"));
  const p = (n: string) => join(dir, n);
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca", "-keyout", p("ca.key"), "-out", p("ca.pem"));
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other-ca", "-keyout", p("other.key"), "-out", p("other.pem"));
  for (const [name, cn, ext] of [
    ["server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
    ["client", "altrepodb", "extendedKeyUsage=clientAuth"],
  ]) {
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${cn}`, "-keyout", p(`${name}.key`), "-out", p(`${name}.csr`));
    Bun.write(p(`${name}.ext`), ext + "\n");
    openssl("x509", "-req", "-in", p(`${name}.csr`), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-days", "2", "-extfile", p(`${name}.ext`), "-out", p(`${name}.pem`));
  }
  return { ca: p("ca.pem"), caKey: p("ca.key"), serverCert: p("server.pem"), serverKey: p("server.key"), clientCert: p("client.pem"), clientKey: p("client.key"), otherCa: p("other.pem") };
}

describe("connection options", () => {
  test("plain: heartbeat on, client properties name the connection, no password in the description", () => {
    const [url, sock] = connectArgs(brokerOptions("/v", { password: "s3cret", heartbeat: 30 }), "altrepodb daemon: repo");
    expect(url).toMatchObject({ protocol: "amqp", hostname: "127.0.0.1", port: 5672, vhost: "/v", heartbeat: 30, username: "guest", password: "s3cret" });
    expect(sock.clientProperties).toMatchObject({ connection_name: "altrepodb daemon: repo", product: "altrepodb" });
    expect(describeBroker(brokerOptions("/v", { password: "s3cret" }))).toBe("amqp://guest@127.0.0.1:5672/%2Fv");
  });

  test("a heartbeat of 0 is refused (heartbeats stay on)", () => {
    expect(() => connectArgs(brokerOptions("/", { heartbeat: 0 }), "x")).toThrow("heartbeat must be > 0");
  });

  test("TLS files are read; a missing one is named; cert without key is refused", () => {
    const certs = makeCerts();
    const [url, sock] = connectArgs(brokerOptions("/", { tls: true, cacert: certs.ca, cert: certs.clientCert, key: certs.clientKey }), "x");
    expect(url.protocol).toBe("amqps");
    expect(sock.rejectUnauthorized).toBe(true);
    expect(String(sock.ca)).toContain("BEGIN CERTIFICATE");
    expect(() => connectArgs(brokerOptions("/", { tls: true, cacert: "/nonexistent/ca.pem" }), "x")).toThrow("cannot read AMQP CA certificate /nonexistent/ca.pem: ENOENT");
    expect(() => connectArgs(brokerOptions("/", { tls: true, cert: certs.clientCert }), "x")).toThrow("needs both cert and key");
  });
});

describe("TLS handshake against a TLS listener", () => {
  const certs = makeCerts();
  const seen: { header: string; clientCN?: string; authorized: boolean }[] = [];
  const server = createServer(
    { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey), ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: false },
    (s: TLSSocket) => {
      s.once("data", (d) => {
        seen.push({ header: Buffer.from(d).subarray(0, 4).toString(), clientCN: String(s.getPeerCertificate()?.subject?.CN), authorized: s.authorized });
        s.destroy();
      });
    },
  );
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => void server.close());

  test("with the right CA the client verifies the server, presents its certificate and speaks AMQP over TLS", async () => {
    const o = brokerOptions("/", { port, tls: true, cacert: certs.ca, cert: certs.clientCert, key: certs.clientKey, connectTimeoutMs: 2000 });
    await expect(connectBroker(o, "tls test")).rejects.toBeInstanceOf(BrokerUnavailable);
    await until(() => seen.length > 0, 3000, "the server to see the client");
    expect(seen[0]).toEqual({ header: "AMQP", clientCN: "altrepodb", authorized: true });
  });

  test("with another CA the server certificate is refused before anything is sent", async () => {
    seen.length = 0;
    const o = brokerOptions("/", { port, tls: true, cacert: certs.otherCa, connectTimeoutMs: 2000 });
    await expect(connectBroker(o, "tls test")).rejects.toThrow(/certificate/i);
    expect(seen.length).toBe(0);
  });
});

describe.skipIf(!BROKER_UP)("keepConnected on the broker", () => {
  let vh: ReturnType<typeof makeVhost>;
  beforeAll(() => {
    vh = makeVhost("keep");
  });
  afterAll(() => vh?.remove());

  test("heartbeat is negotiated as configured", async () => {
    const conn = await connectBroker(brokerOptions(vh.vhost, { heartbeat: 7 }), "heartbeat test");
    const c = (conn as unknown as { connection: { heartbeat: number } }).connection;
    expect(c.heartbeat).toBe(7);
    await conn.close();
  });

  test("a connection the broker closes is opened again and the session runs again", async () => {
    const ac = new AbortController();
    let sessions = 0;
    const states: string[] = [];
    const loop = keepConnected({
      broker: brokerOptions(vh.vhost),
      connectionName: "keep test",
      signal: ac.signal,
      log: log.child("test"),
      onState: (s) => states.push(s),
      async session({ conn, closed, signal }) {
        sessions++;
        const ch = await conn.createChannel();
        await ch.assertQueue(`keep-q-${sessions}`, { durable: false, autoDelete: true });
        await Promise.race([closed, whenAborted(signal)]);
      },
    });
    await until(() => sessions === 1, 5000, "the first session");
    await Bun.sleep(300);
    expect(dropConnections(vh.vhost)).toBeGreaterThan(0);
    await until(() => sessions === 2, 10_000, "the second session");
    ac.abort();
    await loop;
    expect(states.filter((s) => s === "connected").length).toBe(2);
    expect(states).toContain("disconnected");
  });

  test("an unreachable broker is retried with backoff until stopped", async () => {
    const ac = new AbortController();
    const states: string[] = [];
    const loop = keepConnected({
      broker: brokerOptions(vh.vhost, { port: 1, reconnectDelayMs: 50, reconnectDelayMaxMs: 200, connectTimeoutMs: 500 }),
      connectionName: "unreachable",
      signal: ac.signal,
      log: log.child("test"),
      onState: (s) => states.push(s),
      session: async () => {},
    });
    await until(() => states.filter((s) => s === "disconnected").length >= 3, 5000, "three failed attempts");
    ac.abort();
    await loop;
    expect(states).not.toContain("connected");
  });
});
