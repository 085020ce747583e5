/**
 * Databases for tests. The embedded engine allows one data directory per process, so every
 * test file of a `bun test` run shares one directory and gets a fresh database of its own.
 */
import { afterAll } from "bun:test";
import { join } from "node:path";
import { openDb, type Db } from "../../src/db";

export const TEST_DATA_DIR = join(process.env.ALTREPODB_TEST_SCRATCH ?? join(import.meta.dir, "..", "..", ".tmp", "test"), `chdb-${process.pid}`);

let seq = 0;

/** A connected embedded database with a unique name, dropped after the test file. */
export async function testDb(prefix = "t"): Promise<Db> {
  const database = `${prefix}_${process.pid}_${Date.now().toString(36)}_${++seq}`;
  const db = await openDb({ driver: "embedded", path: TEST_DATA_DIR, database });
  afterAll(async () => {
    await db.command(`DROP DATABASE IF EXISTS \`${database}\``).catch(() => {});
    await db.close();
  });
  return db;
}
