/**
 * One attempt to hand a notice to a destination (a Telegram chat, the webhook) through src/http,
 * and what the answer means: accepted, try again (after retry_after when Telegram says so), or
 * refused for good (the content itself is wrong).
 */
import { httpRequest } from "../http";
import type { Notice } from "./format";

export type Attempt = { kind: "ok" } | { kind: "retry"; error: string; afterMs?: number } | { kind: "refused"; error: string };

export interface Destination {
  /** "telegram <chat>" or "webhook": for logs and status (never the token). */
  name: string;
  send(notice: Notice, signal: AbortSignal): Promise<Attempt>;
  /** Called before every attempt (the per-chat rate limit). */
  before?(signal: AbortSignal): Promise<boolean>;
  /** Called after every attempt, whatever its answer. */
  after?(): void;
}

/** Statuses worth another try: the server's trouble or ours (auth, a chat not found yet) — never dropped. */
const permanent = (status: number) => status === 400 || status === 413 || status === 422;

async function post(url: string, body: unknown, timeoutMs: number, signal: AbortSignal, headers: Record<string, string> = {}) {
  return httpRequest(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...headers },
    retries: 0,
    timeoutMs,
    deadlineMs: timeoutMs + 1000,
    maxBytes: 1024 * 1024,
    accept: () => true,
    signal,
  });
}

function errorText(e: unknown, secret?: string): string {
  const m = e instanceof Error ? e.message : String(e);
  return secret ? m.split(secret).join("***") : m;
}

export function telegramChat(o: { apiUrl: string; token: string; chatId: string; timeoutMs: number }): Destination {
  const url = `${o.apiUrl}/bot${o.token}/sendMessage`;
  const htmlRefused = new WeakSet<Notice>();
  return {
    name: `telegram ${o.chatId}`,
    async send(notice, signal) {
      const attempt = async (html: boolean): Promise<Attempt & { status?: number }> => {
        const body = html ? { chat_id: o.chatId, text: notice.html, parse_mode: "HTML", disable_web_page_preview: true } : { chat_id: o.chatId, text: notice.plain, disable_web_page_preview: true };
        let res;
        try {
          res = await post(url, body, o.timeoutMs, signal);
        } catch (e) {
          return { kind: "retry", error: errorText(e, o.token) };
        }
        let answer: { ok?: boolean; description?: string; parameters?: { retry_after?: number } } = {};
        try {
          answer = JSON.parse(new TextDecoder().decode(res.body));
        } catch {
          // a proxy's HTML error page: the status decides
        }
        if (res.status >= 200 && res.status < 300 && answer.ok !== false) return { kind: "ok" };
        const error = `HTTP ${res.status}${answer.description ? `: ${answer.description}` : ""}`.split(o.token).join("***");
        if (res.status === 429) {
          const header = Number(res.headers.get("retry-after"));
          const after = answer.parameters?.retry_after ?? (Number.isFinite(header) ? header : undefined);
          return { kind: "retry", error, afterMs: after !== undefined ? after * 1000 : undefined, status: 429 };
        }
        if (permanent(res.status)) return { kind: "refused", error, status: res.status };
        return { kind: "retry", error, status: res.status };
      };
      const html = !htmlRefused.has(notice);
      const r = await attempt(html);
      // Telegram refused the markup: the same text without it, as the next attempt (it takes its own place in the rate limit)
      if (r.kind === "refused" && r.status === 400 && html) {
        htmlRefused.add(notice);
        return { kind: "retry", error: `${r.error}; sending it again without HTML`, afterMs: 0 };
      }
      return r;
    },
  };
}

export function webhook(o: { url: string; timeoutMs: number }): Destination {
  return {
    name: "webhook",
    async send(notice, signal) {
      let res;
      try {
        res = await post(o.url, notice.json, o.timeoutMs, signal);
      } catch (e) {
        return { kind: "retry", error: errorText(e) };
      }
      if (res.status >= 200 && res.status < 300) return { kind: "ok" };
      const error = `HTTP ${res.status}`;
      if (res.status === 429) {
        const header = Number(res.headers.get("retry-after"));
        return { kind: "retry", error, afterMs: Number.isFinite(header) && res.headers.get("retry-after") !== null ? header * 1000 : undefined };
      }
      return permanent(res.status) ? { kind: "refused", error } : { kind: "retry", error };
    },
  };
}

/**
 * At most `limit` sends per `windowMs` (sliding window); waits, never refuses. A send counts from
 * when its answer came (`finish`), so the server, which counts arrivals, never sees more.
 */
export class RateLimit {
  private readonly sent: number[] = [];
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  async take(signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const now = Date.now();
      while (this.sent.length && this.sent[0]! <= now - this.windowMs) this.sent.shift();
      if (this.sent.length < this.limit) {
        this.sent.push(Infinity);
        return true;
      }
      const wait = this.sent[0] === Infinity ? 50 : this.sent[0]! + this.windowMs - now + 1;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
    }
  }

  /** The send taken last is over: its window starts now. */
  finish(): void {
    const i = this.sent.lastIndexOf(Infinity);
    if (i >= 0) this.sent[i] = Date.now();
  }
}
