/**
 * Databases for tests. The embedded engine allows one data directory per process, so every
 * test file of a `bun test` run shares one directory (removed by tests/setup.ts once its process
 * is gone) and gets a fresh database of its own. Call it at module level or in beforeAll.
 */
import { join } from "node:path";
import { openDb, type Db } from "../../src/db";

export const TEST_DATA_DIR = join(process.env.ALTREPODB_TEST_SCRATCH ?? join(import.meta.dir, "..", "..", ".tmp", "test"), `chdb-${process.pid}`);

let seq = 0;

/** A connected embedded database with a unique name. */
export async function testDb(prefix = "t"): Promise<Db> {
  const database = `${prefix}_${Date.now().toString(36)}_${++seq}`;
  return openDb({ driver: "embedded", path: TEST_DATA_DIR, database });
}
