/** The migration runner: bookkeeping, idempotency, a failing step, a changed file; and the db commands. */
import { describe, expect, test } from "bun:test";
import { DbError } from "../../src/db";
import { loadMigrations, migrate, migrationStatus } from "../../src/db/migrations";
import { cli, newConfig } from "../helpers/cli";
import { testDb } from "../helpers/db";

const files = (second: string) => ({
  "0001_first.sql": "CREATE TABLE IF NOT EXISTS m_one (a UInt8) ENGINE = MergeTree ORDER BY a;\n",
  "0002_second.sql": second,
});

describe("migration runner", () => {
  test("applies in order, records each, and is idempotent", async () => {
    const db = await testDb("mig");
    const ms = loadMigrations(files("CREATE TABLE IF NOT EXISTS m_two (b UInt8) ENGINE = MergeTree ORDER BY b;\n"));
    expect((await migrationStatus(db, ms)).map((s) => s.state)).toEqual(["pending", "pending"]);
    expect(await migrate(db, {}, ms)).toEqual(["0001_first.sql", "0002_second.sql"]);
    expect(await migrate(db, {}, ms)).toEqual([]);
    const st = await migrationStatus(db, ms);
    expect(st.map((s) => s.state)).toEqual(["applied", "applied"]);
    expect(st[0].appliedAt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    await db.close();
  });

  test("a failing statement is recorded with its step; fixing it and running again completes", async () => {
    const db = await testDb("mig");
    const bad = loadMigrations(files("CREATE TABLE IF NOT EXISTS m_two (b UInt8) ENGINE = MergeTree ORDER BY b;\nSELECT no_such_function();\n"));
    const err = await migrate(db, {}, bad).catch((e) => e);
    expect(err).toBeInstanceOf(DbError);
    // the file, the statement's number and its beginning, then the server's reason
    expect(err.message).toContain("migration 0002_second.sql failed at statement 2 of 2 (SELECT no_such_function()): ");
    expect(err.message).toContain("no_such_function");
    const st = await migrationStatus(db, bad);
    expect(st[0].state).toBe("applied");
    expect(st[1]).toMatchObject({ state: "failed", failedStep: 2 });
    expect(st[1].error).toContain("no_such_function");
    const fixed = loadMigrations(files("CREATE TABLE IF NOT EXISTS m_two (b UInt8) ENGINE = MergeTree ORDER BY b;\n"));
    expect(await migrate(db, {}, fixed)).toEqual(["0002_second.sql"]);
    expect((await migrationStatus(db, fixed)).map((s) => s.state)).toEqual(["applied", "applied"]);
    await db.close();
  });

  test("a long statement is named by its first words, on one line", async () => {
    const db = await testDb("mig");
    const stmt = "CREATE TABLE IF NOT EXISTS m_bad\n(\n    a UInt8,\n    b NoSuchType\n)\nENGINE = MergeTree\nORDER BY a;\n";
    const err = await migrate(db, {}, loadMigrations(files(stmt))).catch((e) => e);
    expect(err).toBeInstanceOf(DbError);
    expect(err.message).toContain("migration 0002_second.sql failed at statement 1 of 1 (CREATE TABLE IF NOT EXISTS m_bad ( a UInt8, b NoSuchType )…): ");
    expect(err.message).not.toContain("\n");
    await db.close();
  });

  test("a migration changed after it was applied is refused, not re-run", async () => {
    const db = await testDb("mig");
    await migrate(db, {}, loadMigrations(files("SELECT 1;\n")));
    const changed = loadMigrations(files("SELECT 2;\n"));
    expect((await migrationStatus(db, changed))[1].state).toBe("changed");
    await expect(migrate(db, {}, changed)).rejects.toThrow("0002_second.sql was changed after it was applied");
    await db.close();
  });
});

describe("db commands", () => {
  test("db init twice, db status lists every migration as applied", () => {
    const cfg = newConfig("dbcmd");
    expect(cli(cfg, ["db", "init"]).code).toBe(0);
    const again = cli(cfg, ["db", "init"]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("schema is up to date");
    const status = cli(cfg, ["db", "status", "--json"]);
    expect(status.code).toBe(0);
    const rows = status.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.length).toBe(loadMigrations().length);
    expect(rows.every((r) => r.state === "applied")).toBe(true);
  });

  test("a second process on the same data directory gets 'locked by pid N' and exit code 3", async () => {
    const cfg = newConfig("dblock");
    expect(cli(cfg, ["db", "init"]).code).toBe(0);
    const { CLI } = await import("../helpers/cli");
    // hold the directory with a long query in another process
    const holder = Bun.spawn([...CLI, "-c", cfg, "sql", "SELECT sleep(3)"], { stdout: "ignore", stderr: "ignore" });
    await Bun.sleep(1500);
    const second = cli(cfg, ["sql", "SELECT 1"]);
    holder.kill();
    await holder.exited;
    expect(second.code).toBe(3);
    expect(second.stderr).toMatch(/is locked by pid \d+/);
  });

  test("config errors exit 2 and name the key", () => {
    const cfg = newConfig("dbcfg");
    Bun.write(cfg, "[database]\ndriver = 'mysql'\n");
    const r = cli(cfg, ["db", "status"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${cfg}:2: database.driver`);
  });
});
