/** SIGINT/SIGTERM during a load: stop taking work, keep what is written, exit 130. */
export function abortOnSignals(): AbortSignal {
  const ac = new AbortController();
  const stop = (sig: string) => {
    if (ac.signal.aborted) process.exit(130);
    process.stderr.write(`\n${sig}: stopping after the current packages (again to quit at once)\n`);
    ac.abort();
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
  return ac.signal;
}
