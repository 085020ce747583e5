-- 0108_package_header_info: what a package's header holds that the reference tables lose and
-- that rpm-md export (altrepodb export rpm-md) needs, one row per pkg_hash, written by the
-- package path (src/packages) with the other package tables (before PackageHash).
--   phi_header_start / phi_header_end: byte range of the main header in the .rpm file
--     (createrepo_c's <rpm:header-range>); the payload starts at phi_header_end.
--   phi_epoch_set: 1 when the header has an EPOCH tag (an explicit "Epoch: 0" as opposed to
--     none; Packages.pkg_epoch is 0 for both).
--   phi_file_mtime: modification time of the .rpm file when it was loaded (<time file>).
--   phi_deps: every dependency in header order, duplicates kept (Depends is a
--     ReplacingMergeTree: it sorts and collapses them), weak dependencies included.
--   phi_changelog_name: CHANGELOGNAME as stored in the header, header order (Packages keeps it
--     split into name and evr, trimmed).
--   phi_packager: PACKAGER as stored (Packages keeps it split into name and email).
-- Packages loaded before this migration have no row here; export names them.
CREATE TABLE IF NOT EXISTS PackageHeaderInfo
(
    pkg_hash           UInt64,
    phi_header_start   UInt64,
    phi_header_end     UInt64,
    phi_epoch_set      UInt8,
    phi_file_mtime     UInt32,
    phi_deps           Nested(kind Enum8('require' = 1, 'conflict' = 2, 'obsolete' = 3, 'provide' = 4, 'recommend' = 5, 'suggest' = 6, 'supplement' = 7, 'enhance' = 8), name String, flag UInt32, version String),
    phi_changelog_name Array(String),
    phi_packager       String
)
ENGINE = ReplacingMergeTree
ORDER BY pkg_hash
SETTINGS non_replicated_deduplication_window = 1000;

-- The packages of one running export (`export rpm-md`), in output order: the export's queries
-- select their batch from here (`run`, `seq` range) instead of sending thousands of hashes in
-- the query text (parsing an IN list of 2,000 literals costs the engine ~150 ms per query).
-- Rows are deleted when the export ends; the TTL removes what a killed export left.
CREATE TABLE IF NOT EXISTS altrepodb_export_batches
(
    run      String,
    seq      UInt32,
    pkg_hash UInt64,
    created  DateTime DEFAULT now()
)
ENGINE = MergeTree
ORDER BY (run, seq)
TTL created + INTERVAL 1 DAY;
