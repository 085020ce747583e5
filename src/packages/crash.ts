/**
 * Fault injection for the crash-safety tests: with ALTREPODB_CRASH_AT=<point> the process kills
 * itself with SIGKILL the first time it passes that point (e.g. "after-Files_insert"), exactly
 * like an operator's kill -9 or a power cut at the worst moment. With ALTREPODB_HANG_AT=<point>
 * the thread that passes the point blocks for good (like a read on a hung NFS mount), for the
 * tests of SIGTERM. Both unset in normal runs.
 */
const target = process.env.ALTREPODB_CRASH_AT;
const hangAt = process.env.ALTREPODB_HANG_AT;

export function crashPoint(point: string): void {
  if (target && target === point) process.kill(process.pid, "SIGKILL");
}

export function hangPoint(point: string): void {
  if (!hangAt || hangAt !== point) return;
  process.stderr.write(`ALTREPODB_HANG_AT: blocked at ${point}\n`);
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}
