/** Exit codes (documented in README.md) and the one-line error report of the CLI. */
import { ConfigError } from "../config";
import { DbError } from "../db";
import { LoadAborted } from "../loaders/errors";

export const EXIT = {
  ok: 0,
  /** the run finished but something was not loaded (failed files, incomplete package set) */
  failed: 1,
  /** bad usage or configuration */
  usage: 2,
  /** database unreachable, refused or failing */
  database: 3,
  /** stopped by SIGINT/SIGTERM before finishing */
  interrupted: 130,
} as const;

/** A wrong command line: exit 2 with the usage hint. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A run that finished but must report failure (exit 1), e.g. some packages could not be read. */
export class RunFailed extends Error {
  override name = "RunFailed";
  constructor(
    message: string,
    readonly code: number = EXIT.failed,
  ) {
    super(message);
  }
}

/** citty's own argument errors (unknown command, missing argument) are usage errors. */
export function isUsageError(e: unknown): boolean {
  return e instanceof UsageError || (e instanceof Error && e.name === "CLIError");
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof ConfigError || isUsageError(e)) return EXIT.usage;
  if (e instanceof DbError) return EXIT.database;
  if (e instanceof RunFailed) return e.code;
  if (e instanceof LoadAborted) return EXIT.interrupted;
  return EXIT.failed;
}

/** One line: the cause and, when known, the fix. */
export function describeError(e: unknown): string {
  if (e instanceof DbError) return `database error: ${e.message}${e.hint ? ` (${e.hint})` : ""}`;
  if (e instanceof ConfigError) return `config error: ${e.message}`;
  if (e instanceof UsageError) return `usage error: ${e.message} (see --help)`;
  if (e instanceof Error) return e.message;
  return String(e);
}
