-- altrepodb's own bookkeeping (not part of the reference schema) for FileSearch
-- (src/loaders/filesearch.ts): which packages' files FileSearch holds for each branch, and one
-- row per refresh. FileSearch holds the files of the latest package set of every branch; a new
-- snapshot writes only the rows of packages that entered the set and deletes those of packages
-- that left it, computed against altrepodb_filesearch_packages (not against an older snapshot,
-- which may have been replaced or deleted since).
-- A package leaves the list by a row with present = 0 (no mutation); read it with FINAL.
CREATE TABLE IF NOT EXISTS altrepodb_filesearch_packages
(
    branch   String,
    pkg_hash UInt64,
    present  UInt8,
    at       DateTime64(6) DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (branch, pkg_hash);

-- One row per refresh of a branch: the package set it indexed, full or incremental, and what it
-- wrote (rows_inserted) and retracted (rows_deleted) in FileSearch.
CREATE TABLE IF NOT EXISTS altrepodb_filesearch_runs
(
    branch        String,
    ruuid         UUID,
    pkgset_date   DateTime,
    mode          LowCardinality(String),
    packages      UInt32,
    added         UInt32,
    removed       UInt32,
    rows_inserted UInt64,
    rows_deleted  UInt64,
    at            DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (branch, at)
TTL toDateTime(at) + INTERVAL 1 YEAR;
