/**
 * Applies every migration to a fresh database on the embedded engine and compares the result
 * with the hand-written expectations in expected-columns.ts; then applies everything again.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { Db } from "../../src/db";
import { quoteIdent, quoteString } from "../../src/db/sql";
import { loadMigrations, migrate, MIGRATIONS_TABLE } from "../../src/db/migrations";
import { testDb } from "../helpers/db";
import { BUFFERS, FUNCTIONS, MATERIALIZED_EXPRESSIONS, MATERIALIZED_VIEWS, TABLES, VIEW_COLUMNS, VIEWS } from "./expected-columns";

interface ColumnRow {
  table: string;
  name: string;
  type: string;
  default_kind: string;
  default_expression: string;
}
interface TableRow {
  name: string;
  engine: string;
  engine_full: string;
  sorting_key: string;
  create_table_query: string;
}

async function columns(db: Db): Promise<Map<string, ColumnRow[]>> {
  const rows = await db.query<ColumnRow>(
    `SELECT table, name, type, default_kind, default_expression FROM system.columns
     WHERE database = currentDatabase() ORDER BY table, position`,
  );
  const out = new Map<string, ColumnRow[]>();
  for (const r of rows) {
    if (!out.has(r.table)) out.set(r.table, []);
    out.get(r.table)!.push(r);
  }
  return out;
}

async function tables(db: Db): Promise<Map<string, TableRow>> {
  const rows = await db.query<TableRow>(
    `SELECT name, engine, engine_full, sorting_key, create_table_query FROM system.tables WHERE database = currentDatabase()`,
  );
  return new Map(rows.map((r) => [r.name, r]));
}

/** Every statement of every migration, as the runner sends it. */
function allStatements(db: Db): string[] {
  return loadMigrations().flatMap((m) => m.statements.map((s) => s.replaceAll("{database}", quoteIdent(db.database))));
}

describe("migrations on a fresh embedded database", () => {
  let db: Db;
  let cols: Map<string, ColumnRow[]>;
  let tabs: Map<string, TableRow>;

  beforeAll(async () => {
    db = await testDb("schema");
    const applied = await migrate(db);
    expect(applied).toEqual(loadMigrations().map((m) => m.name));
    cols = await columns(db);
    tabs = await tables(db);
  });

  test("migration versions are unique and the schema files start at 0001", () => {
    const versions = loadMigrations().map((m) => m.version);
    expect(new Set(versions).size).toBe(versions.length);
    expect(versions.slice(0, 4)).toEqual([1, 2, 3, 4]);
  });

  for (const [name, spec] of Object.entries(TABLES)) {
    test(`table ${name}: engine and columns (${spec.doc})`, () => {
      const t = tabs.get(name);
      expect(t, `${name} missing`).toBeDefined();
      expect(t!.engine).toBe(spec.engine);
      const actual = (cols.get(name) ?? []).map((c) => [c.name, c.type, c.default_kind]);
      const expected = spec.columns.map(([n, type, kind]) => [n, type, kind ?? ""]);
      expect(actual).toEqual(expected);
      if (spec.orderBy) expect(t!.sorting_key).toBe(spec.orderBy);
    });
  }

  test("no table, view or materialized view that is not expected", () => {
    // altrepodb_* tables are this project's own bookkeeping (not part of the reference schema)
    const known = new Set([...Object.keys(TABLES), ...Object.keys(VIEWS), ...Object.keys(MATERIALIZED_VIEWS), MIGRATIONS_TABLE]);
    const extra = [...tabs.keys()].filter((n) => !known.has(n) && !n.startsWith("altrepodb_")).sort();
    expect(extra).toEqual([]);
  });

  test("Buffer tables point at their destination with the reference parameters (RTL §4.2)", () => {
    for (const [name, b] of Object.entries(BUFFERS)) {
      const t = tabs.get(name)!;
      expect(t.engine).toBe("Buffer");
      expect(t.engine_full.replace(/\\'/g, "'")).toBe(`Buffer('${db.database}', '${b.dest}', ${b.params})`);
    }
    const buffers = [...tabs.values()].filter((t) => t.engine === "Buffer").map((t) => t.name).sort();
    expect(buffers).toEqual(Object.keys(BUFFERS).sort());
  });

  test("server-side hash columns keep their expressions", () => {
    for (const [key, expr] of Object.entries(MATERIALIZED_EXPRESSIONS)) {
      const [table, column] = key.split(".");
      const c = cols.get(table)!.find((x) => x.name === column)!;
      expect(c.default_kind).toBe("MATERIALIZED");
      expect(c.default_expression).toBe(expr);
    }
  });

  test("views exist and every one answers a SELECT on the empty database", async () => {
    for (const name of Object.keys(VIEWS)) {
      expect(tabs.get(name)?.engine, name).toBe("View");
      const rows = await db.query(`SELECT * FROM ${quoteIdent(name)} LIMIT 1`);
      expect(rows, name).toEqual([]);
    }
  });

  test("views the API reads by column name have those columns", () => {
    for (const [name, expected] of Object.entries(VIEW_COLUMNS)) {
      expect((cols.get(name) ?? []).map((c) => c.name), name).toEqual([...expected]);
    }
  });

  test("views over Packages show the post-2022 columns (recreated after ALTER)", () => {
    for (const v of ["last_packages", "all_packages", "all_packages_with_source", "last_packages_with_source", "PackagesWithLastChangelog_view", "last_cve"]) {
      const names = (cols.get(v) ?? []).map((c) => c.name);
      expect(names, v).toContain("pkg_vcs");
      expect(names, v).toContain("pkg_posttrans");
      expect(names.filter((n) => n.includes(".") && !n.startsWith("pkg_changelog.") && !n.startsWith("pkgset_kv.")), v).toEqual([]);
    }
  });

  test("materialized views read their source and write their target", async () => {
    for (const [name, mv] of Object.entries(MATERIALIZED_VIEWS)) {
      const t = tabs.get(name);
      expect(t?.engine, name).toBe("MaterializedView");
      expect(t!.create_table_query, name).toContain(` TO ${db.database}.${mv.to} `);
    }
    const deps = await db.query<{ name: string; mvs: string[] }>(
      `SELECT name, dependencies_table AS mvs FROM system.tables WHERE database = currentDatabase() AND notEmpty(dependencies_table)`,
    );
    const sources = new Map<string, string>();
    for (const d of deps) for (const mv of d.mvs) sources.set(mv, d.name);
    for (const [name, mv] of Object.entries(MATERIALIZED_VIEWS)) expect(sources.get(name), name).toBe(mv.from);
  });

  test("SQL functions the API calls exist", async () => {
    const rows = await db.query<{ name: string }>(
      `SELECT name FROM system.functions WHERE origin = 'SQLUserDefined' AND name IN (${FUNCTIONS.map(quoteString).join(", ")})`,
    );
    expect(rows.map((r) => r.name).sort()).toEqual([...FUNCTIONS].sort());
  });

  test("idempotent: migrate() again applies nothing", async () => {
    expect(await migrate(db)).toEqual([]);
  });

  test("idempotent: every statement can run a second time and changes nothing", async () => {
    for (const s of allStatements(db)) await db.command(s);
    expect(await columns(db)).toEqual(cols);
    const again = await tables(db);
    expect([...again.keys()].sort()).toEqual([...tabs.keys()].sort());
    for (const [name, t] of tabs) expect(again.get(name)!.engine_full, name).toBe(t.engine_full);
  });
});
