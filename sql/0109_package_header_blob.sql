-- 0109_package_header_blob: the main header of each package, byte for byte as in the .rpm file
-- (magic included), one row per pkg_hash, written by the package path (src/packages) with the
-- other package tables (before PackageHash; cleaned by journal recovery like them).
-- Why: an apt-rpm pkglist/srclist entry (altrepodb export apt-rpm) is the package's header with
-- genpkglist's selected tags, exact values, exact types and exact order (CHANGELOG bytes that are
-- not UTF-8, I18N strings, BASENAMES/DIRNAMES in header order, INT16/INT32 widths ...). The
-- columns of Packages/Depends/Files/Changelog lose several of these (types, duplicates, order,
-- raw bytes), so re-creating every kept tag from them is not exact; the header itself is.
-- ZSTD-compressed: headers are mostly strings and compress ~4-6x.
-- Packages loaded before this migration have no row here; export apt-rpm names them.
CREATE TABLE IF NOT EXISTS PackageHeaderBlob
(
    pkg_hash   UInt64,
    phb_header String CODEC(ZSTD(3))
)
ENGINE = ReplacingMergeTree
ORDER BY pkg_hash
SETTINGS non_replicated_deduplication_window = 1000;
