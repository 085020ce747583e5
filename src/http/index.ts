/**
 * The one HTTP client of every feed and source loader (Bun's fetch underneath): a timeout per
 * attempt and a deadline for the whole call, retries with exponential backoff and jitter on
 * network errors, 429 and 5xx (honouring Retry-After), a body-size limit, conditional requests
 * (ETag / Last-Modified given by the caller), a User-Agent naming the product and version, TLS
 * verification on, proxies from the standard environment variables (Bun's fetch reads them).
 * A library: imports nothing from loaders, daemon or CLI.
 */
import { VERSION } from "../version.ts";

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    message: string,
    readonly url: string,
    readonly status?: number,
  ) {
    super(`${redactUrl(url)}: ${message}`);
  }
}

export interface HttpOptions {
  headers?: Record<string, string>;
  /** per attempt (default 30 s) */
  timeoutMs?: number;
  /** the whole call, retries and waits included (default 60 s) */
  deadlineMs?: number;
  /** attempts after the first (default 4) */
  retries?: number;
  /** first backoff (default 1 s), doubled per attempt, ±25% jitter, at most `maxBackoffMs` */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** refuse bodies larger than this (default 512 MiB) */
  maxBytes?: number;
  signal?: AbortSignal;
  /** statuses returned to the caller instead of raising (default: 2xx and 304) */
  accept?: (status: number) => boolean;
}

export interface HttpRequestOptions extends HttpOptions {
  /** Default GET. */
  method?: string;
  body?: string | Uint8Array;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
  url: string;
}

export const USER_AGENT = `altrepodb/${VERSION} (+https://altrepodb.example/; ALT Linux repository database loader)`;

/** A URL as it may appear in logs: no user info, no values of key-like query parameters. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "***";
      u.password = "";
    }
    for (const k of [...u.searchParams.keys()]) if (/key|token|secret|password/i.test(k)) u.searchParams.set(k, "***");
    // a Telegram Bot API path carries the bot token: /bot<id>:<secret>/method
    u.pathname = u.pathname.replace(/\/bot\d+:[^/]+/g, "/bot***");
    return u.toString();
  } catch {
    return url;
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

async function readCapped(res: Response, max: number, url: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > max) throw new HttpError(`body of ${declared} bytes is over the limit of ${max}`, url, res.status);
  if (!res.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += chunk.length;
    if (n > max) throw new HttpError(`body is over the limit of ${max} bytes`, url, res.status);
    parts.push(chunk);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** GET `url`; the body is read completely (and checked against Content-Length when given). */
export function httpGet(url: string, opts: HttpOptions = {}): Promise<HttpResponse> {
  return httpRequest(url, opts);
}

/** Any method (POST with a body for webhooks and APIs), with the same timeouts, retries and limits as httpGet. */
export async function httpRequest(url: string, opts: HttpRequestOptions = {}): Promise<HttpResponse> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + (opts.deadlineMs ?? 60_000);
  const retries = opts.retries ?? 4;
  const maxBytes = opts.maxBytes ?? 512 * 1024 * 1024;
  const accept = opts.accept ?? ((s: number) => (s >= 200 && s < 300) || s === 304);
  let backoff = opts.backoffMs ?? 1000;
  let lastError = "";
  for (let attempt = 0; attempt <= retries; attempt++) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const signals = [AbortSignal.timeout(Math.min(timeoutMs, left))];
    if (opts.signal) signals.push(opts.signal);
    let wait = 0;
    try {
      const res = await fetch(url, {
        method: opts.method ?? "GET",
        body: opts.body,
        headers: { "user-agent": USER_AGENT, "accept-encoding": "gzip, deflate", ...opts.headers },
        signal: AbortSignal.any(signals),
        redirect: "follow",
      });
      if (accept(res.status)) {
        const body = await readCapped(res, maxBytes, url);
        const declared = Number(res.headers.get("content-length"));
        // fetch decodes gzip bodies: the declared length is then the compressed one
        if (Number.isFinite(declared) && !res.headers.get("content-encoding") && body.length !== declared)
          throw new HttpError(`body ended after ${body.length} of ${declared} bytes`, url, res.status);
        return { status: res.status, headers: res.headers, body, url };
      }
      lastError = `HTTP ${res.status} ${res.statusText}`.trim();
      await res.body?.cancel().catch(() => {});
      if (res.status !== 429 && res.status < 500) throw new HttpError(lastError, url, res.status);
      wait = retryAfterMs(res.headers.get("retry-after")) ?? 0;
    } catch (e) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? e;
      if (e instanceof HttpError && (e.status === undefined || (e.status !== 429 && e.status < 500))) {
        // a body over the limit or a definite client error: retrying changes nothing
        if (!/ended after/.test(e.message)) throw e;
      }
      lastError = e instanceof Error ? (e.name === "TimeoutError" ? `no complete answer within ${Math.round(timeoutMs / 1000)} s` : e.message) : String(e);
    }
    if (attempt === retries) break;
    const jitter = backoff * (0.75 + Math.random() * 0.5);
    const pause = Math.max(wait, jitter);
    backoff = Math.min(backoff * 2, opts.maxBackoffMs ?? 30_000);
    if (Date.now() + pause >= deadline) break;
    await sleep(pause, opts.signal);
  }
  throw new HttpError(`${lastError || "no answer"} (gave up after the retries or the deadline)`, url);
}

/**
 * A body as its bytes, whatever it was compressed with (recognised by magic, not by name):
 * gzip and zstd in-process, xz and bzip2 by the system tools (argument arrays, a timeout).
 */
export async function decodeBody(body: Uint8Array, what: string, timeoutMs = 120_000): Promise<Uint8Array> {
  const b = body;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return Bun.gunzipSync(b as Uint8Array<ArrayBuffer>);
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return Bun.zstdDecompressSync(b);
  const tool = b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68 ? "bzip2" : b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 ? "xz" : undefined;
  if (!tool) return b;
  const p = Bun.spawn([tool, "-dc"], { stdin: b, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  try {
    const [out, err, code] = await Promise.all([new Response(p.stdout).bytes(), new Response(p.stderr).text(), p.exited]);
    if (code !== 0) throw new Error(`${what}: ${tool} -dc failed (exit ${code}): ${err.trim().split("\n")[0] ?? ""}`);
    return out;
  } finally {
    clearTimeout(timer);
  }
}
