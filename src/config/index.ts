/**
 * Configuration: TOML validated with valibot.
 * Search order: --config, $ALTREPODB_CONFIG, ./altrepodb.toml, /etc/altrepodb/config.toml, built-in defaults.
 * Secrets may come from the environment (ALTREPODB_DB_PASSWORD) or a password_file.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir, availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import * as v from "valibot";
import { ConfigError } from "./errors";
import { locateKey } from "./locate";
import { FileSchema, type FileConfig } from "./schema";
import { maskUrl, urlPassword } from "./effective";
import type { BrokerOptions } from "../amqp/options";
import type { DbConfig } from "../db";

export { ConfigError } from "./errors";
export { FileSchema, type FileConfig } from "./schema";
export { effectiveConfig, effectiveToml, maskUrl, type Resolved } from "./effective";

export type LogLevel = "error" | "warn" | "info" | "debug" | "trace";

export interface Config {
  /** The file the values came from, or null for built-in defaults. */
  source: string | null;
  database: DbConfig;
  log: { level: LogLevel; format: "text" | "json"; file?: string };
  load: { workers: number };
  repoDirs: Record<string, string>;
  taskDirs: { tasks: string; archive: string };
  /** The broker (daemon, notifier, amqpfire). */
  amqp: AmqpConfig;
  /** The validated file, for sections other modules own. */
  file: FileConfig;
  /** The relay's Telegram bot token ($ALTREPODB_BOT_TOKEN, [bot.telegram] token_file or token); a secret. */
  botToken?: string;
}

/** The broker connection (src/amqp) and where dead letters go. */
export interface AmqpConfig extends BrokerOptions {
  deadLetterExchange: string;
}

export interface LoadOptions {
  /** --config */
  path?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

export function findConfigFile(opts: LoadOptions = {}): string | null {
  const env = opts.env ?? process.env;
  if (opts.path) return resolve(opts.cwd ?? process.cwd(), opts.path);
  if (env.ALTREPODB_CONFIG) return resolve(opts.cwd ?? process.cwd(), env.ALTREPODB_CONFIG);
  for (const p of [join(opts.cwd ?? process.cwd(), "altrepodb.toml"), "/etc/altrepodb/config.toml"]) if (existsSync(p)) return p;
  return null;
}

export function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? join(homedir(), p.slice(1)) : p;
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  if (issue.type === "strict_object" && issue.kind === "schema") return "unknown key";
  // a bad URL is quoted back: never with its password
  return issue.message.replace(/^Invalid (type|value|key): /, "").replace(/\/\/([^/:@\s"]*):[^/@\s"]*@/g, "//$1:***@");
}

/** Parses and validates TOML text; errors name the file, line and key. */
export function parseConfigText(text: string, file: string): FileConfig {
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    const err = e as Error & { line?: number };
    throw new ConfigError(`invalid TOML: ${err.message.split("\n")[0]}`, file, err.line);
  }
  const result = v.safeParse(FileSchema, raw);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const path = (issue.path ?? []).map((p) => p.key as string | number);
  const key = path.join(".");
  throw new ConfigError(describeIssue(issue), file, locateKey(text, path), key);
}

function readSecret(file: string, key: string): string {
  try {
    // the first line, as a secret file written by `echo` or an editor has a newline after it
    return readFileSync(file, "utf8").split("\n")[0].replace(/\r$/, "");
  } catch (e) {
    throw new ConfigError(`cannot read password file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, undefined, undefined, key);
  }
}

export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const source = findConfigFile(opts);
  let file: FileConfig;
  if (source) {
    let text: string;
    try {
      text = readFileSync(source, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError(code === "ENOENT" ? "config file not found" : `cannot read config file (${code ?? (e as Error).message})`, source);
    }
    file = parseConfigText(text, source);
  } else file = v.parse(FileSchema, {});
  return resolveConfig(file, source, env);
}

export function resolveConfig(file: FileConfig, source: string | null, env: Record<string, string | undefined> = process.env): Config {
  const db = file.database;
  const driver = (env.ALTREPODB_DB_DRIVER as "embedded" | "http" | undefined) ?? db.driver ?? "embedded";
  if (driver !== "embedded" && driver !== "http") throw new ConfigError(`ALTREPODB_DB_DRIVER must be "embedded" or "http", got ${JSON.stringify(driver)}`);
  const database = env.ALTREPODB_DB_NAME ?? db.name;
  if (env.ALTREPODB_DB_NAME !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
    throw new ConfigError(`ALTREPODB_DB_NAME must be a plain identifier (letters, digits, _), got ${JSON.stringify(database)}`);
  if (env.ALTREPODB_DB_URL !== undefined && !URL.canParse(env.ALTREPODB_DB_URL)) throw new ConfigError(`ALTREPODB_DB_URL is not a URL: ${JSON.stringify(maskUrl(env.ALTREPODB_DB_URL))}`);
  let dbConfig: Config["database"];
  if (driver === "embedded") {
    // under the systemd unit (StateDirectory=, ProtectHome=yes) the state directory; else the user's data home
    const dataHome = env.XDG_DATA_HOME || join(homedir(), ".local", "share");
    const state = env.STATE_DIRECTORY?.split(":")[0];
    const defaultPath = state ? join(state, "db") : join(dataHome, "altrepodb", "db");
    dbConfig = {
      driver,
      database,
      path: resolve(expandHome(env.ALTREPODB_DB_PATH ?? db.embedded.path ?? defaultPath)),
      libchdb: env.ALTREPODB_LIBCHDB ?? (db.embedded.libchdb ? expandHome(db.embedded.libchdb) : undefined),
    };
  } else {
    const h = db.http;
    const password =
      env.ALTREPODB_DB_PASSWORD ?? (h.password_file ? readSecret(expandHome(h.password_file), "database.http.password_file") : (h.password ?? ""));
    dbConfig = {
      driver,
      database,
      url: env.ALTREPODB_DB_URL ?? h.url,
      user: env.ALTREPODB_DB_USER ?? h.user,
      password,
      ca: h.ca ? expandHome(h.ca) : undefined,
      compression: h.compression,
      requestTimeoutMs: h.request_timeout * 1000,
      maxRetries: h.max_retries,
    };
  }
  const a = file.amqp;
  const amqp: AmqpConfig = {
    host: env.ALTREPODB_AMQP_HOST ?? a.host,
    port: a.port,
    vhost: a.vhost,
    username: env.ALTREPODB_AMQP_USER ?? a.username,
    password: env.ALTREPODB_AMQP_PASSWORD ?? (a.password_file ? readSecret(expandHome(a.password_file), "amqp.password_file") : (a.password ?? "guest")),
    tls: a.tls || Boolean(a.cacert || a.cert || a.key),
    cacert: a.cacert ? expandHome(a.cacert) : undefined,
    cert: a.cert ? expandHome(a.cert) : undefined,
    key: a.key ? expandHome(a.key) : undefined,
    heartbeat: a.heartbeat,
    connectTimeoutMs: a.connect_timeout * 1000,
    reconnectDelayMs: a.reconnect_delay * 1000,
    reconnectDelayMaxMs: a.reconnect_delay_max * 1000,
    deadLetterExchange: a.dead_letter_exchange,
  };
  return {
    source,
    database: dbConfig,
    log: { level: file.log.level, format: file.log.format, file: file.log.file ? expandHome(file.log.file) : undefined },
    // half the CPUs: measured on 2 cores, a second parser thread made loads slower (the engine's
    // insert threads need the other core) and cost 30 MB more memory
    load: { workers: file.load.workers ?? Math.max(1, Math.floor(availableParallelism() / 2)) },
    repoDirs: file.repo_dirs,
    taskDirs: file.task_dirs,
    amqp,
    file,
    botToken: botToken(file, env),
  };
}

function botToken(file: FileConfig, env: Record<string, string | undefined>): string | undefined {
  const t = file.bot.telegram;
  const token = env.ALTREPODB_BOT_TOKEN ?? (t.token_file ? readSecret(expandHome(t.token_file), "bot.telegram.token_file") : t.token);
  return token || undefined;
}

/** The effective configuration with secrets replaced, for `config check` and logs. */
export function maskedConfig(c: Config): Record<string, unknown> {
  const database = c.database.driver === "http" ? { ...c.database, url: maskUrl(c.database.url), password: c.database.password ? "***" : "" } : { ...c.database };
  const amqp = { ...c.amqp, password: c.amqp.password ? "***" : "" };
  return { source: c.source, database, log: c.log, load: c.load, repo_dirs: c.repoDirs, task_dirs: c.taskDirs, amqp };
}

/** Values that must never appear in logs. */
export function secretsOf(c: Config): string[] {
  const out = c.database.driver === "http" && c.database.password ? [c.database.password] : [];
  const inUrl = c.database.driver === "http" ? urlPassword(c.database.url) : undefined;
  if (inUrl) out.push(inUrl, encodeURIComponent(inUrl));
  // "guest" is the broker's well-known default, masking it would only garble log lines
  if (c.amqp.password && c.amqp.password !== "guest") out.push(c.amqp.password);
  if (c.botToken) out.push(c.botToken);
  return out;
}
