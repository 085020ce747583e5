/**
 * Every failure of the RPM library is an RpmError: a plain one-line message, the file it
 * concerns and the byte offset where the problem was found (-1 when no offset applies).
 */

export type RpmErrorCode =
  | "io" // the file cannot be opened or read
  | "truncated" // the data ends before a structure it announces
  | "magic" // a lead, header or cpio magic is wrong
  | "version" // unsupported lead version or signature type
  | "index" // an index entry points outside the data store, or a region is corrupt
  | "count" // an absurd count or size
  | "type" // an unknown tag type
  | "value" // a tag value is unusable (unterminated string, bad hex, mismatched array lengths)
  | "compression" // the payload compressor is unknown or decompression failed
  | "cpio" // the cpio archive is corrupt
  | "no-spec" // a source package payload has no spec file
  | "timeout" // a decompressor child process took too long
  | "digest" // a header digest (SHA1HEADER, SHA256HEADER) does not match the main header
  | "buildtime"; // BUILDTIME is missing or before 2001-09-09 (pkg_hash would be negative)

export class RpmError extends Error {
  override name = "RpmError";
  constructor(
    readonly code: RpmErrorCode,
    message: string,
    readonly path: string = "",
    readonly offset: number = -1,
  ) {
    super(message);
  }

  /** "path: message (at byte N)" — the form printed by the CLI. */
  describe(): string {
    const where = this.offset >= 0 ? ` (at byte ${this.offset})` : "";
    return `${this.path ? `${this.path}: ` : ""}${this.message}${where}`;
  }
}

export function isRpmError(e: unknown): e is RpmError {
  return e instanceof RpmError;
}
