/** Shared set-up of the repo loader tests: fixture snapshots and a load context on the embedded engine. */
import { buildEdgeCasePackages } from "../fixtures/rpms";
import { makeSnapshot, type SnapshotOptions, type SnapshotResult } from "../fixtures/snapshot";
import { scratchDir } from "../fixtures/_util";
export { contextFor, migratedDb } from "../helpers/context";

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
