/**
 * Standard output as shell pipelines expect it: everything written reaches the reader before the
 * process exits (`altrepodb sql … | gzip` keeps every row), and a reader that goes away early
 * (`| head`) ends the run quietly with status 141, as a tool killed by SIGPIPE reports.
 */

/** Status of a run whose reader closed the pipe (128 + SIGPIPE). */
export const EXIT_CLOSED_PIPE = 141;

export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      // nothing can be reported on a stream that failed; a closed pipe is the reader's choice
      if (e.code === "EPIPE") process.exit(EXIT_CLOSED_PIPE);
    });
  }
}

/** Waits until stdout and stderr have handed everything to the kernel (call before process.exit). */
export async function finishOutput(): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.writableEnded || stream.destroyed) continue;
    await new Promise<void>((done) => {
      stream.once("error", () => done());
      stream.end(() => done());
    });
  }
}
