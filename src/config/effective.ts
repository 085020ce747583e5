/**
 * The effective configuration written back as the file that gives it (`config check`): every
 * section with its defaults, snake_case keys as in the file, environment overrides and resolved
 * paths applied, secrets masked. Loading the printed TOML again gives the same configuration.
 */
import { stringify } from "smol-toml";
import type { Config } from "./index";

export const MASK = "***";

/** The URL with its password (user:password@) masked. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = MASK;
    return u.toString();
  } catch {
    return url.replace(/\/\/([^/:@]*):[^/@]*@/, `//$1:${MASK}@`);
  }
}

/** The password in a URL (http://user:password@host), if any. */
export function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}

/** What other layers resolved and the file cannot say by itself. */
export interface Resolved {
  /** The libchdb.so the embedded driver will load. */
  libchdb?: string;
  daemon?: { state_dir: string; status_file: string; spool_dir: string };
  /** Per enabled service: the queue, exchange and routing keys it will use. */
  services?: Record<string, { queue: string; exchange: string; routing_keys: string[] }>;
}

type Table = Record<string, unknown>;

/** The same keys with `first` in front and undefined values left out, so the order never depends on where a value came from. */
function ordered(obj: Table, first: string[]): Table {
  const out: Table = {};
  for (const k of [...first, ...Object.keys(obj)]) if (obj[k] !== undefined && !(k in out)) out[k] = obj[k];
  return out;
}

function secret(value: string | undefined, fromFile: string | undefined): Table {
  if (fromFile) return { password_file: fromFile };
  return value ? { password: MASK } : {};
}

/** The effective configuration as a TOML-shaped object (snake_case keys, secrets masked). */
export function effectiveConfig(c: Config, resolved: Resolved = {}): Table {
  const f = c.file;
  const d = c.database;
  const embedded: Table = { ...f.database.embedded };
  const { password: _p, password_file: _pf, ...httpRest } = f.database.http;
  let http: Table = { ...httpRest, url: maskUrl(f.database.http.url), ...secret(f.database.http.password, f.database.http.password_file) };
  if (d.driver === "embedded") {
    embedded.path = d.path;
    if (resolved.libchdb ?? d.libchdb) embedded.libchdb = resolved.libchdb ?? d.libchdb;
  } else {
    http = {
      ...http,
      url: maskUrl(d.url),
      user: d.user,
      ...(d.ca ? { ca: d.ca } : {}),
      ...secret(d.password, f.database.http.password_file),
    };
  }
  const a = c.amqp;
  const { password: _ap, password_file: _apf, ...amqpRest } = f.amqp;
  const amqp: Table = {
    ...amqpRest,
    host: a.host,
    username: a.username,
    tls: a.tls,
    cacert: a.cacert ?? "",
    cert: a.cert ?? "",
    key: a.key ?? "",
    // "guest" is the broker's well-known default, not a secret
    ...(a.password === "guest" && !f.amqp.password_file ? {} : secret(a.password, f.amqp.password_file)),
  };
  const services: Table = {};
  for (const [name, s] of Object.entries(f.services)) services[name] = ordered({ ...s, ...(resolved.services?.[name] ?? {}) }, ["enabled", "queue", "exchange", "declare_exchange", "routing_keys"]);
  return {
    database: { driver: d.driver, name: d.database, embedded, http },
    log: { level: c.log.level, format: c.log.format, ...(c.log.file ? { file: c.log.file } : {}) },
    load: { workers: c.load.workers },
    repo_dirs: c.repoDirs,
    task_dirs: c.taskDirs,
    amqp,
    notifier: { ...f.notifier, ...(resolved.daemon ? { spool_dir: resolved.daemon.spool_dir } : {}) },
    daemon: { ...f.daemon, ...(resolved.daemon ? { state_dir: resolved.daemon.state_dir, status_file: resolved.daemon.status_file } : {}) },
    services,
    triggers: f.triggers,
    bot: botSection(c),
  };
}

/** [bot] with the token masked (a token_file is shown by its path). */
function botSection(c: Config): Table {
  const { token: _t, token_file, ...telegram } = c.file.bot.telegram;
  const webhook = { ...c.file.bot.webhook, url: c.file.bot.webhook.url ? maskUrl(c.file.bot.webhook.url) : "" };
  return { ...c.file.bot, telegram: { ...telegram, ...(token_file ? { token_file } : c.botToken ? { token: MASK } : {}) }, webhook };
}

/** As a TOML file, with a header comment naming where it came from. */
export function effectiveToml(c: Config, resolved: Resolved = {}): string {
  const head = `# effective configuration of ${c.source ?? "(built-in defaults)"}: defaults, environment overrides and resolved paths applied, secrets masked\n\n`;
  return head + stringify(effectiveConfig(c, resolved)) + "\n";
}
