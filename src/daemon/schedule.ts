/** Schedules from the config: "every 30m" (s, m, h, d) or "daily at HH:MM" (local time). */

export type Schedule = { kind: "every"; ms: number; text: string } | { kind: "daily"; hour: number; minute: number; text: string };

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Undefined for an empty text; throws an Error saying what is accepted. */
export function parseSchedule(text: string): Schedule | undefined {
  const t = text.trim().toLowerCase();
  if (t === "") return undefined;
  let m = /^every\s+(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(t);
  if (m) {
    const ms = Number(m[1]) * UNITS[m[2]];
    if (ms < 1000) throw new Error(`schedule ${JSON.stringify(text)}: the interval must be at least 1s`);
    return { kind: "every", ms, text: t };
  }
  m = /^daily\s+at\s+(\d{1,2}):(\d{2})$/.exec(t);
  if (m) {
    const hour = Number(m[1]);
    const minute = Number(m[2]);
    if (hour > 23 || minute > 59) throw new Error(`schedule ${JSON.stringify(text)}: no such time of day`);
    return { kind: "daily", hour, minute, text: t };
  }
  throw new Error(`schedule ${JSON.stringify(text)}: expected "every <N>s|m|h|d" or "daily at HH:MM"`);
}

/** The first run strictly after `from`. "every" runs start one interval after the daemon does. */
export function nextRun(s: Schedule, from: Date): Date {
  if (s.kind === "every") return new Date(from.getTime() + s.ms);
  const next = new Date(from);
  next.setHours(s.hour, s.minute, 0, 0);
  if (next.getTime() <= from.getTime()) next.setDate(next.getDate() + 1);
  return next;
}
