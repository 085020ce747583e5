/**
 * The http driver against a scripted fake of ClickHouse's HTTP interface: what it sends (session,
 * settings, tokens), how it retries, and how it reads errors of old and new servers. Needs no
 * clickhouse-server; http.test.ts covers the real one. The fake plays a current server too, which
 * is how the insert_deduplication_token path is tested where only 18.16 is installed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { DbError } from "../../src/db";
import { HttpDb } from "../../src/db/http";
import { clickhouseMessage, networkError, responseError, type Target } from "../../src/db/http/errors";

interface Seen {
  query: string;
  params: URLSearchParams;
  body: Uint8Array;
}

interface FakeOptions {
  version: string;
  /** Which of the driver's optional settings system.settings lists. */
  settings: string[];
  databaseExists?: boolean;
  maxSessionTimeout?: number;
}

/** A fake ClickHouse: answers the driver's bootstrap, records every request, fails on plan. */
function fakeClickHouse(o: FakeOptions) {
  const seen: Seen[] = [];
  /** Statuses (with ClickHouse-like bodies) for the next requests whose statement matches. */
  const plan: { match: RegExp; status: number; body: string }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      let body = new Uint8Array(await req.arrayBuffer());
      if (req.headers.get("content-encoding") === "gzip") body = gunzipSync(body);
      const query = url.searchParams.get("query") ?? new TextDecoder().decode(body);
      seen.push({ query, params: url.searchParams, body });
      const st = Number(url.searchParams.get("session_timeout") ?? 0);
      if (o.maxSessionTimeout && st > o.maxSessionTimeout) {
        return new Response(`Code: 374. DB::Exception: Session timeout '${st}' is larger than max_session_timeout: ${o.maxSessionTimeout}. Maximum session timeout could be modified in configuration file. (INVALID_SESSION_TIMEOUT) (version ${o.version})\n`, { status: 400, headers: { "x-clickhouse-exception-code": "374" } });
      }
      const i = plan.findIndex((p) => p.match.test(query));
      if (i >= 0) {
        const p = plan.splice(i, 1)[0];
        return new Response(p.body, { status: p.status });
      }
      const text = (s: string) => new Response(s + "\n");
      if (query === "SELECT version()") return text(o.version);
      if (query.startsWith("SELECT name FROM system.settings")) return text(o.settings.join("\n"));
      if (query.startsWith("SELECT count() FROM system.databases")) return text(o.databaseExists === false ? "0" : "1");
      if (query.startsWith("CREATE DATABASE")) return text("");
      if (query.startsWith("INSERT")) return new Response("");
      if (url.searchParams.get("default_format") === "JSONCompact") {
        return Response.json({ meta: [{ name: "x", type: "UInt64" }, { name: "s", type: "String" }], data: [["18446744073709551615", "é"]], rows: 1 });
      }
      return text("1");
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, seen, plan, stop: () => server.stop(true) };
}

const MODERN = ["output_format_json_quote_64bit_integers", "output_format_json_quote_denormals", "insert_deduplication_token"];
const OLD = ["output_format_json_quote_64bit_integers", "output_format_json_quote_denormals"];

const fakes: { stop(): void }[] = [];
afterAll(() => fakes.forEach((f) => f.stop()));

async function connect(o: FakeOptions, extra: { compression?: boolean; maxRetries?: number } = {}) {
  const fake = fakeClickHouse(o);
  fakes.push(fake);
  const db = await HttpDb.connect({
    driver: "http",
    database: "altrepo",
    url: fake.url,
    user: "loader",
    password: "pw",
    // driver-level behaviour with old and current servers alike (the schema's minimum is tested in server-version.test.ts)
    allowOldServer: true,
    compression: extra.compression ?? false,
    requestTimeoutMs: 5000,
    maxRetries: extra.maxRetries ?? 3,
  });
  return { fake, db };
}

describe("http driver against a fake server", () => {
  test("bootstrap: version, known settings; every later request in one session with the driver's settings", async () => {
    const { fake, db } = await connect({ version: "24.8.1.1", settings: MODERN });
    expect(db.serverVersion).toBe("24.8.1.1");
    expect(db.dedupTokens).toBe(true);
    const rows = await db.query("SELECT x, s FROM t");
    expect(rows).toEqual([{ x: (1n << 64n) - 1n, s: "é" }]);
    const q = fake.seen.at(-1)!;
    expect(q.query).toBe("SELECT x, s FROM t");
    expect(q.params.get("default_format")).toBe("JSONCompact");
    expect(q.params.get("output_format_json_quote_64bit_integers")).toBe("1");
    expect(q.params.get("output_format_json_quote_denormals")).toBe("0");
    expect(q.params.get("wait_end_of_query")).toBe("1");
    expect(q.params.get("database")).toBe("altrepo");
    expect(q.params.get("session_id")).toBe(db.sessionId);
    expect(q.params.get("session_timeout")).toBe("3600");
    await db.command("CREATE TABLE x (a UInt8) ENGINE = Memory", { settings: { max_threads: 2 } });
    expect(fake.seen.at(-1)!.params.get("max_threads")).toBe("2");
    expect(fake.seen.at(-1)!.params.get("session_id")).toBe(db.sessionId);
    // the bootstrap ran outside the session and without a database (it may not exist yet)
    expect(fake.seen[0].params.get("session_id")).toBeNull();
    expect(fake.seen[0].params.get("database")).toBeNull();
    await db.close();
    // the last request lets the session expire
    expect(fake.seen.at(-1)!.params.get("session_timeout")).toBe("1");
  });

  test("settings the server does not know are not sent", async () => {
    const { fake, db } = await connect({ version: "18.16.1", settings: ["output_format_json_quote_64bit_integers"] });
    await db.query("SELECT 1");
    const q = fake.seen.at(-1)!;
    expect(q.params.get("output_format_json_quote_64bit_integers")).toBe("1");
    expect(q.params.has("output_format_json_quote_denormals")).toBe(false);
    await db.close();
  });

  test("a missing database is created at connect", async () => {
    const { fake, db } = await connect({ version: "24.8.1.1", settings: MODERN, databaseExists: false });
    expect(fake.seen.some((s) => s.query === "CREATE DATABASE IF NOT EXISTS `altrepo`")).toBe(true);
    await db.close();
  });

  test("session timeout capped by the server's max_session_timeout", async () => {
    const { fake, db } = await connect({ version: "24.8.1.1", settings: MODERN, maxSessionTimeout: 600 });
    await db.query("SELECT 1");
    expect(fake.seen.at(-1)!.params.get("session_timeout")).toBe("600");
    await db.close();
  });

  test("RowBinary body arrives byte for byte, compressed or not, also when several MiB", async () => {
    for (const compression of [false, true]) {
      const { fake, db } = await connect({ version: "24.8.1.1", settings: MODERN }, { compression });
      const data = new Uint8Array(3 * 1024 * 1024 + 17);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
      await db.insertRowBinary("Files", ["a", "b"], data);
      const ins = fake.seen.find((s) => s.query.startsWith("INSERT"))!;
      expect(ins.query).toBe("INSERT INTO `Files` (`a`, `b`) FORMAT RowBinary");
      expect(ins.body.length).toBe(data.length);
      expect(Buffer.compare(Buffer.from(ins.body), Buffer.from(data))).toBe(0);
      expect(ins.params.has("insert_deduplication_token")).toBe(false);
      await db.close();
    }
  });

  test("current server: a batch whose answer was lost is sent again with the same token", async () => {
    const { fake, db } = await connect({ version: "24.8.1.1", settings: MODERN });
    fake.plan.push({ match: /^INSERT/, status: 502, body: "<html>502 Bad Gateway</html>" });
    fake.plan.push({ match: /^INSERT/, status: 504, body: "<html>504 Gateway Time-out</html>" });
    const data = new Uint8Array([1, 2, 3, 0, 10, 255]);
    await db.insertRowBinary("Packages", ["x"], data, { dedupToken: "Packages:abc" });
    const inserts = fake.seen.filter((s) => s.query.startsWith("INSERT"));
    expect(inserts.length).toBe(3);
    for (const i of inserts) {
      expect(i.params.get("insert_deduplication_token")).toBe("Packages:abc");
      expect([...i.body]).toEqual([...data]);
    }
    await db.close();
  });

  test("old server: a batch whose answer was lost is not sent again (it could double); the error says why", async () => {
    const { fake, db } = await connect({ version: "18.16.1", settings: OLD });
    expect(db.dedupTokens).toBe(false);
    fake.plan.push({ match: /^INSERT/, status: 502, body: "bad gateway" });
    const e = await db.insertRowBinary("Packages", ["x"], new Uint8Array([1]), { dedupToken: "Packages:abc" }).then(() => undefined, (x) => x);
    expect(e).toBeInstanceOf(DbError);
    expect(e.message).toBe(`HTTP 502 from ${fake.url}: bad gateway; the rows may or may not have been inserted`);
    expect(e.hint).toContain("ClickHouse 18.16.1 has no insert_deduplication_token");
    const inserts = fake.seen.filter((s) => s.query.startsWith("INSERT"));
    expect(inserts.length).toBe(1);
    expect(inserts[0].params.has("insert_deduplication_token")).toBe(false);
    await db.close();
  });

  test("refused requests (503, session locked, too many queries) are sent again whatever they are", async () => {
    const { fake, db } = await connect({ version: "24.8.1.1", settings: MODERN });
    fake.plan.push({ match: /^DROP TABLE/, status: 503, body: "overloaded" });
    fake.plan.push({ match: /^DROP TABLE/, status: 500, body: "Code: 373. DB::Exception: Session is locked by a concurrent client. (SESSION_IS_LOCKED) (version 24.8.1.1)" });
    fake.plan.push({ match: /^DROP TABLE/, status: 500, body: "Code: 202, e.displayText() = DB::Exception: Too many simultaneous queries. Maximum: 100, e.what() = DB::Exception" });
    await db.command("DROP TABLE t");
    expect(fake.seen.filter((s) => s.query === "DROP TABLE t").length).toBe(4);
    await db.close();
  });

  test("SQL errors are not retried", async () => {
    const { fake, db } = await connect({ version: "18.16.1", settings: OLD });
    fake.plan.push({ match: /^SELECT \* FROM nope/, status: 404, body: "Code: 60, e.displayText() = DB::Exception: Table altrepo.nope doesn't exist., e.what() = DB::Exception\n" });
    const e = await db.query("SELECT * FROM nope").then(() => undefined, (x) => x);
    expect(e).toBeInstanceOf(DbError);
    expect(e.message).toBe("Code: 60. DB::Exception: Table altrepo.nope doesn't exist.");
    expect(e.code).toBe(60);
    expect(fake.seen.filter((s) => s.query.startsWith("SELECT * FROM nope")).length).toBe(1);
    await db.close();
  });

  test("authentication failure of a current server (516, HTTP 401)", async () => {
    const fake = fakeClickHouse({ version: "24.8.1.1", settings: MODERN });
    fakes.push(fake);
    fake.plan.push({ match: /^SELECT version\(\)/, status: 401, body: "Code: 516. DB::Exception: loader: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED) (version 24.8.1.1)\n" });
    const e = await HttpDb.connect({ driver: "http", database: "d", url: fake.url, user: "loader", password: "bad", compression: false, requestTimeoutMs: 5000, maxRetries: 3 }).then(() => undefined, (x) => x);
    expect(e).toBeInstanceOf(DbError);
    expect(e.message).toBe(`authentication failed for user loader at ${fake.url}: Code: 516. DB::Exception: loader: Authentication failed: password is incorrect, or there is no user with such name. (AUTHENTICATION_FAILED)`);
    expect(e.code).toBe(516);
    expect(e.hint).toContain("database.http.password");
  });
});

describe("http driver: reading errors", () => {
  const t: Target = { url: "http://db:8123", host: "db", user: "loader", requestTimeoutMs: 30_000 };

  test("ClickHouse messages, 18.16 and current, become one line 'Code: N. …'", () => {
    expect(clickhouseMessage("Code: 60, e.displayText() = DB::Exception: Table x.y doesn't exist., e.what() = DB::Exception\n")).toEqual({ message: "Code: 60. DB::Exception: Table x.y doesn't exist.", code: 60 });
    expect(clickhouseMessage("Code: 33, e.displayText() = DB::Exception: Cannot read all data. Bytes read: 1. Bytes expected: 5.: (at row 1)\n, e.what() = DB::Exception\n")).toEqual({ message: "Code: 33. DB::Exception: Cannot read all data. Bytes read: 1. Bytes expected: 5.: (at row 1)", code: 33 });
    expect(clickhouseMessage("Code: 62. DB::Exception: Syntax error: failed at position 1 ('SELEC'): SELEC 1. Expected one of: … (SYNTAX_ERROR) (version 24.8.1.1 (official build))\n")).toEqual({ message: "Code: 62. DB::Exception: Syntax error: failed at position 1 ('SELEC'): SELEC 1. Expected one of: … (SYNTAX_ERROR)", code: 62 });
    expect(clickhouseMessage("Code: 60. DB::Exception: Unknown table. (UNKNOWN_TABLE)\n\nStack trace:\n0. foo\n")).toEqual({ message: "Code: 60. DB::Exception: Unknown table. (UNKNOWN_TABLE)", code: 60 });
  });

  test("answers: authentication, proxies, ClickHouse codes", () => {
    const auth = responseError(500, "Code: 193, e.displayText() = DB::Exception: Wrong password for user loader, e.what() = DB::Exception", undefined, t);
    expect(auth.message).toBe("authentication failed for user loader at http://db:8123: Code: 193. DB::Exception: Wrong password for user loader");
    expect(auth.retry).toBe("final");
    expect(responseError(401, "", undefined, t).message).toBe("authentication failed for user loader at http://db:8123 (HTTP 401)");
    expect(responseError(503, "busy", undefined, t).retry).toBe("rejected");
    expect(responseError(502, "x", undefined, t).retry).toBe("ambiguous");
    expect(responseError(404, "Not found", undefined, t).hint).toContain("a ClickHouse HTTP interface");
    expect(responseError(500, "Code: 373. DB::Exception: Session is locked", undefined, t).retry).toBe("rejected");
    expect(responseError(500, "Code: 319. DB::Exception: Unknown status", undefined, t).retry).toBe("ambiguous");
    expect(responseError(500, "Code: 62. DB::Exception: Syntax error", undefined, t).retry).toBe("final");
    expect(responseError(500, "odd", "241", t).code).toBe(241);
  });

  test("network failures name the URL and the fix", () => {
    const err = (code: string, message = code) => Object.assign(new Error(message), { code });
    expect(networkError(err("ECONNREFUSED"), t).message).toBe("cannot connect to ClickHouse at http://db:8123: connection refused");
    expect(networkError(err("ECONNREFUSED"), t).retry).toBe("rejected");
    expect(networkError(err("ENOTFOUND"), t).message).toBe("cannot resolve host db of database URL http://db:8123");
    expect(networkError(err("EAI_AGAIN"), t).retry).toBe("rejected");
    const tls = networkError(err("DEPTH_ZERO_SELF_SIGNED_CERT", "self signed certificate"), t);
    expect(tls.message).toBe("TLS connection to http://db:8123 failed: DEPTH_ZERO_SELF_SIGNED_CERT: self signed certificate");
    expect(tls.hint).toContain("database.http.ca");
    expect(networkError(err("CERT_HAS_EXPIRED", "certificate has expired"), { ...t, ca: "/etc/ca.pem" }).hint).toContain("/etc/ca.pem");
    const timeout = networkError(new Error("Timeout error."), t);
    expect(timeout.message).toBe("request to http://db:8123 timed out after 30 s");
    expect(timeout.timedOut).toBe(true);
    expect(networkError(err("ECONNRESET", "socket hang up"), t).retry).toBe("ambiguous");
  });
});
