/**
 * Failures of the http driver as DbErrors (one line: the cause, and a hint naming the fix),
 * and how each failure may be retried.
 */
import { DbError, firstLine } from "../errors";

/** Where a request went and as whom, for messages. */
export interface Target {
  /** The configured URL without credentials, query or fragment. */
  url: string;
  host: string;
  user: string;
  ca?: string;
  requestTimeoutMs: number;
}

/**
 * - "rejected": the statement certainly did not run (no connection, session busy, server refused
 *   it up front); repeating it is always safe.
 * - "ambiguous": the connection broke or timed out after the request was sent; the statement may
 *   have run. An insert is repeated only when it carries an insert_deduplication_token.
 * - "final": repeating it gives the same answer (SQL errors, authentication, TLS, DNS).
 */
export type Retry = "rejected" | "ambiguous" | "final";

export class HttpDbError extends DbError {
  constructor(
    message: string,
    hint: string | undefined,
    code: number | undefined,
    readonly retry: Retry,
    /** The request timed out (sending the same statement again would most likely time out too). */
    readonly timedOut = false,
  ) {
    super(message, hint, code);
  }
}

const URL_HINT = "set database.http.url (or ALTREPODB_DB_URL) to the server's HTTP interface, e.g. http://127.0.0.1:8123";
const AUTH_HINT = "check database.http.user and database.http.password / password_file (or ALTREPODB_DB_USER, ALTREPODB_DB_PASSWORD)";

/** ClickHouse error codes. */
const AUTH_CODES = new Set([192 /* UNKNOWN_USER */, 193 /* WRONG_PASSWORD */, 194 /* REQUIRED_PASSWORD */, 195 /* IP_ADDRESS_NOT_ALLOWED */, 516 /* AUTHENTICATION_FAILED */]);
/** Refused before the statement started: safe to send again. */
const REJECTED_CODES = new Set([
  202, // TOO_MANY_SIMULTANEOUS_QUERIES
  203, // NO_FREE_CONNECTION
  252, // TOO_MANY_PARTS
  373, // SESSION_IS_LOCKED: an earlier request of this session (one we gave up on) still runs
]);
/** Broke somewhere in the middle: the statement may have run. */
const AMBIGUOUS_CODES = new Set([
  209, // SOCKET_TIMEOUT
  210, // NETWORK_ERROR
  319, // UNKNOWN_STATUS_OF_INSERT
  999, // KEEPER_EXCEPTION
]);

/** Node/Bun error codes of a failed TLS handshake or certificate check. */
const TLS_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "EPROTO",
]);

/**
 * ClickHouse's error text as one line in today's shape, "Code: N. DB::Exception: …".
 * 18.16 writes "Code: 60, e.displayText() = DB::Exception: …, e.what() = DB::Exception".
 */
export function clickhouseMessage(text: string): { message: string; code?: number } {
  let line = firstLine(text);
  const old = /^Code: (\d+), e\.displayText\(\) = (.*?)(?:, e\.what\(\) = [\w:]+)?$/.exec(line);
  if (old) line = `Code: ${old[1]}. ${old[2]}`;
  line = line.replace(/\s*\(version \d[^()]*(?:\([^()]*\)[^()]*)?\)\s*$/, "");
  const code = /^Code: (\d+)\./.exec(line);
  return { message: line, code: code ? Number(code[1]) : undefined };
}

/** An answer with an error status (or an exception header) as a DbError. */
export function responseError(status: number | undefined, body: string, exceptionCode: string | undefined, t: Target): HttpDbError {
  const ch = clickhouseMessage(body);
  const code = ch.code ?? (exceptionCode ? Number(exceptionCode) : undefined);
  if ((code !== undefined && AUTH_CODES.has(code)) || status === 401 || status === 403) {
    const detail = code !== undefined ? `: ${ch.message}` : ` (HTTP ${status})`;
    return new HttpDbError(`authentication failed for user ${t.user} at ${t.url}${detail}`, AUTH_HINT, code, "final");
  }
  if (code === undefined) {
    // not ClickHouse talking: a proxy, a load balancer, or another service on that port
    const shown = ch.message.slice(0, 200) || "(empty answer)";
    const retry: Retry = status === 503 || status === 429 ? "rejected" : status === 502 || status === 504 ? "ambiguous" : "final";
    return new HttpDbError(`HTTP ${status ?? "?"} from ${t.url}: ${shown}`, retry === "final" ? `is ${t.url} a ClickHouse HTTP interface? ${URL_HINT}` : undefined, undefined, retry);
  }
  const retry: Retry = REJECTED_CODES.has(code) ? "rejected" : AMBIGUOUS_CODES.has(code) ? "ambiguous" : "final";
  return new HttpDbError(ch.message, undefined, code, retry);
}

/** A failure below HTTP (connect, DNS, TLS, timeout, reset) as a DbError. */
export function networkError(e: unknown, t: Target): HttpDbError {
  if (e instanceof HttpDbError) return e;
  const err = e as NodeJS.ErrnoException;
  const code = typeof err?.code === "string" ? err.code : "";
  const msg = firstLine(String(err?.message ?? e));
  if (code === "ECONNREFUSED")
    return new HttpDbError(`cannot connect to ClickHouse at ${t.url}: connection refused`, `is clickhouse-server running there? ${URL_HINT}`, undefined, "rejected");
  if (code === "ENOTFOUND" || code === "EAI_NONAME" || code === "EAI_FAIL")
    return new HttpDbError(`cannot resolve host ${t.host} of database URL ${t.url}`, URL_HINT, undefined, "final");
  if (code === "EAI_AGAIN")
    return new HttpDbError(`cannot resolve host ${t.host} of database URL ${t.url}: name server not answering`, "check the DNS setup of this machine", undefined, "rejected");
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH")
    return new HttpDbError(`cannot reach ${t.url}: ${code === "EHOSTUNREACH" ? "no route to host" : "network unreachable"}`, URL_HINT, undefined, "rejected");
  if (TLS_CODES.has(code) || /certificate|SSL|TLS|handshake/i.test(msg)) {
    const wrongProtocol = /wrong version number|packet length too long|http request/i.test(msg) || code === "ERR_SSL_WRONG_VERSION_NUMBER";
    const hint = wrongProtocol
      ? "the server does not speak TLS on that port: use http:// or the server's https_port in database.http.url"
      : t.ca
        ? `the server's certificate is not signed by the CA in ${t.ca} (database.http.ca), or does not name host ${t.host}`
        : "set database.http.ca to the file of the CA certificate that signed the server's certificate";
    return new HttpDbError(`TLS connection to ${t.url} failed: ${code && !msg.includes(code) ? `${code}: ` : ""}${msg}`, hint, undefined, "final");
  }
  if (msg === "Timeout error." || code === "ETIMEDOUT" || code === "ESOCKETTIMEDOUT")
    return new HttpDbError(
      `request to ${t.url} timed out after ${t.requestTimeoutMs / 1000} s`,
      "raise database.http.request_timeout (seconds), or look at what keeps the server busy",
      undefined,
      "ambiguous",
      true,
    );
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED" || /socket hang up|connection.*(closed|reset)|aborted/i.test(msg))
    return new HttpDbError(
      `connection to ${t.url} broke during the request (${code || msg})`,
      "the server or a proxy closed the connection; check the server's log",
      undefined,
      "ambiguous",
    );
  return new HttpDbError(`request to ${t.url} failed: ${code && !msg.includes(code) ? `${code}: ` : ""}${msg}`, undefined, undefined, "ambiguous");
}
