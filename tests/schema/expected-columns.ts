/**
 * The schema the migrations must produce, written by hand from the reference documents in
 * /work/shared/reference (not generated from the database). Abbreviations in the citations:
 *   RTL = repo-and-task-loaders.md, FID = feeds-images-daemon.md, SNT = schema-newer-tables.md,
 *   REF = the public 2022 schema file Blarse/altrepodb@647565d sql/0000_initial.sql (read only to
 *         confirm names/types/keys the documents leave out).
 * Types are written the way system.columns prints them; Nested columns appear flattened
 * (`n.x Array(T)`). A third element gives the default kind (DEFAULT / MATERIALIZED / ALIAS).
 * Types marked "guess" in a comment come from SNT confidence M/L; see sql/README.md.
 */

export type Kind = "" | "DEFAULT" | "MATERIALIZED" | "ALIAS";
export type Col = readonly [name: string, type: string, kind?: Kind];

export interface TableSpec {
  /** system.tables.engine */
  engine: string;
  /** where the column list comes from */
  doc: string;
  columns: readonly Col[];
  /** system.tables.sorting_key, where the documents give it */
  orderBy?: string;
}

const LC = "LowCardinality(String)";
const FILE_CLASS = "Enum8('file' = 0, 'directory' = 1, 'symlink' = 2, 'socket' = 3, 'block' = 4, 'char' = 5, 'fifo' = 6)";
const PLAN_ACTION = "Enum8('add' = 0, 'delete' = 1)";
const SHOW = "Enum8('hide' = 0, 'show' = 1)";
const CHANGE_TYPE = "Enum8('create' = 0, 'update' = 1, 'discard' = 2, 'hide' = 3, 'show' = 4)";
const CHANGE_SOURCE = "Enum8('auto' = 0, 'manual' = 1)";
const CHANGE_ORIGIN = "Enum8('parent' = 0, 'child' = 1)";
const TS64: Col = ["ts", "DateTime64(3)", "MATERIALIZED"];
const TS64_DEFAULT: Col = ["ts", "DateTime64(3)", "DEFAULT"];

// RTL §2.13 (PackageSetName columns), REF (types, key)
const PackageSetName: Col[] = [
  ["pkgset_uuid", "UUID"],
  ["pkgset_puuid", "UUID"],
  ["pkgset_ruuid", "UUID"],
  ["pkgset_depth", "UInt8"],
  ["pkgset_nodename", "String"],
  ["pkgset_date", "DateTime"],
  ["pkgset_tag", "String"],
  ["pkgset_complete", "UInt8"],
  ["pkgset_kv.k", "Array(String)"],
  ["pkgset_kv.v", "Array(String)"],
];

// RTL §2.13 (PackageSet: ReplacingMergeTree ORDER BY (pkgset_uuid, pkg_hash))
const PackageSet: Col[] = [
  ["pkgset_uuid", "UUID"],
  ["pkg_hash", "UInt64"],
];

// RTL §1.7 (PackageHash row: mmh, md5 16 B, sha1 20 B, sha256 32 B, blake2b 64 B)
const PackageHash: Col[] = [
  ["pkgh_mmh", "UInt64"],
  ["pkgh_md5", "FixedString(16)"],
  ["pkgh_sha1", "FixedString(20)"],
  ["pkgh_sha256", "FixedString(32)"],
  ["pkgh_blake2b", "FixedString(64)"],
];

// RTL §3.6 step 2 (column list), SNT §1.1 (positional SELECT * = 2022 list), REF (types, ts)
const Tasks: Col[] = [
  ["task_id", "UInt32"],
  ["subtask_id", "UInt32"],
  ["task_repo", LC],
  ["task_owner", LC],
  ["task_changed", "DateTime"],
  ["subtask_changed", "DateTime"],
  ["subtask_deleted", "UInt8"],
  ["subtask_userid", LC],
  ["subtask_dir", "String"],
  ["subtask_package", "String"],
  ["subtask_type", "Enum8('unknown' = 0, 'srpm' = 1, 'gear' = 2, 'copy' = 3, 'delete' = 4, 'rebuild' = 5)"],
  ["subtask_pkg_from", LC],
  ["subtask_sid", "String"],
  ["subtask_tag_author", "String"],
  ["subtask_tag_id", "String"],
  ["subtask_tag_name", "String"],
  ["subtask_srpm", "String"],
  ["subtask_srpm_name", "String"],
  ["subtask_srpm_evr", "String"],
  ["ts", "DateTime", "MATERIALIZED"],
];

// RTL §3.6 step 1 (TaskStates row), REF (types, ts)
const TaskStates: Col[] = [
  ["task_changed", "DateTime"],
  ["task_id", "UInt32"],
  ["task_state", LC],
  ["task_runby", LC],
  ["task_depends", "Array(UInt32)"],
  ["task_try", "UInt16"],
  ["task_testonly", "UInt8"],
  ["task_failearly", "UInt8"],
  ["task_shared", "UInt8"],
  ["task_message", "String"],
  ["task_version", "String"],
  ["task_prev", "UInt32"],
  ["task_eventlog_hash", "Array(UInt64)"],
  ["ts", "DateTime", "MATERIALIZED"],
];

// RTL §3.6 step 6 (argMax(tuple(*), ts) gives the 7 columns in this order), REF (types)
const TaskApprovals: Col[] = [
  ["task_id", "UInt32"],
  ["subtask_id", "UInt32"],
  ["tapp_type", "Enum8('approve' = 0, 'disapprove' = 1)"],
  ["tapp_revoked", "UInt8"],
  ["tapp_date", "DateTime"],
  ["tapp_name", LC],
  ["tapp_message", "String"],
  ["ts", "DateTime", "MATERIALIZED"],
];

// RTL §3.6 step 3.3 (TaskIterations row, types given there), REF (LC types)
const TaskIterations: Col[] = [
  ["task_id", "UInt32"],
  ["task_changed", "DateTime"],
  ["subtask_id", "UInt32"],
  ["subtask_arch", LC],
  ["titer_ts", "DateTime"],
  ["titer_status", LC],
  ["task_try", "UInt16"],
  ["task_iter", "UInt8"],
  ["titer_srcrpm_hash", "UInt64"],
  ["titer_pkgs_hash", "Array(UInt64)"],
  ["titer_chroot_base", "UInt64"],
  ["titer_chroot_br", "UInt64"],
  ["titer_buildlog_hash", "UInt64"],
  ["titer_srpmlog_hash", "UInt64"],
];

// RTL §3.6 step 3.3 (tch_hash MATERIALIZED murmurHash3_64(tch_chroot))
const TaskChroots: Col[] = [
  ["tch_hash", "UInt64", "MATERIALIZED"],
  ["tch_chroot", "Array(UInt64)"],
];

// RTL §3.6 step 7 and §3.7 (tlog_hash, tlog_line, tlog_ts, tlog_message), REF (types)
const TaskLogs: Col[] = [
  ["tlog_hash", "UInt64"],
  ["tlog_line", "UInt32"],
  ["tlog_ts", "DateTime"],
  ["tlog_message", "String"],
];

// RTL §3.6 step 5 and §6.3, REF (types)
const TaskPlanPackages: Col[] = [
  ["tplan_hash", "UInt64"],
  ["tplan_action", PLAN_ACTION],
  ["tplan_pkg_name", "String"],
  ["tplan_pkg_evr", "String"],
  ["tplan_bin_file", "String"],
  ["tplan_src_file", "String"],
  ["tplan_arch", LC],
  ["tplan_comp", LC],
  ["tplan_subtask", "UInt32"],
];

// RTL §3.6 step 5 (tplan_hash, tplan_action, tplan_sha256: 32 bytes)
const TaskPlanPkgHash: Col[] = [
  ["tplan_hash", "UInt64"],
  ["tplan_action", PLAN_ACTION],
  ["tplan_sha256", "FixedString(32)"],
];

// RTL §1.6.7 (Files columns and conversions), §1.7 step 2 (hash columns), REF (LC types)
const Files: Col[] = [
  ["pkg_hash", "UInt64"],
  ["file_hashname", "UInt64"],
  ["file_hashdir", "UInt64"],
  ["file_linkto", "String"],
  ["file_md5", "FixedString(16)"],
  ["file_size", "UInt32"],
  ["file_mode", "UInt16"],
  ["file_rdev", "UInt16"],
  ["file_mtime", "DateTime"],
  ["file_flag", "UInt16"],
  ["file_username", LC],
  ["file_groupname", LC],
  ["file_verifyflag", "UInt32"],
  ["file_device", "UInt32"],
  ["file_lang", LC],
  ["file_class", FILE_CLASS],
];

// RTL §1.7 step 2 (INSERT INTO Files_insert column list; Null engine)
const Files_insert: Col[] = [
  ["pkg_hash", "UInt64"],
  ["file_name", "String"],
  ...Files.slice(3),
];

// RTL §1.7 step 2 (fn_hash MATERIALIZED murmurHash3_64(fn_name))
const FileNames: Col[] = [
  ["fn_name", "String"],
  ["fn_hash", "UInt64", "MATERIALIZED"],
];

// RTL §1.7.1 (complete Packages row with CH types), SNT §1.2 (pkg_vcs, pkg_pretrans, pkg_posttrans)
const Packages: Col[] = [
  ["pkg_hash", "UInt64"],
  ["pkg_cs", "FixedString(20)"],
  ["pkg_packager", LC],
  ["pkg_packager_email", LC],
  ["pkg_name", "String"],
  ["pkg_arch", LC],
  ["pkg_version", "String"],
  ["pkg_release", "String"],
  ["pkg_epoch", "UInt32"],
  ["pkg_serial_", "UInt32"],
  ["pkg_buildtime", "UInt32"],
  ["pkg_buildhost", LC],
  ["pkg_size", "UInt64"],
  ["pkg_archivesize", "UInt64"],
  ["pkg_filesize", "UInt64"],
  ["pkg_rpmversion", LC],
  ["pkg_cookie", "String"],
  ["pkg_sourcepackage", "UInt8"],
  ["pkg_disttag", "String"],
  ["pkg_sourcerpm", "String"],
  ["pkg_srcrpm_hash", "UInt64"],
  ["pkg_filename", "String"],
  ["pkg_complete", "UInt8"],
  ["pkg_summary", "String"],
  ["pkg_description", "String"],
  ["pkg_changelog.date", "Array(DateTime)"],
  ["pkg_changelog.name", "Array(String)"],
  ["pkg_changelog.evr", "Array(String)"],
  ["pkg_changelog.hash", "Array(UInt64)"],
  ["pkg_distribution", LC],
  ["pkg_vendor", LC],
  ["pkg_gif", "String"],
  ["pkg_xpm", "String"],
  ["pkg_license", LC],
  ["pkg_group_", "String"],
  ["pkg_url", LC],
  ["pkg_os", LC],
  ["pkg_prein", "String"],
  ["pkg_postin", "String"],
  ["pkg_preun", "String"],
  ["pkg_postun", "String"],
  ["pkg_icon", "String"],
  ["pkg_preinprog", "Array(String)"],
  ["pkg_postinprog", "Array(String)"],
  ["pkg_preunprog", "Array(String)"],
  ["pkg_postunprog", "Array(String)"],
  ["pkg_buildarchs", "Array(LowCardinality(String))"],
  ["pkg_verifyscript", "String"],
  ["pkg_verifyscriptprog", "Array(String)"],
  ["pkg_prefixes", "Array(LowCardinality(String))"],
  ["pkg_instprefixes", "Array(String)"],
  ["pkg_optflags", LC],
  ["pkg_disturl", "String"],
  ["pkg_payloadformat", LC],
  ["pkg_payloadcompressor", LC],
  ["pkg_payloadflags", LC],
  ["pkg_platform", LC],
  // SNT §1.2: post-2022 columns (types M: prein/postin are String in 2022)
  ["pkg_vcs", "String"],
  ["pkg_pretrans", "String"],
  ["pkg_posttrans", "String"],
];

// RTL §1.7 step 1 (chlog_hash UInt64, chlog_text String)
const Changelog: Col[] = [
  ["chlog_hash", "UInt64"],
  ["chlog_text", "String"],
];

// RTL §1.7 step 3 (dp_name, dp_version, dp_flag, pkg_hash, dp_type Enum8 1..4), REF (order)
const Depends: Col[] = [
  ["pkg_hash", "UInt64"],
  ["dp_name", "String"],
  ["dp_version", "String"],
  ["dp_flag", "UInt32"],
  ["dp_type", "Enum8('require' = 1, 'conflict' = 2, 'obsolete' = 3, 'provide' = 4)"],
];

// RTL §1.7.2 (Specfiles_insert row), REF (types)
const SpecHead: Col[] = [
  ["pkg_hash", "UInt64"],
  ["pkg_name", "String"],
  ["pkg_epoch", "UInt32"],
  ["pkg_version", "String"],
  ["pkg_release", "String"],
  ["specfile_name", "String"],
  ["specfile_date", "DateTime"],
];

// SNT §2.15 (columns used), REF (types)
const StaticLastPackages: Col[] = [
  ["pkgset_name", "String"],
  ["pkgset_date", "DateTime"],
  ["pkg_hash", "UInt64"],
  ["pkg_name", "String"],
  ["pkg_version", "String"],
  ["pkg_release", "String"],
  ["pkg_sourcepackage", "UInt8"],
];

export const TABLES: Record<string, TableSpec> = {
  // ------------------------------------------------------------ 0001 (2022 core)
  PackageSetName: {
    engine: "MergeTree",
    doc: "RTL §2.13; REF",
    columns: PackageSetName,
    orderBy: "pkgset_date, pkgset_nodename, pkgset_ruuid, pkgset_depth",
  },
  PackageSet: { engine: "ReplacingMergeTree", doc: "RTL §2.13", columns: PackageSet, orderBy: "pkgset_uuid, pkg_hash" },
  PackageSet_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: PackageSet },
  PackageHash: { engine: "ReplacingMergeTree", doc: "RTL §1.7, §1.6.2", columns: PackageHash },
  PackageHash_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: PackageHash },
  Tasks: {
    engine: "ReplacingMergeTree",
    doc: "RTL §3.6 step 2, §3.8 (key); SNT §1.1",
    columns: Tasks,
    orderBy: "task_id, subtask_id, task_changed, subtask_changed, subtask_deleted",
  },
  Tasks_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: Tasks },
  TaskStates: {
    engine: "ReplacingMergeTree",
    doc: "RTL §3.6 step 1, §3.8 (key)",
    columns: TaskStates,
    orderBy: "task_changed, task_id, task_state, task_try",
  },
  TaskStates_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: TaskStates },
  TaskApprovals: { engine: "MergeTree", doc: "RTL §3.6 step 6 (plain MergeTree)", columns: TaskApprovals },
  TaskIterations: {
    engine: "ReplacingMergeTree",
    doc: "RTL §3.6 step 3.3, §3.8 (key); SNT §1.1",
    columns: TaskIterations,
    orderBy: "task_id, subtask_id, subtask_arch, task_changed, titer_ts, titer_status, task_try, task_iter",
  },
  TaskIterations_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: TaskIterations },
  TaskChroots: { engine: "ReplacingMergeTree", doc: "RTL §3.6 step 3.3", columns: TaskChroots },
  TaskChroots_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: TaskChroots },
  TaskLogs: {
    engine: "ReplacingMergeTree",
    doc: "RTL §3.6 step 7, §3.7 (ORDER BY (tlog_message, tlog_line, tlog_hash))",
    columns: TaskLogs,
    orderBy: "tlog_message, tlog_line, tlog_hash",
  },
  TaskLogs_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: TaskLogs },
  TaskPlanPackages: { engine: "ReplacingMergeTree", doc: "RTL §3.6 step 5", columns: TaskPlanPackages },
  TaskPlanPkgHash: { engine: "ReplacingMergeTree", doc: "RTL §3.6 step 5", columns: TaskPlanPkgHash },
  Files: { engine: "ReplacingMergeTree", doc: "RTL §1.6.7, §1.7 step 2", columns: Files },
  Files_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: Files },
  Files_insert: { engine: "Null", doc: "RTL §1.7 step 2", columns: Files_insert },
  FileNames: { engine: "ReplacingMergeTree", doc: "RTL §1.7 step 2", columns: FileNames },
  FileNames_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: FileNames },
  Packages: {
    engine: "ReplacingMergeTree",
    doc: "RTL §1.7.1 (row and engine notes); SNT §1.2",
    columns: Packages,
    orderBy: "pkg_name, pkg_arch, pkg_hash, pkg_srcrpm_hash, pkg_packager, pkg_packager_email",
  },
  Packages_buffer: { engine: "Buffer", doc: "RTL §1.7.1, §4.2", columns: Packages },
  Changelog: { engine: "ReplacingMergeTree", doc: "RTL §1.7 step 1", columns: Changelog },
  Changelog_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: Changelog },
  // RTL §8.5 / SNT §2.15 (filled by a MV joining Changelog), REF (columns)
  SrcPackagesLastChangelog: {
    engine: "ReplacingMergeTree",
    doc: "RTL §1.7.1, §8.5; REF",
    columns: [
      ["pkg_hash", "UInt64"],
      ["chlog_nick", "String"],
      ["chlog_name", "String"],
      ["chlog_date", "DateTime"],
      ["chlog_evr", "String"],
      ["chlog_text", "String"],
    ],
  },
  Depends: { engine: "ReplacingMergeTree", doc: "RTL §1.7 step 3, §6.2", columns: Depends },
  Depends_buffer: { engine: "Buffer", doc: "RTL §4.2; SNT §2.15 (read by the API)", columns: Depends },
  Specfiles_insert: {
    engine: "Null",
    doc: "RTL §1.7.2",
    columns: [...SpecHead, ["specfile_content_base64", "String"]],
  },
  Specfiles: { engine: "ReplacingMergeTree", doc: "RTL §1.7.2 (base64Decode by mv_specfiles)", columns: [...SpecHead, ["specfile_content", "String"]] },
  Specfiles_buffer: { engine: "Buffer", doc: "RTL §4.2", columns: [...SpecHead, ["specfile_content", "String"]] },
  // RTL §2.11 (MV cascade stage 1), REF (columns)
  last_packages_stage1: {
    engine: "MergeTree",
    doc: "RTL §2.11; REF",
    columns: [TS64, ["pkgset_ruuid", "UUID"], ["pkgset_name", "String"], ["pkgset_date", "DateTime"]],
  },
  StaticLastPackages: { engine: "MergeTree", doc: "RTL §2.11; SNT §2.15", columns: StaticLastPackages },
  // RTL §1.7.1 (mv_packages_source_and_binaries), REF (columns)
  PackagesSourceAndBinaries: {
    engine: "AggregatingMergeTree",
    doc: "RTL §1.7.1; REF",
    columns: [
      ["buildtime", "SimpleAggregateFunction(max, UInt32)"],
      ["src_pkg_name", "String"],
      ["bin_pkg_name", "String"],
    ],
  },
  // SNT §1.1, §3.3 (BranchPackageHistory, MV in 2022), REF (columns)
  BranchPackageHistory: {
    engine: "ReplacingMergeTree",
    doc: "SNT §1.1, §3.3; REF",
    columns: [
      ["pkgset_name", LC],
      ["task_id", "UInt32"],
      ["task_changed", "DateTime"],
      ["task_message", "String"],
      ["tplan_action", PLAN_ACTION],
      ["pkg_hash", "UInt64"],
      ["pkg_name", "String"],
      ["pkg_epoch", "UInt32"],
      ["pkg_version", "String"],
      ["pkg_release", "String"],
      ["pkg_arch", LC],
      ["pkg_sourcepackage", "UInt8"],
      ["chlog_date", "DateTime"],
      ["chlog_name", "String"],
      ["chlog_nick", LC],
      ["chlog_evr", "String"],
      ["chlog_text", "String"],
    ],
  },

  // ------------------------------------------------------------ 0002 (feeds, images, legacy CVE)
  // FID §2.1 (INSERT Acl (acl_date, acl_for, acl_branch, acl_list)), REF (types)
  Acl: {
    engine: "MergeTree",
    doc: "FID §2.1, §3.7 (acl service)",
    columns: [
      ["acl_date", "DateTime"],
      ["acl_for", "String"],
      ["acl_branch", "String"],
      ["acl_list", "Array(String)"],
    ],
  },
  // SNT §1.1 (last_acl_stage1), REF (columns)
  last_acl_stage1: {
    engine: "AggregatingMergeTree",
    doc: "SNT §1.1; REF",
    columns: [
      ["acl_branch", "String"],
      ["acl_date_last", "SimpleAggregateFunction(max, DateTime)"],
      ["acl_for", "String"],
      ["acl_list", "SimpleAggregateFunction(anyLast, Array(String))"],
    ],
  },
  // FID §2.2 (row), REF (types)
  BeehiveStatus: {
    engine: "MergeTree",
    doc: "FID §2.2 step 10",
    columns: [
      ["pkg_hash", "UInt64"],
      ["pkg_name", "String"],
      ["pkg_version", "String"],
      ["pkg_release", "String"],
      ["pkgset_name", LC],
      ["bh_arch", LC],
      ["bh_status", "Enum8('error' = 0, 'success' = 1)"],
      ["bh_build_time", "Float32"],
      ["bh_updated", "DateTime"],
      ["bh_ftbfs_since", "DateTime"],
    ],
  },
  // FID §2.3 (13 columns, bz_*_full default "", ts materialized), §3.7 (15 fields)
  Bugzilla: {
    engine: "MergeTree",
    doc: "FID §2.3, §3.7",
    columns: [
      ["bz_id", "UInt32"],
      ["bz_status", LC],
      ["bz_resolution", LC],
      ["bz_severity", LC],
      ["bz_priority", LC],
      ["bz_product", LC],
      ["bz_version", LC],
      ["bz_platform", LC],
      ["bz_component", "String"],
      ["bz_assignee", "String"],
      ["bz_reporter", "String"],
      ["bz_summary", "String"],
      ["bz_last_changed", "DateTime"],
      ["bz_assignee_full", "String"],
      ["bz_reporter_full", "String"],
      TS64,
    ],
  },
  // FID §2.4 (JSON keys = columns, rc_test_date, ts materialized; key includes rc_test_date)
  PackagesRepocop: {
    engine: "ReplacingMergeTree",
    doc: "FID §2.4",
    columns: [
      ["pkg_name", "String"],
      ["pkg_version", "String"],
      ["pkg_release", "String"],
      ["pkg_arch", LC],
      ["pkgset_name", LC],
      ["rc_srcpkg_name", "String"],
      ["rc_srcpkg_version", "String"],
      ["rc_srcpkg_release", "String"],
      ["rc_test_name", LC],
      ["rc_test_date", "DateTime"],
      ["rc_test_status", LC],
      ["rc_test_message", "String"],
      TS64,
    ],
    orderBy: "pkg_name, pkg_version, pkg_release, pkg_arch, pkgset_name, rc_test_name, rc_test_date",
  },
  // FID §2.5 (acl, pkg_name, old_version, new_version, url, date_update)
  PackagesWatch: {
    engine: "ReplacingMergeTree",
    doc: "FID §2.5",
    columns: [
      ["acl", "String"],
      ["pkg_name", "String"],
      ["old_version", "String"],
      ["new_version", "String"],
      ["url", "String"],
      ["date_update", "DateTime"],
    ],
  },
  // FID §2.6 (SPDXLicenses: ReplacingMergeTree ORDER BY (spdx_id, spdx_type, spdx_name, spdx_text))
  SPDXLicenses: {
    engine: "ReplacingMergeTree",
    doc: "FID §2.6",
    columns: [
      ["spdx_id", "String"],
      ["spdx_name", "String"],
      ["spdx_text", "String"],
      ["spdx_header", "String"],
      ["spdx_urls", "Array(String)"],
      ["spdx_type", "Enum8('license' = 0, 'exception' = 1)"],
    ],
    orderBy: "spdx_id, spdx_type, spdx_name, spdx_text",
  },
  // FID §2.6 (license_aliases.json: {alias, spdx_id})
  LicenseAliases: {
    engine: "ReplacingMergeTree",
    doc: "FID §2.6",
    columns: [
      ["alias", "String"],
      ["spdx_id", "String"],
    ],
  },
  // RTL §2.17 (columns), SNT §2.14 (API inserts (*), ts MATERIALIZED)
  RepositoryStatus: {
    engine: "MergeTree",
    doc: "RTL §2.17; SNT §2.14",
    columns: [
      ["pkgset_name", LC],
      ["rs_start_date", "DateTime"],
      ["rs_end_date", "DateTime"],
      ["rs_show", "UInt8"],
      ["rs_description_ru", "String"],
      ["rs_description_en", "String"],
      ["rs_mirrors_json", "String"],
      ["rs_mailing_list", LC],
      ["rs_pkgset_name_bugzilla", LC],
      TS64,
    ],
  },
  // FID §1.6.3 (ImagePackageSetName columns: version UInt32, img_kv Map, ts now64())
  ImagePackageSetName: {
    engine: "MergeTree",
    doc: "FID §1.6.3",
    columns: [
      ["pkgset_uuid", "UUID"],
      ["pkgset_date", "DateTime"],
      ["img_tag", "String"],
      ["img_branch", LC],
      ["img_edition", LC],
      ["img_flavor", LC],
      ["img_platform", LC],
      ["img_release", LC],
      ["img_version_major", "UInt32"],
      ["img_version_minor", "UInt32"],
      ["img_version_sub", "UInt32"],
      ["img_arch", LC],
      ["img_variant", LC],
      ["img_type", LC],
      ["img_kv", "Map(String, String)"],
      TS64,
    ],
  },
  // FID §1.6.4 (ImageStatus row; img_show 0 = hide), SNT §2.14 (API inserts (*))
  ImageStatus: {
    engine: "MergeTree",
    doc: "FID §1.6.4; SNT §2.14",
    columns: [
      ["img_branch", LC],
      ["img_edition", LC],
      ["img_name", "String"],
      ["img_show", SHOW],
      ["img_start_date", "DateTime"],
      ["img_end_date", "DateTime"],
      ["img_summary_ru", "String"],
      ["img_summary_en", "String"],
      ["img_description_ru", "String"],
      ["img_description_en", "String"],
      ["img_mailing_list", LC],
      ["img_name_bugzilla", LC],
      ["img_json", "String"],
      TS64,
    ],
  },
  // FID §1.6.4 ({img_tag, img_show: 0})
  ImageTagStatus: {
    engine: "ReplacingMergeTree",
    doc: "FID §1.6.4",
    columns: [["img_tag", "String"], ["img_show", SHOW], TS64],
  },
  // SNT §1.1 (legacy, no longer read), REF (columns)
  Cve: {
    engine: "MergeTree",
    doc: "SNT §1.1; REF",
    columns: [
      ["pkg_hash", "UInt64"],
      ["cve_id", "String"],
      ["cve_description", "String"],
      ["cve_url", "String"],
      ["cve_score", "Float64"],
      ["cve_attacktype", "String"],
      ["cve_status", "Enum8('check' = 0, 'patched' = 1, 'discarded_by_version_check' = 2, 'manually_excluded' = 3)"],
      ["cve_uris", "Array(String)"],
      ["cve_modifieddate", "DateTime"],
      ["cve_parsingdate", "DateTime"],
      ["cve_cpe", "String"],
      ["cve_version_start_excluding", "Nullable(String)"],
      ["cve_version_start_including", "Nullable(String)"],
      ["cve_version_end_excluding", "Nullable(String)"],
      ["cve_version_end_including", "Nullable(String)"],
      ["cc_id", "Nullable(UInt64)"],
    ],
  },
  CveAbsentPackages: {
    engine: "MergeTree",
    doc: "SNT §1.1; REF",
    columns: [
      ["cap_product_name", "String"],
      ["cve_id", "String"],
      ["cve_description", "String"],
      ["cve_url", "String"],
      ["cve_score", "Float64"],
      ["cve_attacktype", "String"],
      ["cve_uris", "Array(String)"],
      ["cve_modifieddate", "DateTime"],
      ["cve_parsingdate", "DateTime"],
    ],
  },
  // FID §2.6 (CveChecked-initial.json keys; cc_id MATERIALIZED), REF (types)
  CveChecked: {
    engine: "MergeTree",
    doc: "FID §2.6; REF",
    columns: [
      ["cve_id", "String"],
      ["pkg_name", "String"],
      ["cc_id", "UInt64", "MATERIALIZED"],
      ["cc_status", "Enum8('patched' = 0, 'manually_excluded' = 1)"],
      ["cc_checkdate", "DateTime"],
      ["cc_description", "String"],
      ["cc_description_ru", "String"],
      ["cc_checked_ver.pkg_evr", "Array(String)"],
      ["cc_checked_ver.pkg_branch", "Array(String)"],
    ],
  },
  FstecBduList: {
    engine: "MergeTree",
    doc: "SNT §1.1; REF",
    columns: [
      ["bdu_identifier", "String"],
      ["bdu_name", "String"],
      ["bdu_description", "String"],
      ["bdu_identify_date", "Date"],
      ["bdu_severity", "String"],
      ["bdu_solution", "String"],
      ["bdu_vul_status", "String"],
      ["bdu_exploit_status", "String"],
      ["bdu_fix_status", "String"],
      ["bdu_sources", "String"],
      ["bdu_other", "String"],
      ["bdu_vulnerable_software.vendor", "Array(String)"],
      ["bdu_vulnerable_software.type", "Array(Array(String))"],
      ["bdu_vulnerable_software.name", "Array(String)"],
      ["bdu_vulnerable_software.version", "Array(String)"],
      ["bdu_environment.vendor", "Array(String)"],
      ["bdu_environment.version", "Array(String)"],
      ["bdu_environment.name", "Array(String)"],
      ["bdu_environment.platform", "Array(String)"],
      ["bdu_cwe.identifier", "Array(String)"],
      ["bdu_cvss.vector", "Array(String)"],
      ["bdu_cvss.score", "Array(Float32)"],
      ["bdu_identifiers.identifier", "Array(String)"],
      ["bdu_identifiers.type", "Array(String)"],
      ["bdu_identifiers.link", "Array(String)"],
    ],
  },

  // ------------------------------------------------------------ 0003 (post-2022)
  // SNT §2.1 (types inferred, conf. M; ts "MATERIALIZED now64() likely")
  TaskProgress: {
    engine: "MergeTree",
    doc: "SNT §2.1",
    columns: [
      ["task_id", "UInt32"],
      ["task_repo", LC],
      ["task_owner", LC],
      ["task_state", LC],
      ["task_try", "UInt16"],
      ["task_iter", "UInt8"],
      ["task_testonly", "UInt8"],
      ["task_changed", "DateTime"],
      ["task_message", "String"],
      ["task_depends", "Array(UInt32)"],
      ["stage", LC],
      ["stage_status", LC],
      ["type", LC], // guess: LC(String) or Enum
      TS64,
    ],
  },
  // SNT §2.2 (conf. M)
  TaskSubtaskProgress: {
    engine: "MergeTree",
    doc: "SNT §2.2",
    columns: [
      ["task_id", "UInt32"],
      ["subtask_id", "UInt32"],
      ["task_repo", LC],
      ["task_owner", LC],
      ["subtask_type", LC], // guess: String/Enum like Tasks.subtask_type
      ["subtask_srpm", "String"],
      ["subtask_srpm_name", "String"],
      ["subtask_srpm_evr", "String"],
      ["subtask_dir", "String"],
      ["subtask_tag_id", "String"],
      ["subtask_tag_name", "String"],
      ["subtask_tag_author", "String"],
      ["subtask_package", "String"],
      ["subtask_pkg_from", "String"],
      ["subtask_changed", "DateTime"],
      ["type", LC],
      ["arch", LC],
      ["stage", LC],
      ["stage_status", LC],
      ["status", LC],
      TS64, // guess: MATERIALIZED like TaskProgress
    ],
  },
  // SNT §2.3 (lead String: the API does toUInt32(lead))
  GlobalSearch: {
    engine: "MergeTree",
    doc: "SNT §2.3",
    columns: [["lead", "String"], ["type", LC], ["search_string", "String"], TS64],
  },
  // SNT §2.4 (lead UInt64 = pkg_hash)
  FileSearch: {
    engine: "ReplacingMergeTree",
    doc: "SNT §2.4",
    columns: [["search_string", "String"], ["lead", "UInt64"], TS64],
  },
  // SNT §2.5 (names H, types M)
  Vulnerabilities: {
    engine: "ReplacingMergeTree",
    doc: "SNT §2.5",
    columns: [
      ["vuln_id", "String"],
      ["vuln_hash", "UInt64"],
      ["vuln_type", LC],
      ["vuln_summary", "String"],
      ["vuln_score", "Float32"], // guess: Float32/Float64
      ["vuln_severity", LC],
      ["vuln_url", "String"],
      ["vuln_modified_date", "DateTime"],
      ["vuln_published_date", "DateTime"],
      ["vuln_json", "String"],
      ["vuln_references.type", "Array(String)"],
      ["vuln_references.link", "Array(String)"],
      ["vuln_rejected", "UInt8"], // guess: UInt8/Bool
      TS64,
    ],
    orderBy: "vuln_id, vuln_hash",
  },
  // SNT §2.6
  CpeMatch: {
    engine: "ReplacingMergeTree",
    doc: "SNT §2.6",
    columns: [
      ["vuln_id", "String"],
      ["vuln_hash", "UInt64"],
      ["cpe_hash", "UInt64"],
      ["cpm_cpe", "String"],
      ["cpm_version_start", "String"],
      ["cpm_version_end", "String"],
      ["cpm_version_start_excluded", "UInt8"],
      ["cpm_version_end_excluded", "UInt8"],
      ["cpm_version_hash", "UInt64"],
      TS64,
    ],
  },
  // SNT §2.7 (ts MATERIALIZED: VALUES with the 5 keys)
  PackagesNameConversion: {
    engine: "MergeTree",
    doc: "SNT §2.7",
    columns: [
      ["pkg_name", "String"],
      ["pnc_state", LC],
      ["pnc_result", "String"],
      ["pnc_type", LC],
      ["pnc_source", LC],
      TS64,
    ],
  },
  // SNT §2.8
  PackagesCveMatch: {
    engine: "ReplacingMergeTree",
    doc: "SNT §2.8",
    columns: [
      ["key_hash", "UInt64"],
      ["pkg_hash", "UInt64"],
      ["pkg_name", "String"],
      ["pkg_cpe", "String"],
      ["pkg_cpe_hash", "UInt64"],
      ["vuln_id", "String"],
      ["vuln_hash", "UInt64"],
      ["cpm_cpe", "String"],
      ["cpm_cpe_hash", "UInt64"],
      ["cpm_version_hash", "UInt64"],
      ["is_vulnerable", "UInt8"],
      TS64,
    ],
  },
  // SNT §2.9 (no ts)
  PackagesVulnerabilityStatus: {
    engine: "ReplacingMergeTree",
    doc: "SNT §2.9",
    columns: [
      ["pkg_hash", "UInt64"],
      ["pkg_name", "String"],
      ["pkgset_name", LC],
      ["vuln_id", "String"],
      ["vuln_hash", "UInt64"],
      ["is_vulnerable", "UInt8"],
      ["is_fixed", "UInt8"],
    ],
  },
  // SNT §2.10 (physical order from positional decoding; eh_json DEFAULT between references and
  // pkg_hash; ts DEFAULT now64(); errata_id_noversion / _version MATERIALIZED)
  ErrataHistory: {
    engine: "ReplacingMergeTree",
    doc: "SNT §2.10",
    columns: [
      ["errata_id", "String"],
      ["eh_created", "DateTime"],
      ["eh_updated", "DateTime"],
      ["eh_hash", "UInt64"],
      ["eh_type", LC], // guess: LC(String)/Enum
      ["eh_source", LC], // guess: LC(String)/Enum
      ["eh_references.type", "Array(String)"],
      ["eh_references.link", "Array(String)"],
      ["eh_json", "String", "DEFAULT"],
      ["pkg_hash", "UInt64"],
      ["pkg_name", "String"],
      ["pkg_version", "String"],
      ["pkg_release", "String"],
      ["pkgset_name", LC],
      ["task_id", "UInt32"],
      ["subtask_id", "UInt32"],
      ["task_state", LC],
      TS64_DEFAULT,
      ["errata_id_noversion", "String", "MATERIALIZED"],
      ["errata_id_version", "UInt32", "MATERIALIZED"],
    ],
  },
  // SNT §2.11 (insert (* EXCEPT ts) → ts DEFAULT; ec_id_noversion MATERIALIZED)
  ErrataChangeHistory: {
    engine: "MergeTree",
    doc: "SNT §2.11",
    columns: [
      ["ec_id", "String"],
      ["ec_created", "DateTime"],
      ["ec_updated", "DateTime"],
      ["ec_user", "String"],
      ["ec_user_ip", "String"],
      ["ec_reason", "String"],
      ["ec_type", CHANGE_TYPE],
      ["ec_source", CHANGE_SOURCE],
      ["ec_origin", CHANGE_ORIGIN],
      ["errata_id", "String"],
      ["transaction_id", "UUID"],
      TS64_DEFAULT,
      ["ec_id_noversion", "String", "MATERIALIZED"],
    ],
  },
  // ------------------------------------------------------------ 0104 (named by upstream, columns ours)
  CpeDictionary: {
    engine: "ReplacingMergeTree",
    doc: "sql/0104, NVD CPE products API 2.0",
    columns: [
      ["cpe_name_id", "String"],
      ["cpe_name", "String"],
      ["cpe_hash", "UInt64"],
      ["cpe_version_hash", "UInt64"],
      ["cpe_title", "String"],
      ["cpe_deprecated", "UInt8"],
      ["cpe_created", "DateTime"],
      ["cpe_modified", "DateTime"],
      ["cpe_json", "String"],
      TS64,
    ],
  },
  ErrataID: {
    engine: "ReplacingMergeTree",
    doc: "sql/0104, SNT §2.13",
    columns: [
      ["errata_id", "String"],
      ["eid_prefix", LC],
      ["eid_year", "UInt16"],
      ["eid_number", "UInt32"],
      ["eid_version", "UInt32"],
      ["eid_created", "DateTime"],
      ["eid_updated", "DateTime"],
      TS64,
    ],
  },
  // ------------------------------------------------------------ 0105 (named by upstream, columns ours)
  RepologyLatestVersions: {
    engine: "ReplacingMergeTree",
    doc: "sql/0105, Repology's newest version per project",
    columns: [
      ["rlv_project", "String"],
      ["rlv_version", "String"],
      ["rlv_repos", "Array(String)"],
      TS64,
    ],
  },
  // ------------------------------------------------------------ 0108 (ours: what rpm-md export needs)
  PackageHeaderInfo: {
    engine: "ReplacingMergeTree",
    doc: "sql/0108, header facts the reference tables lose",
    columns: [
      ["pkg_hash", "UInt64"],
      ["phi_header_start", "UInt64"],
      ["phi_header_end", "UInt64"],
      ["phi_epoch_set", "UInt8"],
      ["phi_file_mtime", "UInt32"],
      ["phi_deps.kind", "Array(Enum8('require' = 1, 'conflict' = 2, 'obsolete' = 3, 'provide' = 4, 'recommend' = 5, 'suggest' = 6, 'supplement' = 7, 'enhance' = 8))"],
      ["phi_deps.name", "Array(String)"],
      ["phi_deps.flag", "Array(UInt32)"],
      ["phi_deps.version", "Array(String)"],
      ["phi_changelog_name", "Array(String)"],
      ["phi_packager", "String"],
    ],
  },
  // ------------------------------------------------------------ 0109 (ours: what apt-rpm export needs)
  PackageHeaderBlob: {
    engine: "ReplacingMergeTree",
    doc: "sql/0109, the main header bytes",
    columns: [
      ["pkg_hash", "UInt64"],
      ["phb_header", "String"],
    ],
  },
  // SNT §2.12
  AntivirusScanStatus: {
    engine: "MergeTree",
    doc: "SNT §2.12",
    columns: [
      ["av_scanner", LC],
      ["av_type", LC],
      ["av_issue", "String"],
      ["av_message", "String"],
      ["av_target", "String"],
      ["file_name", "String"],
      ["pkgset_name", LC],
      ["pkg_name", "String"],
      ["pkg_version", "String"],
      ["pkg_release", "String"],
      ["pkg_arch", LC],
      ["av_date", "DateTime"],
    ],
  },

  // ------------------------------------------------------------ 0004 (API-owned, SNT §2.14)
  VulnerabilityStatus: {
    engine: "MergeTree",
    doc: "SNT §2.14 (positional tuple(*): vs_updated DEFAULT now(), ts MATERIALIZED)",
    columns: [
      ["vuln_id", "String"],
      ["vs_author", "String"],
      ["vs_status", LC],
      ["vs_resolution", LC],
      ["vs_reason", "String"],
      ["vs_subscribers", "Array(String)"],
      ["vs_json", "String"],
      ["vs_updated", "DateTime", "DEFAULT"],
      TS64,
    ],
  },
  Comments: {
    engine: "MergeTree",
    doc: "SNT §2.14 (comment_references written as Nested type/link)",
    columns: [
      ["comment_id", "UInt64"],
      ["comment_pid", "UInt64"],
      ["comment_rid", "UInt64"],
      ["comment_entity_type", LC],
      ["comment_entity_link", "String"],
      ["comment_author", "String"],
      ["comment_text", "String"],
      ["comment_references.type", "Array(String)"],
      ["comment_references.link", "Array(String)"],
      ["comment_created", "DateTime"],
    ],
  },
  CommentsChangeHistory: {
    engine: "MergeTree",
    doc: "SNT §2.14",
    columns: [
      ["cc_user", "String"],
      ["cc_user_ip", "String"],
      ["cc_reason", "String"],
      ["cc_action", CHANGE_TYPE],
      ["comment_id", "UInt64"],
      TS64_DEFAULT,
    ],
  },
  DefaultReasons: {
    engine: "MergeTree",
    doc: "SNT §2.14",
    columns: [
      ["dr_text", "String"],
      ["dr_source", LC],
      ["dr_action", LC],
      ["dr_is_active", "UInt8"],
      ["dr_is_deleted", "UInt8"],
      TS64_DEFAULT,
    ],
  },
  PncChangeHistory: {
    engine: "MergeTree",
    doc: "SNT §2.11 (PncChangeHistory paragraph)",
    columns: [
      ["transaction_id", "UUID"],
      ["pncc_user", "String"],
      ["pncc_user_ip", "String"],
      ["pncc_reason", "String"],
      ["pncc_type", CHANGE_TYPE],
      ["pncc_source", CHANGE_SOURCE],
      ["pncc_origin", CHANGE_ORIGIN],
      ["pkg_name", "String"],
      ["pnc_state", LC],
      ["pnc_result", "String"],
      ["pnc_type", LC],
      ["pnc_source", LC],
      TS64_DEFAULT,
    ],
  },
  ErrataUsers: {
    engine: "MergeTree",
    doc: "SNT §2.14 (ts MATERIALIZED)",
    columns: [["user", "String"], ["display_name", "String"], ["group", LC], ["roles", "Array(String)"], TS64],
  },
  ErrataUsersAliases: {
    engine: "MergeTree",
    doc: "SNT §2.14",
    columns: [["user", "String"], ["aliases", "Array(String)"], TS64],
  },
  ErrataUsersSubscriptions: {
    engine: "MergeTree",
    doc: "SNT §2.14",
    columns: [
      ["user", "String"],
      ["entity_type", LC],
      ["entity_link", "String"],
      ["state", LC],
      ["assigner", "String"],
      ["date", "DateTime"],
    ],
  },
};

/** Server-side hash expressions that must stay exactly as described (RTL §1.7 step 2, §3.6). */
export const MATERIALIZED_EXPRESSIONS: Record<string, string> = {
  "FileNames.fn_hash": "murmurHash3_64(fn_name)",
  "FileNames_buffer.fn_hash": "murmurHash3_64(fn_name)",
  "TaskChroots.tch_hash": "murmurHash3_64(tch_chroot)",
  "TaskChroots_buffer.tch_hash": "murmurHash3_64(tch_chroot)",
};

/** Plain views (doc where they are described or read). */
export const VIEWS: Record<string, string> = {
  PackageHash_view: "SNT §2.15, #05",
  Files_view: "SNT §2.15, #23",
  PackageChangelog_view: "SNT §2.15",
  PackagesWithLastChangelog_view: "REF",
  task_plan_hashes: "RTL §3.3.2 step 4; SNT §2.15",
  last_pkgnames_without_pname: "REF",
  last_pkgnames: "REF",
  last_pkgset: "REF",
  static_last_packages: "SNT §2.15",
  last_packages: "SNT §2.15",
  lv_pkgset_stat: "SNT §2.15 (LIVE VIEW in 2022)",
  last_depends: "SNT §2.15, #06",
  all_packages_with_source: "SNT §2.15",
  all_pkgnames_without_pname: "REF",
  all_pkgnames: "REF",
  all_pkgset: "REF",
  all_packages: "REF",
  last_packages_with_source: "SNT §2.15",
  last_acl: "FID §2.1; SNT §2.15",
  last_acl_with_groups: "SNT §2.15, §3.3",
  last_cve: "REF",
  last_discarded_erratas: "SNT §2.15",
  lv_branch_deleted_packages: "SNT §2.15",
  lv_all_image_packages: "SNT §2.15",
  lv_image_packageset: "SNT §2.15",
  lv_repository_statistics: "SNT §2.15",
};

/** Column names of the views the API reads by name (SNT §2.15). */
export const VIEW_COLUMNS: Record<string, readonly string[]> = {
  PackageHash_view: ["pkgh_mmh", "pkgh_md5", "pkgh_sha1", "pkgh_sha256", "pkgh_blake2b"],
  static_last_packages: StaticLastPackages.map((c) => c[0]),
  task_plan_hashes: ["task_id", "tplan_hash", "tplan_arch"],
  lv_pkgset_stat: ["pkgset_name", "pkgset_date", "pkg_arch", "cnt"],
  last_acl: ["acl_branch", "acl_date_last", "acl_for", "acl_list"],
  last_acl_with_groups: ["acl_branch", "acl_date", "pkgname", "acl_user", "order_u", "order_g"],
  lv_repository_statistics: ["branch", "branch_date", "stats"],
  lv_all_image_packages: [
    "pkg_hash",
    "pkg_name",
    "pkg_version",
    "pkg_release",
    "pkg_arch",
    "img_branch",
    "img_edition",
    "img_tag",
    "img_file",
    "pkgset_date",
    "pkgset_uuid",
  ],
  lv_image_packageset: ["img_branch"],
  lv_branch_deleted_packages: ["pkgset_name", "pkg_name", "hash", "task", "changed"],
  last_discarded_erratas: ["errata_id"],
  PackageChangelog_view: ["pkg_hash", "changelog"],
};

/** Materialized views: source table → target table. */
export const MATERIALIZED_VIEWS: Record<string, { from: string; to: string; doc: string }> = {
  mv_files: { from: "Files_insert", to: "Files", doc: "RTL §1.7 step 2 (target changed: base table)" },
  mv_filenames_filename: { from: "Files_insert", to: "FileNames", doc: "RTL §1.7 step 2 (target changed)" },
  mv_filenames_filedir: { from: "Files_insert", to: "FileNames", doc: "RTL §1.7 step 2 (target changed)" },
  mv_specfiles: { from: "Specfiles_insert", to: "Specfiles", doc: "RTL §1.7.2 (target changed)" },
  mv_src_packages_last_changelog: { from: "Packages", to: "SrcPackagesLastChangelog", doc: "RTL §1.7.1, §8.5" },
  mv_packages_source_and_binaries: { from: "Packages", to: "PackagesSourceAndBinaries", doc: "RTL §1.7.1" },
  mv_last_packages_stage1: { from: "PackageSetName", to: "last_packages_stage1", doc: "RTL §2.11" },
  mv_last_packages_stage2: { from: "last_packages_stage1", to: "StaticLastPackages", doc: "RTL §2.11" },
  mv_package_history: { from: "TaskStates", to: "BranchPackageHistory", doc: "SNT §1.1, §3.3" },
  mv_last_acl: { from: "Acl", to: "last_acl_stage1", doc: "SNT §1.1" },
  mv_image_pkgset: { from: "PackageSetName", to: "ImagePackageSetName", doc: "FID §1.6.3" },
};

/** Buffer tables and their parameters after the destination (RTL §4.2). */
export const BUFFERS: Record<string, { dest: string; params: string }> = {
  PackageSet_buffer: { dest: "PackageSet", params: "16, 10, 100, 10000, 1000000, 1000000, 10000000" },
  PackageHash_buffer: { dest: "PackageHash", params: "16, 10, 100, 10000, 1000000, 1000000, 10000000" },
  Tasks_buffer: { dest: "Tasks", params: "16, 10, 100, 1000, 100000, 100000, 1000000" },
  TaskStates_buffer: { dest: "TaskStates", params: "16, 10, 100, 1000, 100000, 100000, 1000000" },
  TaskIterations_buffer: { dest: "TaskIterations", params: "16, 10, 100, 1000, 100000, 1000000, 10000000" },
  TaskChroots_buffer: { dest: "TaskChroots", params: "16, 10, 100, 1000, 100000, 1000000, 10000000" },
  TaskLogs_buffer: { dest: "TaskLogs", params: "16, 10, 100, 1000, 100000, 1000000, 10000000" },
  Files_buffer: { dest: "Files", params: "16, 10, 100, 1000, 100000, 1000000, 10000000" },
  FileNames_buffer: { dest: "FileNames", params: "16, 10, 100, 1000, 100000, 1000000, 10000000" },
  Packages_buffer: { dest: "Packages", params: "16, 10, 200, 10000, 1000000, 10000000, 100000000" },
  Changelog_buffer: { dest: "Changelog", params: "16, 10, 100, 1000, 1000000, 1000000, 10000000" },
  Depends_buffer: { dest: "Depends", params: "16, 10, 200, 10000, 1000000, 1000000, 10000000" },
  Specfiles_buffer: { dest: "Specfiles", params: "16, 10, 100, 1000, 100000, 100000, 1000000" },
};

/** Server-wide SQL functions the API calls (SNT §2.15). */
export const FUNCTIONS = [
  "extractErrataIdNoVersion",
  "extractErrataIdVersion",
  "get_errata_user_aliases",
  "get_errata_user_original_name",
] as const;
