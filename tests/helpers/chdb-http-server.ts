/**
 * TEST-ONLY: a ClickHouse HTTP interface on top of the embedded engine (libchdb, src/db/embedded).
 *
 * This is not ClickHouse's server. It exists because no current clickhouse-server package can
 * be installed here (Debian has 18.16, which cannot hold our schema), yet the http driver must
 * be tested end to end — `db init`, `repo load`, `task load`, the daemon — against an engine of
 * the version we support. The engine answering is the same ClickHouse as the embedded driver's
 * (`SELECT version()` says which); this file only speaks the HTTP protocol the way
 * clickhouse-server does, for the subset @clickhouse/client and our driver use:
 *
 *  - `GET /ping`, `GET /` → "Ok.\n"; every other path → 404;
 *  - the statement in the `query` URL parameter and/or the request body (URL part first, then
 *    the body, as the server does); `INSERT … FORMAT F` in the URL with the rows in the body;
 *  - `database`, `default_format`, `query_id`, `session_id`, `session_timeout`, `session_check`,
 *    `wait_end_of_query` (answers are always complete before they are sent); every other URL
 *    parameter is a setting of that request only (an unknown one fails like the server: code
 *    115); `param_*` query parameters are refused (not needed, code 48);
 *  - authentication by `Authorization: Basic`, `X-ClickHouse-User`/`X-ClickHouse-Key`, or the
 *    `user`/`password` parameters; a wrong one is code 516, HTTP 403;
 *  - gzip/deflate request bodies (`Content-Encoding`), gzip/deflate answers when
 *    `enable_http_compression=1` and `Accept-Encoding` allows it;
 *  - answers carry `X-ClickHouse-Query-Id`, `-Format`, `-Timezone`, `-Server-Display-Name`,
 *    `-Summary`; errors carry `X-ClickHouse-Exception-Code`, the server's status for that code
 *    (exceptionCodeToHTTPStatus) and its text, "Code: N. DB::Exception: … (NAME) (version V)";
 *  - sessions: one engine connection per `session_id` (temporary tables, SET and USE live there),
 *    expired after `session_timeout` seconds idle (over `max_session_timeout` = 3600: code 374),
 *    a second request of a busy session is refused with code 373 (SESSION_IS_LOCKED);
 *    without a session every request gets a fresh connection;
 *  - `insert_deduplication_token` and every other setting reach the engine as they are.
 *
 * The engine is single-threaded per process through FFI: every statement runs in one engine
 * thread (chdb-http-engine.ts), strictly one at a time in arrival order, while this thread keeps
 * answering HTTP (so a busy session is refused at once, as by a real server).
 *
 * Run as a program (`bun tests/helpers/chdb-http-server.ts DATA_DIR`) it prints
 * `listening http://127.0.0.1:PORT` and serves until killed; `startChdbHttpServer()` starts it
 * that way as a child process (its own data directory: a process can open only one).
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import type { EngineReply, EngineRequest } from "./chdb-http-engine";

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface ChdbHttpServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** The engine's `SELECT version()`. */
  version: string;
  admin: { user: string; password: string };
  /** A user with a password. */
  loader: { user: string; password: string };
  dir: string;
  stop(): Promise<void>;
}

const USERS: Record<string, string> = { default: "", loader: "s3cret-loader" };
const MAX_SESSION_TIMEOUT = 3600;
const DEFAULT_SESSION_TIMEOUT = 60;

/** URL parameters the HTTP handler itself takes (not settings). */
const HANDLER_PARAMS = new Set(["query", "database", "default_format", "query_id", "session_id", "session_timeout", "session_check", "user", "password", "quota_key", "role", "stacktrace", "buffer_size", "wait_end_of_query", "compress", "decompress"]);

/** exceptionCodeToHTTPStatus of ClickHouse (src/Server/HTTP/exceptionCodeToHTTPStatus.cpp), by error name. */
const STATUS_BY_NAME: [number, string[]][] = [
  [401, ["REQUIRED_PASSWORD"]],
  [403, ["UNKNOWN_USER", "WRONG_PASSWORD", "AUTHENTICATION_FAILED", "SET_NON_GRANTED_ROLE", "ACCESS_DENIED"]],
  [
    400,
    ["BAD_ARGUMENTS", "CANNOT_COMPILE_REGEXP", "CANNOT_PARSE_TEXT", "CANNOT_PARSE_ESCAPE_SEQUENCE", "CANNOT_PARSE_QUOTED_STRING", "CANNOT_PARSE_DATE",
     "CANNOT_PARSE_DATETIME", "CANNOT_PARSE_NUMBER", "CANNOT_PARSE_DOMAIN_VALUE_FROM_STRING", "CANNOT_PARSE_IPV4", "CANNOT_PARSE_IPV6",
     "CANNOT_PARSE_INPUT_ASSERTION_FAILED", "CANNOT_PARSE_UUID", "DUPLICATE_COLUMN", "ILLEGAL_COLUMN", "UNKNOWN_ELEMENT_IN_AST",
     "UNKNOWN_TYPE_OF_AST_NODE", "THERE_IS_NO_COLUMN", "TOO_DEEP_AST", "TOO_BIG_AST", "UNEXPECTED_AST_STRUCTURE", "SYNTAX_ERROR",
     "INCORRECT_DATA", "TYPE_MISMATCH", "VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE"],
  ],
  [
    404,
    ["UNKNOWN_TABLE", "UNKNOWN_FUNCTION", "UNKNOWN_IDENTIFIER", "UNKNOWN_TYPE", "UNKNOWN_STORAGE", "UNKNOWN_DATABASE", "UNKNOWN_SETTING",
     "UNKNOWN_DIRECTION_OF_SORTING", "UNKNOWN_AGGREGATE_FUNCTION", "UNKNOWN_FORMAT", "UNKNOWN_DATABASE_ENGINE", "UNKNOWN_TYPE_OF_QUERY", "UNKNOWN_ROLE"],
  ],
  [413, ["QUERY_IS_TOO_LARGE"]],
  [501, ["NOT_IMPLEMENTED"]],
  [503, ["SOCKET_TIMEOUT", "CANNOT_OPEN_FILE", "CANNOT_SCHEDULE_TASK"]],
  [411, ["HTTP_LENGTH_REQUIRED"]],
  [408, ["TIMEOUT_EXCEEDED"]],
  [415, ["UNSUPPORTED_MEDIA_TYPE"]],
];

/** The HTTP status of an error text "Code: N. DB::Exception: … (NAME)". */
function statusFor(text: string): number {
  const name = /\(([A-Z][A-Z0-9_]+)\)\s*$/.exec(text)?.[1] ?? "";
  return STATUS_BY_NAME.find(([, names]) => names.includes(name))?.[0] ?? 500;
}

class Failure extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}

const NAMES: Record<number, string> = {
  48: "NOT_IMPLEMENTED",
  62: "SYNTAX_ERROR",
  372: "SESSION_NOT_FOUND",
  373: "SESSION_IS_LOCKED",
  374: "INVALID_SESSION_TIMEOUT",
  516: "AUTHENTICATION_FAILED",
  1001: "STD_EXCEPTION",
};

function failure(code: number, message: string): Failure {
  return new Failure(code, `Code: ${code}. DB::Exception: ${message}. (${NAMES[code] ?? "UNKNOWN_EXCEPTION"})`);
}

/** The output format a statement names itself (a trailing FORMAT clause), if any. */
function ownFormat(sql: string): string | undefined {
  const m = /\bFORMAT\s+([A-Za-z0-9_]+)\s*;?\s*$/i.exec(sql);
  return m ? m[1] : undefined;
}

function contentType(format: string): string {
  if (/^JSON/i.test(format)) return "application/json; charset=UTF-8";
  if (/^(TSV|TabSeparated)/i.test(format)) return "text/tab-separated-values; charset=UTF-8";
  if (/^CSV/i.test(format)) return "text/csv; charset=UTF-8; header=absent";
  if (/^(RowBinary|Native|Parquet|Arrow|ORC|Avro)/i.test(format)) return "application/octet-stream";
  return "text/plain; charset=UTF-8";
}

async function serve(dataDir: string): Promise<void> {
  const { lockDataDir } = await import("../../src/db/embedded/lock");
  mkdirSync(dataDir, { recursive: true });
  const spool = join(dataDir, "http-spool");
  rmSync(spool, { recursive: true, force: true });
  mkdirSync(spool, { recursive: true });
  lockDataDir(dataDir);

  // the engine thread: every statement, one at a time, in arrival order
  const engine = new Worker(join(import.meta.dir, "chdb-http-engine.ts"));
  let requestSeq = 0;
  const pending = new Map<number, (r: EngineReply) => void>();
  engine.onmessage = (ev: MessageEvent<EngineReply>) => {
    const done = pending.get(ev.data.id);
    pending.delete(ev.data.id);
    done?.(ev.data);
  };
  const ask = (r: DistributiveOmit<EngineRequest, "id">): Promise<EngineReply> =>
    new Promise((resolve, reject) => {
      const id = ++requestSeq;
      pending.set(id, (reply) => (reply.error ? reject(new Failure(reply.error.code, reply.error.text)) : resolve(reply)));
      engine.postMessage({ ...r, id });
    });
  const version = (await ask({ op: "init", dataDir, spool })).version!;
  const displayName = `altrepodb-test-chdb-http-${process.pid}`;

  interface Session {
    conn: number;
    timeoutS: number;
    busy: boolean;
    timer?: Timer;
  }
  const sessions = new Map<string, Session>();
  const expire = (id: string, s: Session) => {
    clearTimeout(s.timer);
    s.timer = setTimeout(() => {
      if (s.busy) return expire(id, s);
      sessions.delete(id);
      void ask({ op: "close", conn: s.conn }).catch(() => {});
    }, s.timeoutS * 1000);
  };

  function authenticate(req: Request, params: URLSearchParams): string {
    let user = params.get("user") ?? undefined;
    let password = params.get("password") ?? "";
    const basic = /^Basic\s+(.+)$/i.exec(req.headers.get("authorization") ?? "");
    if (basic) {
      const text = Buffer.from(basic[1], "base64").toString("utf8");
      const i = text.indexOf(":");
      user = i < 0 ? text : text.slice(0, i);
      password = i < 0 ? "" : text.slice(i + 1);
    }
    if (req.headers.has("x-clickhouse-user")) {
      user = req.headers.get("x-clickhouse-user")!;
      password = req.headers.get("x-clickhouse-key") ?? "";
    }
    user ??= "default";
    if (USERS[user] === undefined || USERS[user] !== password) {
      throw failure(516, `${user}: Authentication failed: password is incorrect, or there is no user with such name`);
    }
    return user;
  }

  function body(raw: Uint8Array, encoding: string | null): Uint8Array {
    switch ((encoding ?? "").toLowerCase()) {
      case "":
      case "identity":
        return raw;
      case "gzip":
        return gunzipSync(raw);
      case "deflate":
        return inflateSync(raw);
      default:
        throw new Failure(336, `Code: 336. DB::Exception: Unknown compression method '${encoding}'. (UNKNOWN_COMPRESSION_METHOD)`);
    }
  }

  async function handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    if (url.pathname === "/ping" || (url.pathname === "/" && req.method === "GET" && !url.searchParams.has("query"))) return new Response("Ok.\n");
    if (url.pathname !== "/") return new Response(`There is no handle ${url.pathname}\n`, { status: 404 });
    const params = url.searchParams;
    const queryId = params.get("query_id") || crypto.randomUUID();
    const headers: Record<string, string> = {
      "X-ClickHouse-Server-Display-Name": displayName,
      "X-ClickHouse-Query-Id": queryId,
      "X-ClickHouse-Timezone": "UTC",
    };
    const started = process.hrtime.bigint();
    const raw = new Uint8Array(await req.arrayBuffer());
    let session: Session | undefined;
    let claimed = false;
    try {
      authenticate(req, params);
      const sessionId = params.get("session_id");
      if (sessionId) {
        const timeoutS = params.has("session_timeout") ? Number(params.get("session_timeout")) : DEFAULT_SESSION_TIMEOUT;
        if (!Number.isFinite(timeoutS) || timeoutS < 0) throw failure(374, `Invalid session timeout: '${params.get("session_timeout")}'`);
        if (timeoutS > MAX_SESSION_TIMEOUT) throw failure(374, `Session timeout ${timeoutS} is larger than max_session_timeout: ${MAX_SESSION_TIMEOUT}`);
        session = sessions.get(sessionId);
        if (!session) {
          if (params.get("session_check") === "1") throw failure(372, `Session ${sessionId} not found`);
          session = { conn: -1, timeoutS, busy: false };
          sessions.set(sessionId, session);
        }
        if (session.busy) throw failure(373, `Session ${sessionId} is locked by a concurrent client`);
        session.busy = true;
        claimed = true;
        session.timeoutS = timeoutS;
        if (session.conn < 0) session.conn = (await ask({ op: "open" })).conn!;
      }
      const data = body(raw, req.headers.get("content-encoding"));
      const urlQuery = params.get("query") ?? "";
      let sql: string;
      let rows: Uint8Array | undefined;
      if (urlQuery && data.length > 0 && /^\s*INSERT\b/i.test(urlQuery) && ownFormat(urlQuery)) {
        sql = urlQuery;
        rows = data;
      } else {
        sql = urlQuery ? (data.length > 0 ? `${urlQuery}\n${Buffer.from(data).toString("utf8")}` : urlQuery) : Buffer.from(data).toString("utf8");
      }
      if (sql.trim() === "") throw failure(62, "Empty query");
      const settings: [string, string][] = [];
      for (const [k, v] of params) {
        if (k.startsWith("param_")) throw failure(48, `query parameters (${k}) are not supported by this test server`);
        if (!HANDLER_PARAMS.has(k)) settings.push([k, v]);
      }
      const format = ownFormat(sql) ?? params.get("default_format") ?? "TabSeparated";
      const database = params.get("database") ?? (session ? undefined : "default");
      let out: Uint8Array = (await ask({ op: "exec", conn: session?.conn, sql, format, settings, database, data: rows })).out!;
      const compress = settings.some(([k, v]) => k === "enable_http_compression" && v === "1");
      const accept = (req.headers.get("accept-encoding") ?? "").toLowerCase();
      const summary = {
        read_rows: "0",
        read_bytes: "0",
        written_rows: "0",
        written_bytes: String(rows?.length ?? 0),
        total_rows_to_read: "0",
        result_rows: "0",
        result_bytes: String(out.length),
        elapsed_ns: String(process.hrtime.bigint() - started),
      };
      Object.assign(headers, { "Content-Type": contentType(format), "X-ClickHouse-Format": format, "X-ClickHouse-Summary": JSON.stringify(summary) });
      if (compress && /\bgzip\b/.test(accept)) {
        out = gzipSync(out);
        headers["Content-Encoding"] = "gzip";
      } else if (compress && /\bdeflate\b/.test(accept)) {
        out = deflateSync(out);
        headers["Content-Encoding"] = "deflate";
      }
      return new Response(out, { status: 200, headers });
    } catch (e) {
      const f = e instanceof Failure ? e : undefined;
      const message = (e as Error).message ?? String(e);
      const code = f?.code ?? Number(/Code: (\d+)\./.exec(message)?.[1] ?? 1001);
      const text = f ? f.text : /^Code: \d+\./.test(message) ? message : `Code: ${code}. DB::Exception: ${message}. (STD_EXCEPTION)`;
      return new Response(`${text} (version ${version})\n`, {
        status: statusFor(text),
        headers: { ...headers, "Content-Type": "text/plain; charset=UTF-8", "X-ClickHouse-Exception-Code": String(code) },
      });
    } finally {
      if (session && claimed) {
        session.busy = false;
        expire(params.get("session_id")!, session);
      }
    }
  }

  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, idleTimeout: 0, maxRequestBodySize: 1 << 30, fetch: handle });
  process.on("SIGTERM", () => {
    server.stop(true);
    engine.terminate();
    process.exit(0);
  });
  console.log(`listening http://127.0.0.1:${server.port} ${version}`);
}

/** Starts the server as a child process with its own data directory (removed by stop()). */
export async function startChdbHttpServer(scratch = process.env.ALTREPODB_TEST_SCRATCH ?? join(import.meta.dir, "..", "..", ".tmp", "test")): Promise<ChdbHttpServer> {
  const dir = join(scratch, `chdb-http-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`);
  mkdirSync(dir, { recursive: true });
  const setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));
  const cmd = [process.execPath, import.meta.path, join(dir, "data")];
  // setpriv: the kernel kills the server when the test process dies, even by SIGKILL
  const child = Bun.spawn(setpriv ? [setpriv, "--pdeathsig", "KILL", "--", ...cmd] : cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ALTREPODB_CHDB_HTTP_SERVER: "1" } });
  const reader = child.stdout.getReader();
  let text = "";
  const deadline = Date.now() + 60_000;
  while (!/listening (\S+) (\S+)\n/.test(text)) {
    const r = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => undefined)]);
    if (!r || r.done) {
      child.kill("SIGKILL");
      const err = await new Response(child.stderr).text().catch(() => "");
      throw new Error(`the test ClickHouse HTTP server did not start: ${err.trim().slice(0, 2000)}`);
    }
    text += Buffer.from(r.value).toString("utf8");
  }
  // keep draining its output so that it never blocks on a full pipe
  void (async () => {
    for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return;
  })();
  void new Response(child.stderr).arrayBuffer().catch(() => {});
  const [, url, version] = /listening (\S+) (\S+)\n/.exec(text)!;
  let stopped = false;
  return {
    url,
    version,
    admin: { user: "default", password: "" },
    loader: { user: "loader", password: USERS.loader },
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.exited;
      clearTimeout(timer);
      if (!process.env.ALTREPODB_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}

if (import.meta.main) await serve(resolve(process.argv[2] ?? ".tmp/chdb-http"));
