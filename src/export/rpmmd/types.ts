/** Plain rows the rpm-md writers take (no database types): one binary package each. */

export type DepKind = "require" | "provide" | "conflict" | "obsolete" | "recommend" | "suggest" | "supplement" | "enhance";

export interface RpmmdDep {
  kind: DepKind;
  name: string;
  /** RPMSENSE_* bitmask, raw. */
  flags: number;
  version: string;
}

export interface RpmmdFile {
  /** Full path. */
  name: string;
  mode: number;
  /** RPMFILE_* flags (64 = ghost). */
  flags: number;
}

export interface RpmmdChangelog {
  /** CHANGELOGNAME as stored. */
  author: string;
  date: number;
  text: string;
}

/**
 * Strings are already valid UTF-8 (createrepo_c reads a header string that is not UTF-8 as
 * ISO-8859-1: `forceUtf8` does the same).
 */
export interface RpmmdPackage {
  /** sha256 of the .rpm file, hex. */
  pkgid: string;
  name: string;
  arch: string;
  /** Header EPOCH (0 when absent: createrepo_c writes epoch="0" either way). */
  epoch: number;
  version: string;
  release: string;
  summary: string;
  description: string;
  packager: string;
  url: string;
  timeFile: number;
  timeBuild: number;
  sizePackage: number;
  sizeInstalled: number;
  sizeArchive: number;
  /** Relative to the repository root. */
  href: string;
  license: string;
  vendor: string;
  group: string;
  buildhost: string;
  sourcerpm: string;
  headerStart: number;
  headerEnd: number;
  /** Header order within each kind. */
  deps: RpmmdDep[];
  /** Header order. */
  files: RpmmdFile[];
  /** Header order (newest first), every entry: the writer keeps the newest ones. */
  changelog: RpmmdChangelog[];
}
