/**
 * A batch insert sent twice with the same insert_deduplication_token (the http driver retrying an
 * insert whose answer was lost) is stored once on a single, non-replicated server: the schema sets
 * non_replicated_deduplication_window (sql/0106_insert_dedup.sql) and the drivers send
 * deduplicate_blocks_in_dependent_materialized_views=1, so the materialized views' targets
 * (Files_insert → Files, FileNames; Specfiles_insert → Specfiles) drop the copy too.
 * Both drivers: http through the test-only ClickHouse HTTP interface over the embedded engine,
 * and the embedded driver itself.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { openDb, tableEncoder, RowWriter, type Db } from "../../src/db";
import { migrate } from "../../src/db/migrations";
import { startChdbHttpServer, type ChdbHttpServer } from "../helpers/chdb-http-server";
import { testDb } from "../helpers/db";
import { startProxy } from "./http-suite";

async function encode(db: Db, table: string, rows: Record<string, unknown>[]) {
  const enc = await tableEncoder(db, table);
  const w = new RowWriter();
  for (const r of rows) enc.encode(w, r);
  return { columns: enc.columns, data: w.bytes() };
}

const files = (hash: bigint) =>
  ["/usr/bin/a", "/usr/bin/b", "/usr/share/doc/x/README"].map((file_name, i) => ({
    pkg_hash: hash,
    file_name,
    file_linkto: "",
    file_md5: new Uint8Array(16).fill(i + 1),
    file_size: 10 + i,
    file_mode: 0o100755,
    file_rdev: 0,
    file_mtime: 1_700_000_000,
    file_flag: 0,
    file_username: "root",
    file_groupname: "root",
    file_verifyflag: 0,
    file_device: 1,
    file_lang: "",
    file_class: "file",
  }));

const counts = async (db: Db) => {
  const [r] = await db.query<Record<string, bigint | number>>(
    "SELECT (SELECT count() FROM Files) AS files, (SELECT count() FROM FileNames) AS names, (SELECT count() FROM Specfiles) AS specs",
  );
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)]));
};

/** Inserts each batch twice under one token; every table must hold the rows of one copy. */
async function insertTwice(db: Db, salt: string) {
  const f = await encode(db, "Files_insert", files(1n));
  const s = await encode(db, "Specfiles_insert", [{ pkg_hash: 1n, pkg_name: "x", pkg_epoch: 0, pkg_version: "1", pkg_release: "alt1", specfile_name: "x.spec", specfile_date: 1_700_000_000, specfile_content_base64: "" }]);
  for (let i = 0; i < 2; i++) {
    await db.insertRowBinary("Files_insert", f.columns, f.data, { dedupToken: `${salt}:files` });
    await db.insertRowBinary("Specfiles_insert", s.columns, s.data, { dedupToken: `${salt}:specs` });
    // FileNames gets the 3 names and 2 directories (a ReplacingMergeTree collapses "/usr/bin" on insert)
    expect(await counts(db)).toEqual({ files: 3, names: 5, specs: 1 });
  }
}

describe("http driver over the embedded engine", () => {
  let server: ChdbHttpServer;
  const dbs: Db[] = [];
  const open = async (url: string, database: string) => {
    const db = await openDb({ driver: "http", database, url, user: server.loader.user, password: server.loader.password, compression: false, requestTimeoutMs: 60_000, maxRetries: 3 });
    dbs.push(db);
    return db;
  };
  beforeAll(async () => {
    server = await startChdbHttpServer();
  });
  afterAll(async () => {
    for (const db of dbs) await db.close().catch(() => {});
    await server?.stop();
  });

  test("the same batch sent twice with one token is stored once, through the materialized views too", async () => {
    const db = await open(server.url, `dedup_h_${process.pid}`);
    await migrate(db);
    await insertTwice(db, "h");
  }, 600_000);

  test("an insert the server applied but whose answer was lost (connection reset) is retried and stored once", async () => {
    const database = `dedup_p_${process.pid}`;
    await migrate(await open(server.url, database));
    const proxy = await startProxy(server.url);
    try {
      const db = await open(proxy.url, database);
      const f = await encode(db, "Files_insert", files(2n));
      proxy.plan.push({ match: /^INSERT INTO `Files_insert`/, action: "drop" });
      await db.insertRowBinary("Files_insert", f.columns, f.data, { dedupToken: "lost:files" });
      const attempts = proxy.seen.filter((r) => r.query.startsWith("INSERT INTO `Files_insert`"));
      expect(attempts.map((a) => a.params.get("insert_deduplication_token"))).toEqual(["lost:files", "lost:files"]);
      expect(attempts.map((a) => a.params.get("deduplicate_blocks_in_dependent_materialized_views"))).toEqual(["1", "1"]);
      expect(await counts(db)).toEqual({ files: 3, names: 5, specs: 0 });
    } finally {
      await proxy.stop();
    }
  }, 600_000);
});

test("embedded driver: the same batch sent twice with one token is stored once", async () => {
  const db = await testDb("dedup_e");
  try {
    await migrate(db);
    await insertTwice(db, "e");
    // every MergeTree-family table the loaders may write keeps a window (a new table must too)
    const tables = await db.query<{ name: string; engine_full: string }>(
      "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' ORDER BY name",
    );
    const apiOwned = new Set(["VulnerabilityStatus", "Comments", "CommentsChangeHistory", "DefaultReasons", "PncChangeHistory", "ErrataUsers", "ErrataUsersAliases", "ErrataUsersSubscriptions"]);
    const written = tables.filter((t) => !apiOwned.has(t.name) && !t.name.startsWith("altrepodb_"));
    expect(written.length).toBeGreaterThanOrEqual(50);
    expect(written.filter((t) => !/non_replicated_deduplication_window = 1000/.test(t.engine_full)).map((t) => t.name)).toEqual([]);
  } finally {
    await db.close();
  }
}, 600_000);
