/**
 * Errors a loader raises about its input (not a snapshot root, a task dir without task/id, …).
 * They are permanent: retrying the same input gives the same error, so the daemon parks the
 * message at once instead of retrying it. The CLI exits 1 with the message.
 */
export class InputError extends Error {
  override name = "InputError";
  constructor(
    message: string,
    /** The file or directory the message is about. */
    readonly path?: string,
  ) {
    super(path ? `${path}: ${message}` : message);
  }
}

/** Thrown when the caller aborted the load (SIGTERM, daemon shutdown); the load can be run again. */
export class LoadAborted extends Error {
  override name = "LoadAborted";
  constructor() {
    super("load stopped before it finished; running it again completes it");
  }
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new LoadAborted();
}

/** The same load was already completed; not an error for the daemon (idempotent redelivery). */
export class AlreadyLoaded extends InputError {
  override name = "AlreadyLoaded";
}
