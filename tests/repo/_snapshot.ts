/** Shared set-up of the repo loader tests: fixture snapshots and a load context on the embedded engine. */
import { log } from "../../src/log";
import { loadConfig } from "../../src/config";
import type { Db } from "../../src/db";
import { migrate } from "../../src/db/migrations";
import type { LoadContext } from "../../src/loaders/context";
import { buildEdgeCasePackages } from "../fixtures/rpms";
import { makeSnapshot, type SnapshotOptions, type SnapshotResult } from "../fixtures/snapshot";
import { scratchDir } from "../fixtures/_util";
import { testDb } from "../helpers/db";

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

let edge: Promise<string[]> | undefined;

/** Every edge-case package file (built once, cached on disk). */
export function edgeCaseFiles(): Promise<string[]> {
  edge ??= buildEdgeCasePackages().then((m) => m.packages.map((p) => p.file));
  return edge;
}

export async function edgeSnapshot(opts: Partial<SnapshotOptions> = {}): Promise<SnapshotResult> {
  const files = await edgeCaseFiles();
  return makeSnapshot(scratchDir("snap"), { packages: files, ...opts });
}
