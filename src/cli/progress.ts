/** Progress for long loads: a bar with rate and ETA on a terminal, a log line every 10 s otherwise. */
import type { Logger } from "../log";
import type { Progress } from "../loaders/context";

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function progressReporter(log: Logger, quiet: boolean): ((p: Progress) => void) | undefined {
  if (quiet) return undefined;
  const tty = Boolean(process.stderr.isTTY);
  let phase = "";
  let started = 0;
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (p.phase !== phase) {
      phase = p.phase;
      started = now;
      last = 0;
    }
    const finished = p.done >= p.total;
    if (!finished && now - last < (tty ? 100 : 10_000)) return;
    last = now;
    const secs = (now - started) / 1000;
    const rate = secs > 0 ? p.done / secs : 0;
    const eta = rate > 0 ? (p.total - p.done) / rate : NaN;
    if (tty) {
      const width = 30;
      const filled = p.total ? Math.round((p.done / p.total) * width) : width;
      process.stderr.write(
        `\r${phase} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.done}/${p.total} ${rate.toFixed(0)}/s ETA ${clock(eta)}${finished ? "\n" : ""}`,
      );
    } else log.info(`${phase}: ${p.done}/${p.total}`, { rate: Math.round(rate), eta: clock(eta) });
  };
}
