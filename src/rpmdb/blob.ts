/**
 * One rpmdb record → RPM header: an rpmdb blob is a header without the 8-byte magic (no lead, no
 * signature header; librpm merged the signature tags into it at install time). The blob must be
 * exactly one header, as librpm requires (hdrblobInit: "blob size bad").
 */
import { headerSize, isRpmError, packageFromHeader, parseHeader, type RpmPackage } from "../rpm/index.ts";
import { RpmdbError } from "./errors.ts";

export interface RpmdbRecord {
  /** The record's key: BDB/NDB package index, sqlite hnum (rpm's header instance number). */
  key: number;
  /** Where the record lies, for messages ("page 12", "slot 3", "hnum 7"). */
  where: string;
  /** The header blob as stored (no magic). */
  header: Uint8Array;
  /** The package read from it, unless `error` is set. */
  package?: RpmPackage;
  /** Why this record could not be read; the other records are still read. */
  error?: RpmdbError;
}

/** Parse a blob into a record; a blob that is not a header gives a record with `error`. */
export function recordOf(path: string, key: number, where: string, blob: Uint8Array): RpmdbRecord {
  const rec: RpmdbRecord = { key, where, header: blob };
  const at = `${where} (key ${key})`;
  try {
    const size = headerSize(blob, 0, { magic: false, path });
    if (size !== blob.length) {
      rec.error = new RpmdbError("header", `record of ${blob.length} bytes is not an RPM header (its intro announces ${size} bytes)`, path, at);
      return rec;
    }
    rec.package = packageFromHeader(parseHeader(blob, 0, { magic: false, path }));
  } catch (e) {
    if (!isRpmError(e)) throw e;
    const off = e.offset >= 0 ? ` at byte ${e.offset} of the record` : "";
    rec.error = new RpmdbError("header", `not a valid RPM header: ${e.message}${off}`, path, at);
  }
  return rec;
}
