/** splitStatements / toClusterStatement (src/db/migrations/cluster.ts). */
import { describe, expect, test } from "bun:test";
import { quoteString } from "../../src/db/sql";
import { loadMigrations } from "../../src/db/migrations";
import { splitStatements, toClusterStatement } from "../../src/db/migrations/cluster";
import { testDb } from "../helpers/db";

describe("splitStatements", () => {
  test("splits on top-level semicolons and trims", () => {
    expect(splitStatements("CREATE TABLE a (x UInt8) ENGINE = Null;\n\nSELECT 1;\n")).toEqual([
      "CREATE TABLE a (x UInt8) ENGINE = Null",
      "SELECT 1",
    ]);
  });

  test("the last statement may lack its semicolon; empty statements are dropped", () => {
    expect(splitStatements(";;\nSELECT 1;\n;\nSELECT 2")).toEqual(["SELECT 1", "SELECT 2"]);
    expect(splitStatements("  \n-- only a comment\n")).toEqual([]);
  });

  test("semicolons inside literals, quoted identifiers and comments do not split", () => {
    const text = [
      "SELECT 'a;b', 'it\\'s; fine', 'x'';y' AS `c;d`, \"e;f\";",
      "-- a comment; with a semicolon",
      "SELECT 2 /* block; comment */ + 1;",
    ].join("\n");
    expect(splitStatements(text)).toEqual(["SELECT 'a;b', 'it\\'s; fine', 'x'';y' AS `c;d`, \"e;f\"", "SELECT 2   + 1"]);
  });

  test("comments are removed, string contents are kept verbatim", () => {
    expect(splitStatements("-- head\nCREATE VIEW v AS -- tail\nSELECT '-- not a comment' AS s;")).toEqual([
      "CREATE VIEW v AS \nSELECT '-- not a comment' AS s",
    ]);
  });

  test("unterminated literals and comments are errors", () => {
    expect(() => splitStatements("SELECT 'abc;")).toThrow(/unterminated string literal/);
    expect(() => splitStatements("SELECT 1 /* x;")).toThrow(/unterminated comment/);
  });
});

describe("toClusterStatement", () => {
  const c = (sql: string, cluster = "main") => toClusterStatement(sql, cluster);

  test("MergeTree family → Replicated with the table's path; ON CLUSTER after the name", () => {
    expect(c("CREATE TABLE IF NOT EXISTS Acl (a String) ENGINE = MergeTree PRIMARY KEY a ORDER BY a")).toBe(
      "CREATE TABLE IF NOT EXISTS Acl ON CLUSTER main (a String) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/Acl', '{replica}') PRIMARY KEY a ORDER BY a",
    );
    expect(c("CREATE TABLE t (a UInt8, ts DateTime) ENGINE = ReplacingMergeTree(ts) ORDER BY a")).toBe(
      "CREATE TABLE t ON CLUSTER main (a UInt8, ts DateTime) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}', ts) ORDER BY a",
    );
    expect(c("CREATE TABLE t (a UInt8) ENGINE ReplacingMergeTree() ORDER BY a")).toBe(
      "CREATE TABLE t ON CLUSTER main (a UInt8) ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}') ORDER BY a",
    );
    expect(c("CREATE TABLE s (b SimpleAggregateFunction(max, UInt32), k String)\nENGINE = AggregatingMergeTree\nORDER BY k")).toBe(
      "CREATE TABLE s ON CLUSTER main (b SimpleAggregateFunction(max, UInt32), k String)\nENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/{database}/s', '{replica}')\nORDER BY k",
    );
  });

  test("quoted and qualified names", () => {
    expect(c("CREATE TABLE `db`.`my-t` (a UInt8) ENGINE = MergeTree ORDER BY a")).toBe(
      "CREATE TABLE `db`.`my-t` ON CLUSTER main (a UInt8) ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/my-t', '{replica}') ORDER BY a",
    );
  });

  test("other engines keep their engine", () => {
    expect(c("CREATE TABLE IF NOT EXISTS P_buffer AS P ENGINE = Buffer(`db`, P, 16, 10, 100, 1, 2, 3, 4)")).toBe(
      "CREATE TABLE IF NOT EXISTS P_buffer ON CLUSTER main AS P ENGINE = Buffer(`db`, P, 16, 10, 100, 1, 2, 3, 4)",
    );
    expect(c("CREATE TABLE IF NOT EXISTS F (a String) ENGINE = Null")).toBe("CREATE TABLE IF NOT EXISTS F ON CLUSTER main (a String) ENGINE = Null");
  });

  test("a column named engine, comments and strings do not confuse the engine search", () => {
    expect(c("CREATE TABLE t (engine String, x String DEFAULT 'ENGINE = MergeTree') -- ENGINE = MergeTree\nENGINE = SummingMergeTree((x)) ORDER BY engine")).toBe(
      "CREATE TABLE t ON CLUSTER main (engine String, x String DEFAULT 'ENGINE = MergeTree') -- ENGINE = MergeTree\nENGINE = ReplicatedSummingMergeTree('/clickhouse/tables/{shard}/{database}/t', '{replica}', (x)) ORDER BY engine",
    );
  });

  test("views, materialized views, functions, ALTER, DROP", () => {
    expect(c("CREATE OR REPLACE VIEW v AS SELECT 'ENGINE = MergeTree' AS s")).toBe("CREATE OR REPLACE VIEW v ON CLUSTER main AS SELECT 'ENGINE = MergeTree' AS s");
    expect(c("CREATE MATERIALIZED VIEW IF NOT EXISTS mv TO Files\nAS SELECT 1 AS a FROM Files_insert")).toBe(
      "CREATE MATERIALIZED VIEW IF NOT EXISTS mv ON CLUSTER main TO Files\nAS SELECT 1 AS a FROM Files_insert",
    );
    expect(c("CREATE MATERIALIZED VIEW mv ENGINE = MergeTree ORDER BY a AS SELECT a FROM t")).toBe(
      "CREATE MATERIALIZED VIEW mv ON CLUSTER main ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/mv', '{replica}') ORDER BY a AS SELECT a FROM t",
    );
    expect(c("CREATE OR REPLACE FUNCTION f AS (x) -> x + 1")).toBe("CREATE OR REPLACE FUNCTION f ON CLUSTER main AS (x) -> x + 1");
    expect(c("ALTER TABLE Packages\n    ADD COLUMN IF NOT EXISTS pkg_vcs String")).toBe("ALTER TABLE Packages ON CLUSTER main\n    ADD COLUMN IF NOT EXISTS pkg_vcs String");
    expect(c("DROP TABLE IF EXISTS t")).toBe("DROP TABLE IF EXISTS t ON CLUSTER main");
    expect(c("CREATE DATABASE IF NOT EXISTS repodb")).toBe("CREATE DATABASE IF NOT EXISTS repodb ON CLUSTER main");
  });

  test("statements that are not DDL, temporary tables and ON CLUSTER statements are unchanged", () => {
    for (const s of [
      "INSERT INTO t VALUES (1)",
      "SELECT * FROM t",
      "SET allow_experimental_x = 1",
      "CREATE TEMPORARY TABLE tmp (a UInt8)",
      "CREATE TABLE t ON CLUSTER other (a UInt8) ENGINE = MergeTree ORDER BY a",
    ]) {
      expect(c(s)).toBe(s);
    }
  });

  test("cluster names that are not identifiers become string literals (macros work)", () => {
    expect(c("DROP VIEW v", "{cluster}")).toBe("DROP VIEW v ON CLUSTER '{cluster}'");
    expect(c("DROP VIEW v", "my-cluster")).toBe("DROP VIEW v ON CLUSTER 'my-cluster'");
    expect(() => c("DROP VIEW v", "")).toThrow();
  });

  test("a CREATE TABLE without an explicit engine is refused", () => {
    expect(() => c("CREATE TABLE x AS y")).toThrow(/no explicit ENGINE/);
    expect(() => c("CREATE TABLE x (a UInt8) ORDER BY a")).toThrow(/no explicit ENGINE/);
  });
});

describe("the migrations in cluster mode", () => {
  const statements = loadMigrations().flatMap((m) => m.statements.map((s) => ({ file: m.name, sql: s.replaceAll("{database}", "`repodb`") })));

  test("every DDL statement gets ON CLUSTER; every MergeTree-family table is replicated under its own path", () => {
    for (const { file, sql } of statements) {
      const out = toClusterStatement(sql, "altrepo");
      expect(out, `${file}: ${sql.slice(0, 80)}`).toMatch(/ ON CLUSTER altrepo\b/);
      const create = /^CREATE TABLE IF NOT EXISTS (\w+)/.exec(sql);
      const family = /ENGINE = (\w*MergeTree)\b/.exec(sql);
      if (create && family) {
        expect(out).toContain(`ENGINE = Replicated${family[1]}('/clickhouse/tables/{shard}/{database}/${create[1]}', '{replica}'`);
        expect(out).not.toMatch(/ENGINE = (?!Replicated)\w*MergeTree/);
      }
      if (/ENGINE = Buffer/.test(sql)) expect(out).toContain("ENGINE = Buffer(`repodb`, ");
      expect(toClusterStatement(out, "altrepo")).toBe(out);
    }
  });

  test("every rewritten statement is valid ClickHouse syntax", async () => {
    const db = await testDb("cluster");
    for (const { file, sql } of statements) {
      const out = toClusterStatement(sql, "altrepo");
      await db.query(`SELECT formatQuery(${quoteString(out)}) AS q`).catch((e) => {
        throw new Error(`${file}: ${(e as Error).message}\n${out}`);
      });
    }
  });
});
