/** A local stand-in for the Telegram Bot API and a webhook (Bun.serve): records requests, answers as told. */

export interface Seen {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

export type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

export class FakeApi {
  readonly seen: Seen[] = [];
  /** Answers for the next requests, in order; then 200 {"ok": true}. */
  readonly script: Answer[] = [];
  /** Decides per request when set (after `script` is used up). */
  decide?: (s: Seen) => Answer | undefined;
  private server: ReturnType<typeof Bun.serve>;

  constructor() {
    this.server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: async (req) => {
        const s: Seen = { path: new URL(req.url).pathname, body: (await req.json().catch(() => ({}))) as Record<string, unknown>, at: Date.now() };
        this.seen.push(s);
        const a = this.script.shift() ?? this.decide?.(s) ?? { status: 200, body: { ok: true, result: { message_id: this.seen.length } } };
        return new Response(JSON.stringify(a.body ?? {}), { status: a.status, headers: { "content-type": "application/json", ...a.headers } });
      },
    });
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Requests that were answered 200 (accepted), for `path`. */
  accepted(path: string, answers: Map<Seen, number>): Seen[] {
    return this.seen.filter((s) => s.path === path && answers.get(s) === 200);
  }

  stop(): void {
    this.server.stop(true);
  }
}
