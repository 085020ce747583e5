/**
 * The http driver's whole suite (tests/db/http-suite.ts: the shared conformance suite and the
 * http-only tests) against the engine version we support: the embedded engine behind the
 * test-only ClickHouse HTTP interface of tests/helpers/chdb-http-server.ts. Tests that need
 * accounts or TLS of a real clickhouse-server (readonly users, https) are skipped here; they run
 * in http.test.ts against Debian's 18.16.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { startChdbHttpServer } from "../helpers/chdb-http-server";
import { httpSuite } from "./http-suite";

const server = await startChdbHttpServer();
afterAll(() => server.stop());
await httpSuite({ url: server.url, version: server.version, admin: server.admin, loader: server.loader, managed: false, stop: () => server.stop() });

describe("the test server speaks the protocol like clickhouse-server", () => {
  const auth = { authorization: "Basic " + Buffer.from(`${server.loader.user}:${server.loader.password}`).toString("base64") };
  const post = (params: string, body: string | Uint8Array, headers: Record<string, string> = {}) => fetch(`${server.url}/?${params}`, { method: "POST", body, headers: { ...auth, ...headers } });

  test("errors: the server's status for the code, X-ClickHouse-Exception-Code, one line with the version", async () => {
    const cases: [string, number, number][] = [
      ["SELECT * FROM no_such_table", 404, 60],
      ["SELEC 1", 400, 62],
      ["SELECT throwIf(1)", 500, 395],
    ];
    for (const [sql, status, code] of cases) {
      const r = await post("", sql);
      expect({ sql, status: r.status, code: r.headers.get("x-clickhouse-exception-code") }).toEqual({ sql, status, code: String(code) });
      expect(await r.text()).toMatch(new RegExp(`^Code: ${code}\\. DB::Exception: .* \\(version ${server.version.replace(/\./g, "\\.")}\\)\\n$`));
    }
    const denied = await fetch(`${server.url}/?query=SELECT+1`, { headers: { "X-ClickHouse-User": "loader", "X-ClickHouse-Key": "wrong" } });
    expect(denied.status).toBe(403);
    expect(denied.headers.get("x-clickhouse-exception-code")).toBe("516");
  });

  test("answers: format, query id and summary headers; gzip both ways; query in the URL and the body", async () => {
    const r = await post("query_id=q-1&default_format=JSONEachRow&enable_http_compression=1&query=SELECT%20", Bun.gzipSync(Buffer.from("toString(number) AS n FROM numbers(2)")), {
      "content-encoding": "gzip",
      "accept-encoding": "gzip",
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-clickhouse-query-id")).toBe("q-1");
    expect(r.headers.get("x-clickhouse-format")).toBe("JSONEachRow");
    expect(JSON.parse(r.headers.get("x-clickhouse-summary")!)).toHaveProperty("elapsed_ns");
    expect(r.headers.get("content-encoding")).toBe("gzip");
    // fetch undoes the gzip it asked for
    expect(await r.text()).toBe('{"n":"0"}\n{"n":"1"}\n');
  });

  test("a second request of a busy session is refused with code 373, as by the server", async () => {
    const session = `busy-${process.pid}`;
    const slow = post(`session_id=${session}`, "SELECT sleep(2)");
    await Bun.sleep(300);
    const second = await post(`session_id=${session}`, "SELECT 1");
    expect(second.headers.get("x-clickhouse-exception-code")).toBe("373");
    expect((await slow).status).toBe(200);
    expect(await (await post(`session_id=${session}`, "SELECT 1")).text()).toBe("1\n");
  });
});
