// Preloaded by `bun test` (bunfig.toml). Keeps every test run in its own scratch area.
import { mkdirSync } from "node:fs";
import { join } from "node:path";

process.env.LANG = "C";
const scratch = join(import.meta.dir, "..", ".tmp", "test");
mkdirSync(scratch, { recursive: true });
process.env.ALTREPODB_TEST_SCRATCH ??= scratch;
