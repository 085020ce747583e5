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

/** Takes -c/--config, -v/--verbose, -q/--quiet and --log-format out of argv, wherever they are. */
export function extractGlobalFlags(argv: string[]): string[] {
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (name: string): string => {
      const eq = a.indexOf("=");
      if (eq > 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${name} needs a value`);
      return v;
    };
    if (a === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === "-c" || a === "--config" || a.startsWith("--config=")) globalFlags.config = value("--config");
    else if (a === "-v" || a === "--verbose") globalFlags.verbose++;
    else if (a === "-vv") globalFlags.verbose += 2;
    else if (a === "-q" || a === "--quiet") globalFlags.quiet = true;
    else if (a === "--log-format" || a.startsWith("--log-format=")) {
      const f = value("--log-format");
      if (f !== "text" && f !== "json") throw new UsageError(`--log-format must be text or json, not ${JSON.stringify(f)}`);
      globalFlags.logFormat = f;
    } else rest.push(a);
  }
  return rest;
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
