/** What every loader gets from its caller (the CLI or the daemon). */
import type { Config } from "../config";
import type { Db } from "../db";
import type { Logger } from "../log";
import type { LeaseOptions } from "./lock";

export interface LoadContext {
  db: Db;
  config: Config;
  log: Logger;
  /** Aborted when the caller wants the load to stop (SIGTERM, daemon shutdown). */
  signal?: AbortSignal;
  /** Timing of the one-load-per-key lease (src/loaders/lock.ts); defaults when unset. */
  lock?: LeaseOptions;
  /** Progress callback for the CLI's progress bar or the daemon's status. */
  progress?: (p: Progress) => void;
}

/** A file or package that could not be loaded, and why (every loader's report lists them). */
export interface FailedItem {
  path: string;
  error: string;
}

export interface Progress {
  phase: string;
  done: number;
  total: number;
}
