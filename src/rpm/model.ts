/** The plain typed package model produced by readPackage / packageFromHeader. */
import type { Header } from "./header.ts";
import type { Lead } from "./lead.ts";
import type { StringList } from "./strings.ts";

/** Unsigned integers with the width stored in the header (INT64 values as doubles). */
export type NumberArray = Uint8Array | Uint16Array | Uint32Array | Float64Array;

/**
 * Per-file values, one column per field, every column exactly `count` long. A per-file tag
 * missing from the header gives a column of zeros / empty strings.
 */
export interface RpmFiles {
  count: number;
  /** Full paths: DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or OLDFILENAMES[i] in legacy headers. */
  names: StringList;
  /** LONGFILESIZES when present, else FILESIZES. */
  sizes: NumberArray;
  modes: NumberArray;
  rdevs: NumberArray;
  mtimes: NumberArray;
  /** FILEDIGESTS as stored: lowercase hex text (empty for directories, symlinks, ghosts). */
  digests: StringList;
  linktos: StringList;
  flags: NumberArray;
  users: StringList;
  groups: StringList;
  verifyFlags: NumberArray;
  devices: NumberArray;
  inodes: NumberArray;
  langs: StringList;
  /** CLASSDICT[FILECLASS[i]] (librpm's FILECLASS extension); empty when there is no class dictionary. */
  classes: StringList;
  /** True when the header has both CLASSDICT and FILECLASS. */
  hasClassDict: boolean;
  /** FILEDIGESTALGO (1 = MD5, 8 = SHA256, …); 1 when absent. */
  digestAlgo: number;
}

/** One dependency kind (require / provide / conflict / obsolete), columns `count` long. */
export interface RpmDeps {
  count: number;
  names: StringList;
  /** RPMSENSE_* bitmask, raw. */
  flags: NumberArray;
  versions: StringList;
}

/** CHANGELOGTIME / NAME / TEXT in header order (newest first). */
export interface RpmChangelog {
  count: number;
  times: NumberArray;
  names: StringList;
  texts: StringList;
}

export interface RpmPackage {
  /** File the package was read from ("" for in-memory headers). */
  path: string;
  /** Size of the .rpm file on disk (-1 for in-memory headers). */
  fileSize: number;
  lead: Lead | null;
  /** The main header, for raw tag access. */
  header: Header;
  /** The signature header (null for pkglist / rpmdb headers). */
  signature: Header | null;
  /** Byte range of the main header in the file; the payload starts at headerEnd (-1 when unknown). */
  headerStart: number;
  headerEnd: number;

  name: Uint8Array;
  /** EPOCH (= SERIAL); null when absent. */
  epoch: number | null;
  version: Uint8Array;
  release: Uint8Array;
  arch: Uint8Array;
  os: Uint8Array;
  /** SOURCEPACKAGE, retrofitted to true for lead-type-source packages without SOURCERPM. */
  isSource: boolean;
  sourcerpm: Uint8Array;
  buildtime: number | null;
  buildhost: Uint8Array;
  /** SIZE, or LONGSIZE when SIZE is absent. */
  size: number | null;
  /** ARCHIVESIZE (signature PAYLOADSIZE), or LONGARCHIVESIZE when absent. */
  archivesize: number | null;
  /** Signature SIZE (header + payload), or LONGSIGSIZE. */
  sigsize: number | null;
  /** The 20 raw bytes of SHA1HEADER (stored as 40 hex digits); empty when absent. */
  sha1header: Uint8Array;
  /** SIGMD5 (signature MD5), raw; empty when absent. */
  sigmd5: Uint8Array;
  /** SIGGPG (signature GPG packet), raw; empty when absent. */
  siggpg: Uint8Array;

  summary: Uint8Array;
  description: Uint8Array;
  group: Uint8Array;
  packager: Uint8Array;
  vendor: Uint8Array;
  license: Uint8Array;
  url: Uint8Array;
  distribution: Uint8Array;
  disttag: Uint8Array;
  rpmversion: Uint8Array;
  cookie: Uint8Array;
  optflags: Uint8Array;
  disturl: Uint8Array;
  payloadformat: Uint8Array;
  payloadcompressor: Uint8Array;
  payloadflags: Uint8Array;
  platform: Uint8Array;
  vcs: Uint8Array;
  gif: Uint8Array;
  xpm: Uint8Array;
  icon: Uint8Array;
  buildarchs: Uint8Array[];
  prefixes: Uint8Array[];
  instprefixes: Uint8Array[];

  prein: Uint8Array;
  postin: Uint8Array;
  preun: Uint8Array;
  postun: Uint8Array;
  pretrans: Uint8Array;
  posttrans: Uint8Array;
  verifyscript: Uint8Array;
  preinprog: Uint8Array[];
  postinprog: Uint8Array[];
  preunprog: Uint8Array[];
  postunprog: Uint8Array[];
  pretransprog: Uint8Array[];
  posttransprog: Uint8Array[];
  verifyscriptprog: Uint8Array[];

  files: RpmFiles;
  requires: RpmDeps;
  provides: RpmDeps;
  conflicts: RpmDeps;
  obsoletes: RpmDeps;
  changelog: RpmChangelog;
}
