/** Wall-clock times of a named time zone → UTC (listings and Bugzilla print local times). */

/** Offset of `tz` from UTC at the UTC instant `t`, in ms (positive east of Greenwich). */
const formats = new Map<string, Intl.DateTimeFormat>();

function offsetAt(t: number, tz: string): number {
  let f = formats.get(tz);
  if (!f) formats.set(tz, (f = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })));
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(t / 1000) * 1000;
}

/** Seconds since the epoch of the wall-clock time (y, mo 1-12, d, h, mi, s) in `tz`. */
export function zonedToEpoch(y: number, mo: number, d: number, h: number, mi: number, s: number, tz: string): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  if (tz === "UTC") return wall / 1000;
  let t = wall - offsetAt(wall, tz);
  t = wall - offsetAt(t, tz); // once more: the offset may change between the two guesses (DST)
  return Math.floor(t / 1000);
}

/** Throws a RangeError when `tz` is not a time zone the runtime knows. */
export function checkTimeZone(tz: string): void {
  new Intl.DateTimeFormat("en-US", { timeZone: tz });
}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };

/** The date formats directory listings use (htmllistparse's list, reference §2.8), read in `tz`. */
export function parseListingTime(s: string, tz: string): number | undefined {
  const t = s.trim();
  let m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (m && MONTHS[m[2]!.toLowerCase()]) return zonedToEpoch(+m[3]!, MONTHS[m[2]!.toLowerCase()]!, +m[1]!, +m[4]!, +m[5]!, +(m[6] ?? 0), tz);
  m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(Z)?$/.exec(t);
  if (m) return m[7] ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0)) / 1000 : zonedToEpoch(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0), tz);
  m = /^(\d{4})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (m && MONTHS[m[2]!.toLowerCase()]) return zonedToEpoch(+m[1]!, MONTHS[m[2]!.toLowerCase()]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0), tz);
  m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (m) return zonedToEpoch(+m[1]!, +m[2]!, +m[3]!, 0, 0, 0, tz);
  return undefined;
}
