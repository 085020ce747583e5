/**
 * Fault injection for the crash-safety tests: with ALTREPODB_CRASH_AT=<point> the process kills
 * itself with SIGKILL the first time it passes that point (e.g. "after-Files_insert"), exactly
 * like an operator's kill -9 or a power cut at the worst moment. Unset in normal runs.
 */
const target = process.env.ALTREPODB_CRASH_AT;

export function crashPoint(point: string): void {
  if (target && target === point) process.kill(process.pid, "SIGKILL");
}
