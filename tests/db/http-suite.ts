/**
 * The http driver's test suite, run against a server: the shared conformance suite, and what only
 * the http driver does (connection and credential errors, TLS, sessions, compression, timeouts,
 * retries and the insert deduplication token). http.test.ts runs it on Debian's clickhouse-server
 * (18.16), http-chdb.test.ts on the test-only HTTP interface over the embedded engine.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import { DbError, RowWriter, compileLayout, openDb, type Db } from "../../src/db";
import { HttpDb, MIN_SERVER_VERSION, versionAtLeast } from "../../src/db/http";
import { clickHouseUnavailable, startClickHouseServer, type Account, type ClickHouseServer } from "../helpers/clickhouse-server";
import { runConformance } from "./conformance";


interface Options {
  url?: string;
  account?: Account;
  database?: string;
  ca?: string;
  compression?: boolean;
  requestTimeoutMs?: number;
  maxRetries?: number;
}

let seq = 0;
function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${++seq}`;
}

export async function httpSuite(server: ClickHouseServer): Promise<void> {
  const major = Number(server.version.split(".")[0]);
  const modern = major >= 22;
  const account = server.loader ?? server.admin;

  const config = (o: Options = {}) => ({
    driver: "http" as const,
    database: o.database ?? uniqueName("conf"),
    url: o.url ?? server.url,
    user: (o.account ?? account).user,
    password: (o.account ?? account).password,
    ca: o.ca,
    compression: o.compression ?? true,
    requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    maxRetries: o.maxRetries ?? 3,
    // driver-level tests: Debian's 18.16 cannot hold the schema, but the driver must still work with it
    allowOldServer: true,
  });
  /** Opens through openDb (src/db/index.ts), as the CLI does. */
  const open = (o: Options = {}) => openDb(config(o)) as Promise<HttpDb>;

  await runConformance(`http (ClickHouse ${server.version})`, () => open(), { modern });

  describe(`http only (ClickHouse ${server.version})`, () => {
    const dbs: Db[] = [];
    afterAll(async () => {
      for (const db of dbs) {
        await db.command(`DROP DATABASE IF EXISTS \`${db.database}\``).catch(() => {});
        await db.close();
      }
    });
    const fresh = async (o: Options = {}) => {
      const db = await open(o);
      dbs.push(db);
      return db;
    };
    const connectError = async (o: Options): Promise<DbError> => {
      const e = await open(o).then(
        async (db) => {
          await db.close();
          return undefined;
        },
        (err) => err,
      );
      expect(e).toBeInstanceOf(DbError);
      expect(e.message).not.toContain("\n");
      return e as DbError;
    };

    describe("connect", () => {
      test(`the schema's minimum server version (${MIN_SERVER_VERSION}) is checked at connect`, async () => {
        const o = config();
        const result = await openDb({ ...o, allowOldServer: false }).then(
          async (db) => {
            await db.command(`DROP DATABASE IF EXISTS \`${db.database}\``).catch(() => {});
            await db.close();
            return "accepted";
          },
          (e) => e as DbError,
        );
        if (versionAtLeast(server.version, MIN_SERVER_VERSION)) expect(result).toBe("accepted");
        else {
          expect(result).toBeInstanceOf(DbError);
          expect((result as DbError).message).toBe(`ClickHouse ${server.version} at ${server.url} is too old: altrepodb needs ${MIN_SERVER_VERSION} or later`);
        }
      });

      test("reads the server version and what it supports; creates the database", async () => {
        const name = uniqueName("created");
        const db = await fresh({ database: name });
        expect(db.kind).toBe("http");
        expect(db.serverVersion).toBe(server.version);
        expect(db.dedupTokens).toBe(modern);
        expect(await db.query(`SELECT name FROM system.databases WHERE name = '${name}'`)).toEqual([{ name }]);
        // connecting again to the existing database is fine
        const again = await fresh({ database: name });
        expect(await again.query("SELECT currentDatabase() AS d")).toEqual([{ d: name }]);
      });

      const own = server.managed ? "" : " [SKIPPED: needs a server started by the helper]";

      test.skipIf(!server.loader)(`wrong password: DbError about authentication, naming the user and the fix${own}`, async () => {
        const e = await connectError({ account: { user: server.loader!.user, password: "wrong" } });
        expect(e.message).toMatch(new RegExp(`^authentication failed for user ${server.loader!.user} at ${server.url}: Code: (193|516)\\. `));
        expect(e.hint).toContain("database.http.password");
      });

      test("unknown user: DbError about authentication", async () => {
        const e = await connectError({ account: { user: "nobody_here", password: "x" } });
        expect(e.message).toContain("authentication failed for user nobody_here");
        expect(e.hint).toContain("database.http.user");
      });

      test("nothing listening: DbError naming the URL", async () => {
        const port = await closedPort();
        const url = `http://127.0.0.1:${port}`;
        const t = Date.now();
        const e = await connectError({ url });
        expect(e.message).toBe(`cannot connect to ClickHouse at ${url}: connection refused`);
        expect(e.hint).toContain("database.http.url");
        expect(Date.now() - t).toBeLessThan(5000);
      });

      test("unknown host: DbError naming the host", async () => {
        const e = await connectError({ url: "http://no-such-host.invalid:8123" });
        expect(e.message).toContain("cannot resolve host no-such-host.invalid");
        expect(e.hint).toContain("database.http.url");
      });

      test("malformed URL, credentials in the URL, unreadable CA file", async () => {
        expect((await connectError({ url: "127.0.0.1:8123" })).message).toContain("invalid database URL");
        expect((await connectError({ url: "ftp://127.0.0.1/" })).message).toContain("invalid database URL");
        expect((await connectError({ url: "http://u:p@127.0.0.1:1/" })).message).toContain("must not carry credentials");
        const ca = await connectError({ ca: "/nonexistent/ca.pem" });
        expect(ca.message).toBe("cannot read CA certificate /nonexistent/ca.pem: ENOENT");
      });

      test("something that is not ClickHouse: DbError saying so", async () => {
        const fake = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (req) => (new URL(req.url).pathname === "/" ? new Response("hello") : new Response("<html>nope</html>", { status: 404 })) });
        try {
          const e = await connectError({ url: `http://127.0.0.1:${fake.port}` });
          expect(e.message).toContain("does not answer like a ClickHouse server");
          const e404 = await connectError({ url: `http://127.0.0.1:${fake.port}/some/path` });
          expect(e404.message).toBe(`HTTP 404 from http://127.0.0.1:${fake.port}/some/path: <html>nope</html>`);
        } finally {
          fake.stop(true);
        }
      });

      test.skipIf(!server.strict)(`a user that may not change settings (readonly=1): DbError saying what is needed${own}`, async () => {
        const e = await connectError({ account: server.strict! });
        expect(e.message).toStartWith(`user ${server.strict!.user} may not change settings on ${server.url} (readonly=1)`);
        expect(e.hint).toContain("readonly=2");
      });

      test.skipIf(!server.reader)(`a missing database the user may not create: DbError naming both${own}`, async () => {
        const name = uniqueName("nocreate");
        const e = await connectError({ account: server.reader!, database: name });
        expect(e.message).toContain(`database ${name} does not exist on ${server.url} and user ${server.reader!.user} cannot create it`);
        expect(e.hint).toContain("database.name");
      });
    });

    describe.skipIf(!server.tls)(`TLS${server.tls ? "" : " [SKIPPED: needs a server started by the helper, and openssl]"}`, () => {
      test("https with the CA that signed the server's certificate", async () => {
        const db = await fresh({ url: server.tls!.url, ca: server.tls!.caFile });
        expect(await db.query("SELECT 1 AS x")).toEqual([{ x: 1 }]);
        const { columns, data } = encodeRows([{ id: 1, s: "\0\n\xff" }]);
        await db.command("CREATE TABLE tls_t (id UInt32, s String) ENGINE = Memory");
        await db.insertRowBinary("tls_t", columns, data);
        expect(await db.query("SELECT hex(s) AS s FROM tls_t")).toEqual([{ s: "000AC3BF" }]);
      });

      test("https without that CA: DbError about the certificate, pointing at database.http.ca", async () => {
        const e = await connectError({ url: server.tls!.url });
        expect(e.message).toStartWith(`TLS connection to ${server.tls!.url} failed: `);
        expect(e.hint).toContain("database.http.ca");
      });

      test("https to the plain http port, and http to the https port", async () => {
        const e = await connectError({ url: server.url.replace("http:", "https:"), ca: server.tls!.caFile });
        expect(e.message).toStartWith("TLS connection to");
        expect(e.hint).toContain("does not speak TLS");
        const plain = await connectError({ url: server.tls!.url.replace("https:", "http:") });
        expect(plain.message).toContain(server.tls!.url.replace("https:", "http:"));
        expect(plain.hint).toContain("https://");
      });
    });

    describe("sessions", () => {
      test("each HttpDb has its own session: same-named temporary tables do not collide", async () => {
        const a = await fresh();
        const b = await fresh();
        expect(a.sessionId).not.toBe(b.sessionId);
        await a.command("CREATE TEMPORARY TABLE same_name (x UInt8)");
        await b.command("CREATE TEMPORARY TABLE same_name (x UInt8)");
        await a.command("INSERT INTO same_name VALUES (1), (2)");
        await b.command("INSERT INTO same_name VALUES (3)");
        const [ra, rb] = await Promise.all([a.query("SELECT sum(x) AS s FROM same_name"), b.query("SELECT sum(x) AS s FROM same_name")]);
        expect(ra).toEqual([{ s: 3n }]);
        expect(rb).toEqual([{ s: 3n }]);
        expect(await b.query("SELECT count() AS n FROM same_name")).toEqual([{ n: 1n }]);
      });

      test("close() ends the session (its temporary tables go) and later calls fail with a DbError", async () => {
        const db = await open();
        await db.command("CREATE TEMPORARY TABLE goes_away (x UInt8)");
        const session = db.sessionId;
        await db.command(`DROP DATABASE \`${db.database}\``);
        await db.close();
        await db.close();
        await expect(db.query("SELECT 1")).rejects.toThrow("the database connection is closed");
        // the server forgets the session a second later (asking earlier would keep it alive)
        await Bun.sleep(3000);
        const res = await fetch(`${server.url}/?session_id=${session}&session_check=1`, { method: "POST", body: "SELECT 1", headers: basicAuth(account) });
        expect(res.ok).toBe(false);
        expect(await res.text()).toMatch(/^Code: 372[.,] /);
      }, 20_000);
    });

    describe("compression and timeouts", () => {
      test("without compression", async () => {
        const db = await fresh({ compression: false });
        await db.command("CREATE TABLE nocomp (id UInt32, s String) ENGINE = Memory");
        const { columns, data } = encodeRows([{ id: 1, s: new Uint8Array([0, 10, 255]) }, { id: 2, s: "é" }]);
        await db.insertRowBinary("nocomp", columns, data);
        expect(await db.query("SELECT id, hex(s) AS s FROM nocomp ORDER BY id")).toEqual([{ id: 1, s: "000AFF" }, { id: 2, s: "C3A9" }]);
        expect([...(await db.queryRaw("SELECT unhex('00FF0A') AS b", "RowBinary"))]).toEqual([3, 0, 255, 10]);
      });

      test("a request that takes too long: DbError naming the timeout; the Db works afterwards", async () => {
        // a timeout well above what connecting takes on a busy machine, and retries that outlast the sleep
        const db = await fresh({ requestTimeoutMs: 1500, maxRetries: 5 });
        const e = await db.query("SELECT sleep(3)").then(() => undefined, (x) => x);
        expect(e).toBeInstanceOf(DbError);
        expect(e.message).toBe(`request to ${server.url} timed out after 1.5 s`);
        expect(e.hint).toContain("database.http.request_timeout");
        // the abandoned query holds the session until it ends: the next call is retried until then
        expect(await db.query("SELECT 2 AS x")).toEqual([{ x: 2 }]);
      }, 20_000);
    });

    describe("retries", () => {
      /** A Db that talks to the server through a proxy failing requests on plan. */
      const viaProxy = async (o: Options, fn: (proxy: Proxy, db: HttpDb) => Promise<void>) => {
        const proxy = await startProxy(server.url);
        try {
          const db = await open({ ...o, url: proxy.url, compression: false });
          try {
            await fn(proxy, db);
          } finally {
            proxy.plan.length = 0;
            await db.command(`DROP DATABASE IF EXISTS \`${db.database}\``).catch(() => {});
            await db.close();
          }
        } finally {
          await proxy.stop();
        }
      };

      test("an insert the server refused (HTTP 503) is sent again, and inserted once", async () => {
        await viaProxy({}, async (proxy, db) => {
          await db.command("CREATE TABLE retry_503 (id UInt32, s String) ENGINE = MergeTree ORDER BY id");
          proxy.plan.push({ match: /^INSERT INTO `retry_503`/, action: "503" });
          const { columns, data } = encodeRows([{ id: 1, s: "a" }, { id: 2, s: "b" }]);
          await db.insertRowBinary("retry_503", columns, data, { dedupToken: "tok-503" });
          const attempts = proxy.seen.filter((r) => r.query.startsWith("INSERT INTO `retry_503`"));
          expect(attempts.length).toBe(2);
          expect(await db.query("SELECT count() AS n FROM retry_503")).toEqual([{ n: 2n }]);
          // each attempt carries the same token where the server knows the setting, and none on old servers
          for (const a of attempts) expect(a.params.get("insert_deduplication_token")).toBe(modern ? "tok-503" : null);
        });
      });

      test("an insert whose answer was lost is not doubled", async () => {
        await viaProxy({}, async (proxy, db) => {
          // a MergeTree table that is not replicated drops a repeated token only within its
          // non_replicated_deduplication_window (0 by default: no deduplication at all)
          await db.command(`CREATE TABLE retry_lost (id UInt32) ENGINE = MergeTree ORDER BY id${modern ? " SETTINGS non_replicated_deduplication_window = 100" : ""}`);
          proxy.plan.push({ match: /^INSERT INTO `retry_lost`/, action: "drop" });
          const { columns, data } = encodeRows([{ id: 1 }, { id: 2 }, { id: 3 }], [{ name: "id", type: "UInt32" }]);
          const sent = db.insertRowBinary("retry_lost", columns, data, { dedupToken: "tok-lost" });
          const attempts = () => proxy.seen.filter((r) => r.query.startsWith("INSERT INTO `retry_lost`"));
          if (modern) {
            // sent again with the same token; the server drops the second copy
            await sent;
            expect(attempts().map((a) => a.params.get("insert_deduplication_token"))).toEqual(["tok-lost", "tok-lost"]);
          } else {
            // no insert_deduplication_token on this server: not sent again, and the error says why
            const e = await sent.then(() => undefined, (x) => x);
            expect(e).toBeInstanceOf(DbError);
            expect(e.message).toContain("the rows may or may not have been inserted");
            expect(e.hint).toContain("has no insert_deduplication_token");
            expect(attempts().length).toBe(1);
          }
          expect(await db.query("SELECT count() AS n FROM retry_lost")).toEqual([{ n: 3n }]);
        });
      });

      test("a SELECT whose answer was lost is asked again; a statement is not", async () => {
        await viaProxy({}, async (proxy, db) => {
          proxy.plan.push({ match: /^SELECT 40 \+ 2/, action: "drop" });
          expect(await db.query("SELECT 40 + 2 AS x")).toEqual([{ x: 42 }]);
          expect(proxy.seen.filter((r) => r.query.startsWith("SELECT 40 + 2")).length).toBe(2);
          proxy.plan.push({ match: /^CREATE TABLE once_t/, action: "drop" });
          const e = await db.command("CREATE TABLE once_t (x UInt8) ENGINE = Memory").then(() => undefined, (x) => x);
          expect(e).toBeInstanceOf(DbError);
          expect(e.message).toContain("the statement may or may not have run");
          // it did run
          expect(await db.query("SELECT count() AS n FROM once_t")).toEqual([{ n: 0n }]);
        });
      });

      test("retries stop after maxRetries, and the error counts the attempts", async () => {
        await viaProxy({ maxRetries: 2 }, async (proxy, db) => {
          for (let i = 0; i < 5; i++) proxy.plan.push({ match: /^SELECT 'busy'/, action: "503" });
          const e = await db.query("SELECT 'busy' AS x").then(() => undefined, (x) => x);
          expect(e).toBeInstanceOf(DbError);
          expect(e.message).toBe(`HTTP 503 from ${proxy.url}: proxy: unavailable (3 attempts)`);
          expect(proxy.seen.filter((r) => r.query.startsWith("SELECT 'busy'")).length).toBe(3);
        });
      });
    });
  });
}

function basicAuth(a: Account): Record<string, string> {
  return { authorization: "Basic " + Buffer.from(`${a.user}:${a.password}`).toString("base64") };
}

function encodeRows(rows: Record<string, unknown>[], layout = [{ name: "id", type: "UInt32" }, { name: "s", type: "String" }]) {
  const enc = compileLayout("t", layout);
  const w = new RowWriter();
  for (const r of rows) enc.encode(w, r);
  return { columns: enc.columns, data: w.take() };
}

/** A port nobody listens on. */
async function closedPort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

interface Seen {
  query: string;
  params: URLSearchParams;
}

/**
 * An HTTP proxy in front of the server that fails requests on plan: "503" answers without
 * passing the request on; "drop" passes it on, waits for the server's answer, and then closes
 * the connection instead of answering (a lost answer).
 */
export interface Proxy {
  url: string;
  plan: { match: RegExp; action: "503" | "drop" }[];
  seen: Seen[];
  stop(): Promise<void>;
}

export async function startProxy(upstream: string): Promise<Proxy> {
  const plan: { match: RegExp; action: "503" | "drop" }[] = [];
  const seen: Seen[] = [];
  const up = new URL(upstream);
  const server: Server = createServer(async (req, res) => {
    const body = await readAll(req);
    const u = new URL(req.url ?? "/", "http://proxy");
    const query = u.searchParams.get("query") ?? body.toString("utf8");
    seen.push({ query, params: u.searchParams });
    const i = plan.findIndex((p) => p.match.test(query));
    const action = i >= 0 ? plan.splice(i, 1)[0].action : undefined;
    if (action === "503") {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end("proxy: unavailable");
      return;
    }
    const headers = { ...req.headers, host: up.host, "content-length": String(body.length) };
    delete headers["transfer-encoding"];
    const fwd = httpRequest({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, async (answer) => {
      const out = await readAll(answer);
      if (action === "drop") {
        req.socket.destroy();
        return;
      }
      const h = { ...answer.headers, "content-length": String(out.length) };
      delete h["transfer-encoding"];
      res.writeHead(answer.statusCode ?? 502, h);
      res.end(out);
    });
    fwd.on("error", () => res.destroy());
    fwd.end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    plan,
    seen,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}

async function readAll(s: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c as Buffer);
  return Buffer.concat(parts);
}
