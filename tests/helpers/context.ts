/** A migrated test database and the load context the CLI would build for it. */
import { loadConfig } from "../../src/config";
import type { Db } from "../../src/db";
import { migrate } from "../../src/db/migrations";
import type { LoadContext } from "../../src/loaders/context";
import { log } from "../../src/log";
import { testDb } from "./db";

export async function migratedDb(prefix: string): Promise<Db> {
  const db = await testDb(prefix);
  await migrate(db);
  return db;
}

export function contextFor(db: Db): LoadContext {
  const config = loadConfig({ env: {}, cwd: "/nonexistent" });
  config.load.workers = 2;
  return { db, config, log: log.child("test") };
}
