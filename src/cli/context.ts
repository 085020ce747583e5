/** Global flags, configuration, logging and the database, set up once per CLI run. */
import { loadConfig, secretsOf, type Config } from "../config";
import { openDb, type Db } from "../db";
import { log, setupLogging, type Level } from "../log";
import type { LoadContext } from "../loaders/context";
import { UsageError } from "./errors";

export interface GlobalFlags {
  config?: string;
  verbose: number;
  quiet: boolean;
  logFormat?: "text" | "json";
}

export const globalFlags: GlobalFlags = { verbose: 0, quiet: false };

/** The global flags parsed from the command line (src/cli/_args.ts) become the run's settings. */
export function applyGlobalFlags(g: Record<string, unknown>): void {
  if (g.config !== undefined) globalFlags.config = String(g.config);
  if (g.verbose) globalFlags.verbose = Number(g.verbose);
  if (g.quiet) globalFlags.quiet = true;
  const f = g["log-format"];
  if (f !== undefined) {
    if (f !== "text" && f !== "json") throw new UsageError(`--log-format must be text or json, not ${JSON.stringify(f)}`);
    globalFlags.logFormat = f;
  }
}

let config: Config | undefined;

/** The configuration, with command-line flags applied and logging set up. */
export function cliConfig(): Config {
  if (config) return config;
  config = loadConfig({ path: globalFlags.config });
  const level: Level = globalFlags.quiet ? "warn" : globalFlags.verbose >= 2 ? "trace" : globalFlags.verbose === 1 ? "debug" : config.log.level;
  setupLogging({ level, format: globalFlags.logFormat ?? config.log.format, file: config.log.file, secrets: secretsOf(config) });
  return config;
}

const opened: Db[] = [];

export async function cliDb(): Promise<Db> {
  const db = await openDb(cliConfig().database);
  opened.push(db);
  return db;
}

export async function closeAll(): Promise<void> {
  for (const db of opened.splice(0)) await db.close().catch(() => {});
}

/** Everything a loader needs, for a command that runs one. */
export async function cliLoadContext(tag: string, signal?: AbortSignal): Promise<LoadContext> {
  const cfg = cliConfig();
  return { db: await cliDb(), config: cfg, log: log.child(tag), signal };
}
