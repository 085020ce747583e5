/** Exponential backoff with jitter, and a sleep that an AbortSignal cuts short. */

/** Delay before retry number `attempt` (1-based): min·2^(attempt-1), at most max, ±20 % jitter under max. */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, jitter = 0.2): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.max(0, attempt - 1));
  const spread = base * jitter * (Math.random() * 2 - 1);
  return Math.max(0, Math.min(maxMs, Math.round(base + spread)));
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Resolves when `signal` aborts — at once if it already has. (Adding an "abort" listener after
 * the abort never fires: a session stopped while it was still setting up would wait forever.)
 */
export function whenAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
