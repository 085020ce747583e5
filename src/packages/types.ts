/**
 * The package path shared by the repo, task and package loaders: RPM files in, rows of
 * Packages/Files/Depends/Changelog/Specfiles/PackageHash out, each package parsed at most once.
 */

/** One RPM file to load, with the digests the caller already knows (from pkglists, hash lists). */
export interface PackageFile {
  /** Absolute path of the .rpm file. */
  path: string;
  /** File name stored as pkg_filename (default: basename of path). */
  name?: string;
  /** Whole-file digests known from lists; missing ones are computed from the file. */
  md5?: Uint8Array;
  sha256?: Uint8Array;
  blake2b?: Uint8Array;
  /** True for .src.rpm (sets pkg_sourcerpm = own name, pkg_srcrpm_hash = own hash, Specfiles row). */
  source: boolean;
  /**
   * pkg_srcrpm_hash of a binary: a fixed value (task iterations), or resolved from the
   * header's SOURCERPM file name through `sourceHashes` of the load options.
   */
  srcrpmHash?: bigint;
}

export type PackageOutcome =
  /** Its digest was in PackageHash: not opened. */
  | { status: "known"; pkgHash: bigint }
  /** Parsed and written. */
  | { status: "loaded"; pkgHash: bigint }
  /** Parsed, but its pkg_hash was already written (same package under another file digest). */
  | { status: "duplicate"; pkgHash: bigint }
  | { status: "failed"; error: string };

export interface PackageLoadOptions {
  /** Source rpm file name → pkg_hash, for binaries without a fixed srcrpmHash. */
  sourceHashes?: ReadonlyMap<string, bigint>;
  /** Parse and insert even when the digest is known (task loader --force). */
  force?: boolean;
  /**
   * Called once with the files that must be parsed, before parsing: a loader can fetch digests
   * it only needs for new packages (the repo loader reads the binary hash lists here).
   */
  beforeParse?: (files: readonly PackageFile[]) => Promise<void>;
}
