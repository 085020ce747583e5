/** Plain typed rows of the per-package tables, as the loaders write them. Text columns take raw bytes. */

export type Text = Uint8Array | string;

export interface PackageRow {
  pkg_hash: bigint;
  pkg_cs: Uint8Array;
  pkg_packager: Text;
  pkg_packager_email: Text;
  pkg_name: Text;
  pkg_arch: Text;
  pkg_version: Text;
  pkg_release: Text;
  pkg_epoch: number;
  pkg_serial_: number;
  pkg_buildtime: number;
  pkg_buildhost: Text;
  pkg_size: number;
  pkg_archivesize: number;
  pkg_filesize: number;
  pkg_rpmversion: Text;
  pkg_cookie: Text;
  pkg_sourcepackage: 0 | 1;
  pkg_disttag: Text;
  pkg_sourcerpm: Text;
  pkg_srcrpm_hash: bigint;
  pkg_filename: Text;
  pkg_complete: 0 | 1;
  pkg_summary: Text;
  pkg_description: Text;
  "pkg_changelog.date": number[];
  "pkg_changelog.name": Text[];
  "pkg_changelog.evr": Text[];
  "pkg_changelog.hash": bigint[];
  pkg_distribution: Text;
  pkg_vendor: Text;
  pkg_gif: Uint8Array;
  pkg_xpm: Uint8Array;
  pkg_license: Text;
  pkg_group_: Text;
  pkg_url: Text;
  pkg_os: Text;
  pkg_prein: Text;
  pkg_postin: Text;
  pkg_preun: Text;
  pkg_postun: Text;
  pkg_pretrans: Text;
  pkg_posttrans: Text;
  pkg_icon: Uint8Array;
  pkg_preinprog: Text[];
  pkg_postinprog: Text[];
  pkg_preunprog: Text[];
  pkg_postunprog: Text[];
  pkg_buildarchs: Text[];
  pkg_verifyscript: Text;
  pkg_verifyscriptprog: Text[];
  pkg_prefixes: Text[];
  pkg_instprefixes: Text[];
  pkg_optflags: Text;
  pkg_disturl: Text;
  pkg_payloadformat: Text;
  pkg_payloadcompressor: Text;
  pkg_payloadflags: Text;
  pkg_platform: Text;
  pkg_vcs: Text;
}

/** Files_insert: the materialized views add file_hashname, file_hashdir and FileNames rows. */
export interface FileRow {
  pkg_hash: bigint;
  file_name: Text;
  file_linkto: Text;
  file_md5: Uint8Array;
  file_size: number;
  file_mode: number;
  file_rdev: number;
  file_mtime: number;
  file_flag: number;
  file_username: Text;
  file_groupname: Text;
  file_verifyflag: number;
  file_device: number;
  file_lang: Text;
  file_class: "file" | "directory" | "symlink" | "socket" | "block" | "char" | "fifo";
}

export type DependType = "require" | "conflict" | "obsolete" | "provide";

export interface DependRow {
  pkg_hash: bigint;
  dp_name: Text;
  dp_version: Text;
  dp_flag: number;
  dp_type: DependType;
}

export interface ChangelogRow {
  chlog_hash: bigint;
  chlog_text: Text;
}

/** Specfiles_insert: the view decodes the base64 content into Specfiles. */
export interface SpecfileRow {
  pkg_hash: bigint;
  pkg_name: Text;
  pkg_epoch: number;
  pkg_version: Text;
  pkg_release: Text;
  specfile_name: Text;
  specfile_date: number;
  specfile_content_base64: string;
}

export interface PackageHashRow {
  pkgh_mmh: bigint;
  pkgh_md5: Uint8Array;
  pkgh_sha1: Uint8Array;
  pkgh_sha256: Uint8Array;
  pkgh_blake2b: Uint8Array;
}

export type HeaderDepKind = DependType | "recommend" | "suggest" | "supplement" | "enhance";

/** PackageHeaderInfo (sql/0108): header facts the reference tables lose, for rpm-md export. */
export interface PackageHeaderInfoRow {
  pkg_hash: bigint;
  phi_header_start: number;
  phi_header_end: number;
  phi_epoch_set: number;
  phi_file_mtime: number;
  "phi_deps.kind": HeaderDepKind[];
  "phi_deps.name": Text[];
  "phi_deps.flag": number[];
  "phi_deps.version": Text[];
  phi_changelog_name: Text[];
  phi_packager: Text;
}

/** PackageHeaderBlob (sql/0109): the main header bytes, for apt-rpm export. */
export interface PackageHeaderBlobRow {
  pkg_hash: bigint;
  phb_header: Uint8Array;
}

/** The tables of one package, in the order they are flushed: PackageHash last means "complete". */
export const PACKAGE_TABLES = ["Changelog", "Files_insert", "Depends", "Packages", "Specfiles_insert", "PackageHeaderInfo", "PackageHeaderBlob", "PackageHash"] as const;
export type PackageTable = (typeof PACKAGE_TABLES)[number];
