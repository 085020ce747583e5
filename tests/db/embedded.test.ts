/** The conformance suite on the embedded engine (libchdb), and what only that driver does. */
import { afterAll, describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { DbError, insertRows, openDb, RowWriter, compileLayout, type Db } from "../../src/db";
import { TEST_DATA_DIR } from "../helpers/db";
import { runConformance } from "./conformance";

const ROOT = resolve(import.meta.dir, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
let seq = 0;

function openEmbedded(): Promise<Db> {
  const database = `conf_${process.pid}_${Date.now().toString(36)}_${++seq}`;
  return openDb({ driver: "embedded", path: TEST_DATA_DIR, database });
}

await runConformance("embedded", openEmbedded, { modern: true });

/** Runs `code` in a fresh bun process; it prints one JSON line: {opened} or {error, hint}. */
async function inChild(code: string, env: Record<string, string> = {}): Promise<{ opened?: boolean; name?: string; message?: string; hint?: string; stderr: string }> {
  const script = `
    import { openDb } from ${JSON.stringify(join(ROOT, "src", "db", "index.ts"))};
    try {
      ${code}
      console.log(JSON.stringify({ opened: true }));
    } catch (e) {
      console.log(JSON.stringify({ name: e.name, message: e.message, hint: e.hint }));
    }
    process.exit(0);
  `;
  const child = Bun.spawn([BUN, "-e", script], { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  await child.exited;
  const line = out.trim().split("\n").pop() ?? "";
  try {
    return { ...JSON.parse(line), stderr: err };
  } catch {
    throw new Error(`child printed ${JSON.stringify(out)} ${err}`);
  }
}

describe("embedded only", () => {
  const dbs: Db[] = [];
  afterAll(async () => {
    for (const db of dbs) {
      await db.command(`DROP DATABASE IF EXISTS \`${db.database}\``).catch(() => {});
      await db.close();
    }
  });
  const fresh = async () => {
    const db = await openEmbedded();
    dbs.push(db);
    return db;
  };

  test("a second process opening the same data directory gets 'locked by pid N'", async () => {
    await fresh(); // this process holds the directory
    const r = await inChild(`await openDb({ driver: "embedded", path: ${JSON.stringify(TEST_DATA_DIR)}, database: "other" });`);
    expect(r.opened).toBeUndefined();
    expect(r.name).toBe("DbError");
    expect(r.message).toBe(`data directory ${TEST_DATA_DIR} is locked by pid ${process.pid}`);
    expect(r.hint).toContain("another altrepodb process");
  });

  test("a configured libchdb that does not exist: DbError naming where it looked and how to get it", async () => {
    const missing = "/nonexistent/altrepodb-test/libchdb.so";
    const r = await inChild(`await openDb({ driver: "embedded", path: ${JSON.stringify(join(TEST_DATA_DIR, "..", `nolib-${process.pid}`))}, database: "x", libchdb: ${JSON.stringify(missing)} });`);
    expect(r.name).toBe("DbError");
    expect(r.message).toContain(missing);
    expect(r.hint).toContain("looked in:");
    expect(r.hint).toContain(missing);
    expect(r.hint).toContain("npm install @chdb/lib-linux-x64-gnu");
    expect(r.hint).toContain("ALTREPODB_LIBCHDB");
  });

  test("the same insert_deduplication_token twice inserts once (MergeTree with a deduplication window)", async () => {
    const db = await fresh();
    await db.command("CREATE TABLE dedup_t (id UInt32, s String) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100");
    const enc = compileLayout("dedup_t", [{ name: "id", type: "UInt32" }, { name: "s", type: "String" }]);
    const batch = (ids: number[]) => {
      const w = new RowWriter();
      for (const id of ids) enc.encode(w, { id, s: `r${id}` });
      return w.take();
    };
    const count = async () => Number((await db.query<{ n: bigint }>("SELECT count() AS n FROM dedup_t"))[0].n);
    const a = batch([1, 2, 3]);
    await db.insertRowBinary("dedup_t", enc.columns, a, { dedupToken: "batch-1" });
    // a retry of the same batch whose answer was lost
    await db.insertRowBinary("dedup_t", enc.columns, a, { dedupToken: "batch-1" });
    expect(await count()).toBe(3);
    // the token, not the data, decides: the driver really sends it
    await db.insertRowBinary("dedup_t", enc.columns, batch([7, 8]), { dedupToken: "batch-1" });
    expect(await count()).toBe(3);
    await db.insertRowBinary("dedup_t", enc.columns, a, { dedupToken: "batch-2" });
    expect(await count()).toBe(6);
    // the setting does not stick to the connection
    await db.insertRowBinary("dedup_t", enc.columns, batch([9]));
    expect(await count()).toBe(7);
    expect((await db.query<{ value: string }>("SELECT value FROM system.settings WHERE name = 'insert_deduplication_token'"))[0].value).toBe("");
  });

  test("a retried batch (same token) inserts once; the same rows sent again later are not taken for a retry", async () => {
    const db = await fresh();
    await db.command("CREATE TABLE dedup_rows (id UInt32) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100");
    const data = new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]);
    await db.insertRowBinary("dedup_rows", ["id"], data, { dedupToken: "run1:dedup_rows:x" });
    await db.insertRowBinary("dedup_rows", ["id"], data, { dedupToken: "run1:dedup_rows:x" });
    expect((await db.query("SELECT count() AS n FROM dedup_rows"))[0]).toEqual({ n: 2n });
    // insertRows salts its token per call: a later run re-sending the rows (after a delete) is written
    const rows = [{ id: 1 }, { id: 2 }];
    await db.command("DELETE FROM dedup_rows WHERE 1");
    await insertRows(db, "dedup_rows", rows);
    expect((await db.query("SELECT count() AS n FROM dedup_rows"))[0]).toEqual({ n: 2n });
  });

  test("a closed Db refuses work with a DbError", async () => {
    const db = await openEmbedded();
    await db.command(`DROP DATABASE \`${db.database}\``);
    await db.close();
    await db.close();
    await expect(db.query("SELECT 1")).rejects.toBeInstanceOf(DbError);
  });
});
