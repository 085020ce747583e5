/**
 * The migration texts. `build.ts` compiles them into the binary (the __ALTREPODB_MIGRATIONS__
 * constant); run from source, they are read from the sql/ directory of the tree.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

declare const __ALTREPODB_MIGRATIONS__: Record<string, string> | undefined;

export const SQL_DIR = join(import.meta.dir, "..", "..", "..", "sql");

export function readSqlDir(dir = SQL_DIR): Record<string, string> {
  const out: Record<string, string> = {};
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) if (/^\d{4}_.*\.sql$/.test(f)) out[f] = readFileSync(join(dir, f), "utf8");
  return out;
}

export function migrationFiles(): Record<string, string> {
  return typeof __ALTREPODB_MIGRATIONS__ !== "undefined" ? __ALTREPODB_MIGRATIONS__ : readSqlDir();
}
