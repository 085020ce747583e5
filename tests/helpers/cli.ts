/**
 * Running `altrepodb` as a user does: a separate process (source tree, or the compiled binary
 * named by ALTREPODB_TEST_BINARY) with its own config and embedded database.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../fixtures/_util";

const ROOT = join(import.meta.dir, "..", "..");
export const CLI: string[] = process.env.ALTREPODB_TEST_BINARY ? [join(ROOT, process.env.ALTREPODB_TEST_BINARY)] : [process.execPath, join(ROOT, "src", "cli", "main.ts")];

export interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export function cli(config: string, args: string[], env: Record<string, string> = {}): Run {
  const r = Bun.spawnSync([...CLI, "-c", config, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, signal: r.signalCode ? String(r.signalCode) : null, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A config file with its own embedded data directory (and `db init` run when asked). */
export function newConfig(prefix: string, init = false): string {
  const dir = scratchDir(prefix);
  const path = join(dir, "altrepodb.toml");
  writeFileSync(path, `[database.embedded]\npath = "${join(dir, "db")}"\n[load]\nworkers = 2\n`);
  if (init) {
    const r = cli(path, ["db", "init"]);
    if (r.code !== 0) throw new Error(`db init failed: ${r.stderr}`);
  }
  return path;
}

/** Rows of a query, through `altrepodb sql --format JSONEachRow`. */
export function query(config: string, sql: string): Record<string, unknown>[] {
  const r = cli(config, ["sql", sql, "--format", "JSONEachRow"]);
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** The run's exit code is `code`; otherwise fail with the signal, stderr and stdout in the message. */
export function expectExit(r: Run, code: number): Run {
  if (r.code !== code) throw new Error(`exit code ${r.code} (signal ${r.signal}), expected ${code}\n--- stderr:\n${r.stderr}\n--- stdout:\n${r.stdout}`);
  return r;
}
