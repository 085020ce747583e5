/** Girar's date formats, read as UTC (girar writes UTC with LC_TIME=C). */

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** Epoch seconds of a UTC calendar time, or undefined when a field is out of range (strptime's ValueError). */
export function utcSeconds(year: number, monthName: string, day: number, h: number, m: number, s: number): number | undefined {
  const month = MONTHS.indexOf(monthName.toLowerCase());
  if (month < 0 || day < 1 || day > 31 || h > 23 || m > 59 || s > 59 || year < 1) return undefined;
  const t = Date.UTC(year, month, day, h, m, s);
  const d = new Date(t);
  if (d.getUTCDate() !== day) return undefined; // Feb 30 and friends
  return Math.floor(t / 1000);
}

/** strptime(text, "%Y-%b-%d %H:%M:%S") as UTC. */
export function parseGirarDate(text: string): number | undefined {
  const m = /^(\d{4})-([A-Za-z]{3})-(\d{1,2})\s+(\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  return utcSeconds(Number(m[1]), m[2], Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}
