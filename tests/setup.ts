// Preloaded by `bun test` (bunfig.toml): a scratch area per run, and no leftovers of dead runs.
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

process.env.LANG = "C";
const scratch = join(import.meta.dir, "..", ".tmp", "test");
mkdirSync(scratch, { recursive: true });
process.env.ALTREPODB_TEST_SCRATCH ??= scratch;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

for (const name of readdirSync(scratch)) {
  const m = /^chdb-(\d+)$/.exec(name);
  if (m && Number(m[1]) !== process.pid && !alive(Number(m[1]))) rmSync(join(scratch, name), { recursive: true, force: true });
}

// Loaders log at info; tests only want to see problems.
import { setupLogging } from "../src/log";
setupLogging({ level: (process.env.ALTREPODB_TEST_LOG as "info" | undefined) ?? "warn" });
