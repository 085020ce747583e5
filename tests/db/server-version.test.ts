/**
 * The oldest ClickHouse server the http driver accepts, derived from what the schema and the
 * loaders use (with the engine's own system.functions.introduced_in as the oracle), and the
 * check at connect time: an older server is refused with one line naming both versions (exit 3).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { slowTest } from "../helpers/slow";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DbError, openDb } from "../../src/db";
import { MIN_SERVER_VERSION } from "../../src/db/http";
import { migrate } from "../../src/db/migrations";
import { CLI } from "../helpers/cli";
import { testDb } from "../helpers/db";

const ROOT = join(import.meta.dir, "..", "..");

function files(dir: string, ext: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p, ext) : p.endsWith(ext) ? [p] : [];
  });
}

const versionKey = (v: string) => v.split(".").map(Number).reduce((a, n, i) => a + n * 1000 ** (3 - i), 0);

describe("the minimum server version", () => {
  test("is the newest function the schema and the loaders' SQL call (system.functions.introduced_in)", async () => {
    const db = await testDb("minver");
    const known = new Map(
      (await db.query<{ name: string; v: string }>("SELECT name, introduced_in AS v FROM system.functions WHERE origin = 'System' AND introduced_in != ''")).map((r) => [r.name, r.v]),
    );
    await db.close();
    const used = new Map<string, string>();
    const scan = (file: string, text: string) => {
      for (const m of text.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)) if (known.has(m[1]) && !used.has(m[1])) used.set(m[1], file);
    };
    for (const f of files(join(ROOT, "sql"), ".sql")) scan(f, readFileSync(f, "utf8").replace(/--.*$/gm, ""));
    // the SQL the loaders send is in template strings: scan only the text inside backquotes
    for (const f of [...files(join(ROOT, "src", "loaders"), ".ts"), ...files(join(ROOT, "src", "packages"), ".ts"), ...files(join(ROOT, "src", "db"), ".ts")]) {
      for (const m of readFileSync(f, "utf8").matchAll(/`([^`]*\b(?:SELECT|INSERT|ALTER|CREATE|DELETE)\b[^`]*)`/g)) scan(f, m[1]);
    }
    const newest = [...used.keys()].sort((a, b) => versionKey(known.get(b)!) - versionKey(known.get(a)!))[0];
    expect({ newest, version: known.get(newest) }).toEqual({ newest: "mapFromArrays", version: "23.3.0" });
    expect(MIN_SERVER_VERSION).toBe("23.3");
    // the settings the driver relies on are older: insert_deduplication_token came with 22.2
    expect(versionKey("22.2")).toBeLessThan(versionKey(MIN_SERVER_VERSION));
  });
});

slowTest("every view and materialized view of the schema works with the old query analyzer (the default before 24.3)", async () => {
  const db = await testDb("oldanalyzer");
  await db.command("SET enable_analyzer = 0");
  await migrate(db);
  const objects = await db.query<{ name: string; engine: string; q: string }>(
    "SELECT name, engine, as_select AS q FROM system.tables WHERE database = currentDatabase() AND engine IN ('View', 'MaterializedView') ORDER BY name",
  );
  expect(objects.length).toBeGreaterThan(30);
  const failed: string[] = [];
  for (const o of objects) {
    const sql = o.engine === "View" ? `SELECT * FROM ${o.name} LIMIT 0` : `SELECT * FROM (${o.q}) LIMIT 0`;
    await db.query(sql).catch((e) => failed.push(`${o.name}: ${(e as Error).message}`));
  }
  expect(failed).toEqual([]);
  await db.close();
}, 600_000);

/** A server that answers `SELECT version()` with `version` and nothing else. */
function fakeServer(version: string) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const raw = Buffer.from(await req.arrayBuffer());
      const body = req.headers.get("content-encoding") === "gzip" ? gunzipSync(raw) : raw;
      const sql = (new URL(req.url).searchParams.get("query") ?? body.toString("utf8")).trim();
      if (sql === "SELECT version()") return new Response(`${version}\n`, { headers: { "X-ClickHouse-Format": "TabSeparated" } });
      return new Response("Code: 48. DB::Exception: not in this fake. (NOT_IMPLEMENTED)\n", { status: 501, headers: { "X-ClickHouse-Exception-Code": "48" } });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}

describe("connect refuses an older server", () => {
  const old = fakeServer("23.2.7.32");
  afterAll(() => old.stop());
  const cfg = (url: string) => ({ driver: "http" as const, database: "v", url, user: "default", password: "", compression: false, requestTimeoutMs: 10_000, maxRetries: 0 });

  test("openDb: a DbError naming the server's version and the minimum", async () => {
    const e = await openDb(cfg(old.url)).then(
      () => undefined,
      (x) => x,
    );
    expect(e).toBeInstanceOf(DbError);
    expect(e.message).toBe(`ClickHouse 23.2.7.32 at ${old.url} is too old: altrepodb needs ${MIN_SERVER_VERSION} or later`);
    expect(e.hint).toContain("upgrade");
  });

  test("the CLI: one line, exit 3", async () => {
    const env = { ...process.env, ALTREPODB_DB_DRIVER: "http", ALTREPODB_DB_URL: old.url } as Record<string, string>;
    const p = Bun.spawn([...CLI, "db", "init"], { env, stdout: "pipe", stderr: "pipe", cwd: "/" });
    const [stderr] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(p.exitCode).toBe(3);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(`ClickHouse 23.2.7.32 at ${old.url} is too old: altrepodb needs ${MIN_SERVER_VERSION} or later`);
  });
});
