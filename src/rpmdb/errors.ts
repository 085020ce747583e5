/**
 * Every failure of the rpm database readers is an RpmdbError: one line naming the database file,
 * where in it (page, slot, record key) and what is wrong.
 */

export type RpmdbErrorCode =
  | "io" // the file cannot be opened or read
  | "format" // not an rpm database this library reads (unknown magic, unsupported version or feature)
  | "truncated" // the file ends before a page, slot or blob it announces
  | "corrupt" // a page, slot or record is inconsistent
  | "loop" // a page chain comes back to a page already visited
  | "count" // the records found differ from the database's own count
  | "header"; // a record is not an RPM header blob

export class RpmdbError extends Error {
  override name = "RpmdbError";
  constructor(
    readonly code: RpmdbErrorCode,
    message: string,
    /** The database file. */
    readonly path: string,
    /** Where in the file, e.g. "page 17" or "slot 3" ("" when it concerns the whole file). */
    readonly where: string = "",
  ) {
    super(`${path}: ${where ? `${where}: ` : ""}${message}`);
  }
}

export function isRpmdbError(e: unknown): e is RpmdbError {
  return e instanceof RpmdbError;
}
