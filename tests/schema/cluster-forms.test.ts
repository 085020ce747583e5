/**
 * Cluster mode, both forms of every migration: the rendered ON CLUSTER / Replicated text is the
 * plain statement plus exactly the clause and the engine's replication arguments (so the plain
 * form, which the embedded engine applies, and the cluster form create the same objects), every
 * table gets the engine its plain statement names on the embedded engine, and the lease
 * (src/loaders/lock.ts) switches to quorum writes and sequentially consistent reads on a
 * replicated lease table.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Db } from "../../src/db";
import { loadMigrations, migrate } from "../../src/db/migrations";
import { toClusterStatement } from "../../src/db/migrations/cluster";
import { leaseSettings } from "../../src/loaders/lock";
import { testDb } from "../helpers/db";

const statements = loadMigrations().flatMap((m) => m.statements.map((s) => ({ file: m.name, sql: s.replaceAll("{database}", "`repodb`") })));

/** The cluster text turned back into the plain one: no ON CLUSTER, no replication arguments. */
function unrender(out: string): string {
  return out
    .replace(/ ON CLUSTER altrepo\b/, "")
    .replace(/ENGINE = Replicated(\w*MergeTree)\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/[^']+', '\{replica\}'(?:, )?/, (_, family: string) => `ENGINE = ${family}(`)
    .replace(/ENGINE = (\w*MergeTree)\(\)/, "ENGINE = $1");
}

/** The plain statement with the engine written the way toClusterStatement normalises it. */
function normal(sql: string): string {
  return sql.replace(/ENGINE\s*=?\s*(\w*MergeTree)\(\)/, "ENGINE = $1").replace(/ENGINE (\w*MergeTree)\b/, "ENGINE = $1");
}

describe("cluster and plain forms of the migrations", () => {
  test("every statement: cluster form = plain form + ON CLUSTER + replication arguments", () => {
    expect(statements.length).toBeGreaterThan(150);
    for (const { file, sql } of statements) {
      const out = toClusterStatement(sql, "altrepo");
      expect(unrender(out), `${file}: ${sql.slice(0, 80)}`).toBe(normal(sql));
    }
  });

  test("the FileSearch bookkeeping (0110) is replicated under its own paths", () => {
    const mine = statements.filter((s) => s.file.startsWith("0110_"));
    expect(mine.length).toBe(2);
    const out = mine.map((s) => toClusterStatement(s.sql, "altrepo"));
    expect(out[0]).toContain("CREATE TABLE IF NOT EXISTS altrepodb_filesearch_packages ON CLUSTER altrepo");
    expect(out[0]).toContain("ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/altrepodb_filesearch_packages', '{replica}', at)");
    expect(out[1]).toContain("ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/altrepodb_filesearch_runs', '{replica}')");
  });

  describe("the embedded engine applies the plain form", () => {
    let db: Db;
    beforeAll(async () => {
      db = await testDb("cluster_forms");
      await migrate(db);
    }, 300_000);
    afterAll(async () => {
      await db?.close();
    });

    test("every CREATE TABLE's engine is the one its plain statement names", async () => {
      const tables = new Map(
        (await db.query<{ name: string; engine: string }>("SELECT name, engine FROM system.tables WHERE database = currentDatabase()")).map((t) => [t.name, t.engine]),
      );
      let checked = 0;
      for (const { file, sql } of statements) {
        const m = /^CREATE TABLE IF NOT EXISTS (\w+)[\s\S]*?ENGINE\s*=?\s*(\w+)/.exec(sql);
        if (!m) continue;
        expect(tables.get(m[1]), `${file}: ${m[1]}`).toBe(m[2]);
        checked++;
      }
      expect(checked).toBeGreaterThan(70);
    });
  });
});

test("the lease: quorum writes and sequentially consistent reads on a replicated table only", () => {
  expect(leaseSettings("MergeTree")).toEqual({ write: {}, read: {} });
  expect(leaseSettings("")).toEqual({ write: {}, read: {} });
  expect(leaseSettings("ReplicatedMergeTree")).toEqual({ write: { insert_quorum: "auto", insert_quorum_parallel: 0 }, read: { select_sequential_consistency: 1 } });
});
