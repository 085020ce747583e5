/**
 * The http driver: a ClickHouse server reached over its HTTP interface (@clickhouse/client).
 *
 * Sessions. Temporary tables (and SET) live in a server session, and ClickHouse refuses a
 * second request of a session while one runs ("Session is locked by a concurrent client").
 * Every HttpDb therefore owns one session and sends ALL its requests in it, one at a time,
 * in call order: it behaves like the embedded driver's single connection (temporary tables,
 * SET and USE-free unqualified names all work across calls). Concurrent callers queue;
 * work that must run in parallel opens several HttpDb, each with its own session.
 * The session is kept for up to an hour between requests (session_timeout, capped at the
 * server's max_session_timeout) and expires a second after close().
 *
 * Retries (up to maxRetries, exponential backoff):
 *  - a request the server certainly did not run (connection refused, session busy, too many
 *    queries, HTTP 503) is sent again, whatever it is;
 *  - a request that broke after it was sent (reset, timeout, 502/504) is sent again only when
 *    that is harmless: a SELECT (not after a timeout), or an insert that carries an
 *    `insert_deduplication_token`, so the server drops the second copy of a batch that had
 *    arrived after all (every table the loaders write keeps a deduplication window, sql/0106;
 *    deduplicate_blocks_in_dependent_materialized_views=1 extends it to the materialized views'
 *    targets). Other statements and token-less inserts fail with a DbError instead.
 *
 * Old servers. The schema needs ClickHouse 23.3 or later (MIN_SERVER_VERSION): connect refuses
 * an older server with a DbError naming both versions, before anything is written. Driver-level
 * tests against Debian's 18.16 pass allowOldServer; for them the settings the driver adds are
 * sent only when the server knows them (asked once from system.settings at connect). ClickHouse
 * before 22.2 has no insert_deduplication_token: an insert whose answer was lost is then not
 * repeated (it could double the rows); the DbError says so.
 */
import { createClient, ClickHouseLogLevel, type ClickHouseClient, type ClickHouseSettings } from "@clickhouse/client";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { DbError } from "../errors";
import { QUERY_SETTINGS, rowsFromJsonCompact } from "../result";
import { quoteIdent, quoteString } from "../sql";
import { rowDataChunks, rowDataLength, type Db, type InsertOptions, type QueryOptions, type Row, type RowData, type Settings } from "../types";
import type { HttpConfig } from "../index";
import { clickhouseMessage, HttpDbError, networkError, responseError, type Target } from "./errors";

export { HttpDbError } from "./errors";

/**
 * The oldest server the schema works on. What decides it (tests/db/server-version.test.ts derives
 * it from the engine's system.functions.introduced_in): mapFromArrays (23.3) in mv_image_pkgset;
 * older needs: insert_deduplication_token (22.2), SQL functions with CREATE OR REPLACE FUNCTION
 * (21.10+), Map columns, DateTime64 and now64 (20.1). The ALTRepo API's production runs 24.3+.
 */
export const MIN_SERVER_VERSION = "23.3";

/** Whether `version` ("24.3.4.147", "18.16.1") is at least `min` ("23.3"). */
export function versionAtLeast(version: string, min: string): boolean {
  const a = version.split(".").map((x) => Number.parseInt(x, 10) || 0);
  const b = min.split(".").map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** How long the server keeps an idle session (and its temporary tables); ClickHouse's default cap. */
const SESSION_TIMEOUT_S = 3600;
/** Settings the driver may add, each sent only when the server knows it. */
const OPTIONAL_SETTINGS = [...Object.keys(QUERY_SETTINGS), "insert_deduplication_token"];
/** Chunk size of a streamed insert body. */
const CHUNK = 1 << 20;

type Op = "query" | "command" | "insert";

interface Request {
  sql: string;
  /** Output format when the statement has no FORMAT clause of its own. */
  format?: string;
  settings?: Settings;
  /** Request body (the statement then travels in the URL). */
  body?: RowData;
  session?: string;
}

function targetOf(cfg: HttpConfig, url: URL): Target {
  return {
    url: `${url.protocol}//${url.host}${url.pathname === "/" ? "" : url.pathname}`,
    host: url.hostname,
    user: cfg.user,
    ca: cfg.ca,
    requestTimeoutMs: cfg.requestTimeoutMs,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function* chunks(data: RowData): Generator<Buffer> {
  for (const part of rowDataChunks(data)) {
    for (let i = 0; i < part.length; i += CHUNK) yield Buffer.from(part.buffer, part.byteOffset + i, Math.min(CHUNK, part.length - i));
  }
}

/** One HTTP exchange: the answer's bytes, or an HttpDbError. Never retries. */
async function exchange(client: ClickHouseClient, t: Target, req: Request): Promise<Buffer> {
  const settings: Record<string, string | number | boolean> = {
    // the server answers only once the statement is done, so every error arrives as an error
    // status (never half-way through a 200 answer)
    wait_end_of_query: 1,
    ...req.settings,
  };
  if (req.format) settings.default_format = req.format;
  let result;
  try {
    result = await client.exec({
      query: req.sql,
      ...(req.body ? { values: Readable.from(chunks(req.body), { objectMode: false }) } : {}),
      clickhouse_settings: settings as ClickHouseSettings,
      session_id: req.session,
      ignore_error_response: true,
    });
  } catch (e) {
    throw networkError(e, t);
  }
  const parts: Buffer[] = [];
  try {
    for await (const chunk of result.stream) parts.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  } catch (e) {
    throw networkError(e, t);
  }
  const body = Buffer.concat(parts);
  const status = result.http_status_code;
  const exception = result.response_headers["x-clickhouse-exception-code"];
  if ((status !== undefined && (status < 200 || status >= 300)) || exception !== undefined) {
    throw responseError(status, body.toString("utf8"), Array.isArray(exception) ? exception[0] : exception, t);
  }
  return body;
}

export class HttpDb implements Db {
  readonly kind = "http" as const;
  readonly database: string;
  /** `SELECT version()` of the server, e.g. "18.16.1". */
  readonly serverVersion: string;
  /** Whether inserts carry insert_deduplication_token (the server knows the setting). */
  readonly dedupTokens: boolean;
  /** The server session every request of this HttpDb runs in. */
  readonly sessionId = `altrepodb-${process.pid}-${randomUUID()}`;

  private client: ClickHouseClient | undefined;
  private readonly target: Target;
  private readonly maxRetries: number;
  private readonly baseSettings: Settings;
  private sessionTimeout = SESSION_TIMEOUT_S;
  /** The tail of the request queue: requests of a session run one after another. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(cfg: HttpConfig, client: ClickHouseClient, target: Target, version: string, known: Set<string>) {
    this.database = cfg.database;
    this.client = client;
    this.target = target;
    this.maxRetries = Math.max(0, cfg.maxRetries);
    this.serverVersion = version;
    this.dedupTokens = known.has("insert_deduplication_token");
    this.baseSettings = Object.fromEntries(Object.entries(QUERY_SETTINGS).filter(([k]) => known.has(k)));
  }

  /**
   * Connects: checks that the server answers and takes the credentials, reads its version and
   * settings, creates the database when it is missing, and opens the session.
   * Every failure is a DbError naming the cause and the fix.
   */
  static async connect(cfg: HttpConfig): Promise<HttpDb> {
    let url: URL;
    try {
      url = new URL(cfg.url);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http(s)");
    } catch {
      throw new DbError(`invalid database URL ${JSON.stringify(cfg.url)}`, "set database.http.url (or ALTREPODB_DB_URL) to http(s)://host:port, e.g. http://127.0.0.1:8123");
    }
    if (url.username || url.password) {
      throw new DbError(`the database URL must not carry credentials: ${url.protocol}//…@${url.host}`, "put them in database.http.user and database.http.password");
    }
    if (url.search || url.hash) {
      throw new DbError(`the database URL must not carry parameters: ${cfg.url}`, "set database.http.url to http(s)://host:port[/path of a proxy]");
    }
    let ca: Buffer | undefined;
    if (cfg.ca) {
      try {
        ca = readFileSync(cfg.ca);
      } catch (e) {
        throw new DbError(`cannot read CA certificate ${cfg.ca}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, "set database.http.ca to a readable PEM file");
      }
    }
    const target = targetOf(cfg, url);
    const make = (database?: string) =>
      createClient({
        // a path in the URL is a proxy's prefix (the client would take it for a database name)
        url: url.origin,
        ...(url.pathname !== "/" ? { pathname: url.pathname } : {}),
        username: cfg.user,
        password: cfg.password,
        database,
        compression: { request: cfg.compression, response: cfg.compression },
        request_timeout: cfg.requestTimeoutMs,
        keep_alive: { enabled: true },
        ...(ca ? { tls: { ca_cert: ca } } : {}),
        log: { level: ClickHouseLogLevel.OFF },
        application: "altrepodb",
      });

    // Bootstrap without a database: the configured one may not exist yet.
    const boot = make();
    let version: string;
    let known: Set<string>;
    try {
      const ask = async (sql: string) => (await exchange(boot, target, { sql, format: "TabSeparated" })).toString("utf8");
      version = (await ask("SELECT version()")).trim();
      if (!/^\d+\.\d+/.test(version)) {
        throw new DbError(`${target.url} does not answer like a ClickHouse server (SELECT version() gave ${JSON.stringify(version.slice(0, 60))})`, "set database.http.url (or ALTREPODB_DB_URL) to the server's HTTP interface");
      }
      if (!cfg.allowOldServer && !versionAtLeast(version, MIN_SERVER_VERSION)) {
        throw new DbError(
          `ClickHouse ${version} at ${target.url} is too old: altrepodb needs ${MIN_SERVER_VERSION} or later`,
          "upgrade the server (the ALTRepo API runs on 24.3 and later), or use the embedded driver (database.driver = \"embedded\")",
        );
      }
      const names = OPTIONAL_SETTINGS.map(quoteString).join(", ");
      known = new Set((await ask(`SELECT name FROM system.settings WHERE name IN (${names})`)).split("\n").filter(Boolean));
      const exists = (await ask(`SELECT count() FROM system.databases WHERE name = ${quoteString(cfg.database)}`)).trim() !== "0";
      if (!exists) {
        try {
          await ask(`CREATE DATABASE IF NOT EXISTS ${quoteIdent(cfg.database)}`);
        } catch (e) {
          if (!(e instanceof DbError)) throw e;
          throw new DbError(
            `database ${cfg.database} does not exist on ${target.url} and user ${cfg.user} cannot create it: ${e.message}`,
            `create it (CREATE DATABASE ${cfg.database}) as an administrator, or set database.name to an existing database`,
            e.code,
          );
        }
      }
    } catch (e) {
      // readonly=1 forbids every setting in a request, and the driver needs a few
      if (e instanceof DbError && e.code === 164 && /setting/i.test(e.message)) {
        throw new DbError(
          `user ${cfg.user} may not change settings on ${target.url} (readonly=1), which altrepodb needs: ${e.message}`,
          "give the user a profile with readonly=0 (loading) or readonly=2 (queries only)",
          e.code,
        );
      }
      // a TLS port closes a plain-HTTP connection without a word
      if (e instanceof HttpDbError && e.retry === "ambiguous" && !e.timedOut && url.protocol === "http:") {
        throw new DbError(`${e.message}`, `if the server expects TLS on that port, use https:// in database.http.url; otherwise check the server's log`);
      }
      throw e;
    } finally {
      await boot.close().catch(() => {});
    }

    const db = new HttpDb(cfg, make(cfg.database), target, version, known);
    try {
      await db.openSession();
    } catch (e) {
      await db.client?.close().catch(() => {});
      throw e;
    }
    return db;
  }

  /** The first request of the session; settles the session timeout the server accepts. */
  private async openSession(): Promise<void> {
    try {
      await this.run("command", { sql: "SELECT 1" });
    } catch (e) {
      // Code 374 (INVALID_SESSION_TIMEOUT): "… is larger than max_session_timeout: N"
      const max = e instanceof DbError && e.code === 374 ? /max_session_timeout: (\d+)/.exec(e.message) : null;
      if (!max) throw e;
      this.sessionTimeout = Number(max[1]);
      await this.run("command", { sql: "SELECT 1" });
    }
  }

  /** Queues a request of the session, with the retries its kind allows. */
  private run(op: Op, req: Request, dedup = false): Promise<Buffer> {
    const go = () => this.attempt(op, req, dedup);
    const p = this.queue.then(go, go);
    this.queue = p.catch(() => {});
    return p;
  }

  private async attempt(op: Op, req: Request, dedup: boolean): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      const client = this.client;
      if (!client) throw new DbError("the database connection is closed");
      try {
        return await exchange(client, this.target, {
          ...req,
          session: this.sessionId,
          settings: { session_timeout: this.sessionTimeout, ...this.baseSettings, ...req.settings },
        });
      } catch (e) {
        const err = e instanceof HttpDbError ? e : networkError(e, this.target);
        const again =
          err.retry === "rejected" || (err.retry === "ambiguous" && (op === "query" ? !err.timedOut : op === "insert" ? dedup : false));
        if (!again || attempt >= this.maxRetries) throw this.giveUp(err, op, dedup, attempt + 1);
        await sleep(Math.min(250 * 2 ** attempt, 10_000) * (0.75 + Math.random() / 2));
      }
    }
  }

  /** The error of the last attempt, saying how many there were and what may have happened. */
  private giveUp(err: HttpDbError, op: Op, dedup: boolean, attempts: number): DbError {
    const tries = attempts > 1 ? ` (${attempts} attempts)` : "";
    if (err.retry === "ambiguous" && op !== "query" && !(op === "insert" && dedup)) {
      const why =
        op === "insert" && !this.dedupTokens
          ? `ClickHouse ${this.serverVersion} has no insert_deduplication_token, so the batch was not sent again`
          : "it was not sent again, as a second copy could apply twice";
      return new DbError(`${err.message}${tries}; the ${op === "insert" ? "rows may or may not have been inserted" : "statement may or may not have run"}`, `${why}; check the table before loading again. ${err.hint ?? ""}`.trim(), err.code);
    }
    return new DbError(`${err.message}${tries}`, err.hint, err.code);
  }

  async query<T = Row>(sql: string, opts?: QueryOptions): Promise<T[]> {
    const text = (await this.run("query", { sql, format: "JSONCompact", settings: opts?.settings })).toString("utf8");
    try {
      return rowsFromJsonCompact<T>(text);
    } catch (e) {
      // an exception written into the answer after the data had started
      if (/Code: \d+/.test(text)) throw new DbError(clickhouseMessage(text.slice(text.search(/Code: \d+/))).message);
      throw new DbError(`unreadable answer from ${this.target.url}: ${(e as Error).message}`);
    }
  }

  async queryRaw(sql: string, format: string, opts?: QueryOptions): Promise<Uint8Array> {
    return this.run("query", { sql, format, settings: opts?.settings });
  }

  async command(sql: string, opts?: QueryOptions): Promise<void> {
    await this.run("command", { sql, format: "TabSeparated", settings: opts?.settings });
  }

  async insertRowBinary(table: string, columns: readonly string[], data: RowData, opts?: InsertOptions): Promise<void> {
    if (rowDataLength(data) === 0) return;
    const sql = `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(", ")}) FORMAT RowBinary`;
    const dedup = opts?.dedupToken !== undefined && this.dedupTokens;
    // The token alone protects only the table inserted into; the MVs' target tables (Files_insert
    // → Files, FileNames; Specfiles_insert → Specfiles) drop a repeated block only with the second setting.
    const settings = dedup
      ? { insert_deduplication_token: opts!.dedupToken!, deduplicate_blocks_in_dependent_materialized_views: 1, ...opts?.settings }
      : opts?.settings;
    await this.run("insert", { sql, body: data, settings }, dedup);
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!client) return;
    // Let the session (and its temporary tables) expire now rather than in an hour.
    const end = async () => {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), 2000);
      try {
        const r = await client.exec({ query: "SELECT 1", session_id: this.sessionId, clickhouse_settings: { session_timeout: 1 } as unknown as ClickHouseSettings, abort_signal: ctl.signal, ignore_error_response: true });
        for await (const _ of r.stream);
      } catch {
        // the server is gone or busy: the session expires on its own
      } finally {
        clearTimeout(timer);
      }
    };
    await this.queue.then(end, end);
    this.client = undefined;
    await client.close().catch(() => {});
  }
}
