/**
 * SIGINT/SIGTERM during a load: stop taking work, keep what is written, exit 130.
 *
 * The load is asked to stop (the AbortSignal); it finishes the packages in hand and writes them.
 * A load that cannot notice (a parser thread blocked in a read that never returns, as on a hung
 * NFS mount) is not waited for: STOP_GRACE_MS after the signal, or at a second signal, the
 * process exits 130 at once. Nothing is lost by that: every write is crash-safe (the journal
 * and the root-row-last order), and running the command again completes the load.
 */
export const STOP_GRACE_MS = 10_000;

export function abortOnSignals(): AbortSignal {
  const ac = new AbortController();
  const stop = (sig: string) => {
    if (ac.signal.aborted) {
      process.stderr.write(`${sig}: quitting at once\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${sig}: stopping after the current packages (again to quit at once)\n`);
    ac.abort();
    setTimeout(() => {
      process.stderr.write(`${sig}: the load did not stop within ${STOP_GRACE_MS / 1000} s; quitting (run the command again to complete it)\n`);
      process.exit(130);
    }, STOP_GRACE_MS).unref();
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  return ac.signal;
}
