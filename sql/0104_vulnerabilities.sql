-- Vulnerability sources (issue 13): the NVD CPE dictionary, errata ids and our own incremental
-- cursors. CpeDictionary and ErrataID are named by upstream's README (2.22) without DDL; their
-- columns are chosen from the NVD CPE products API 2.0 and the ErrataID service's records.

-- One row per version of a CPE dictionary entry (NVD products API 2.0, `products[].cpe`);
-- cpe_hash = mmhash(cpe_name) as CpeMatch.cpe_hash; the current version of an entry is
-- argMax(cpe_version_hash, ts) per cpe_name_id.
CREATE TABLE IF NOT EXISTS CpeDictionary
(
    cpe_name_id      String,
    cpe_name         String,
    cpe_hash         UInt64,
    cpe_version_hash UInt64,
    cpe_title      String,
    cpe_deprecated UInt8,
    cpe_created    DateTime,
    cpe_modified   DateTime,
    cpe_json       String,
    ts             DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (cpe_name_id, cpe_version_hash)
SETTINGS non_replicated_deduplication_window = 1000;

-- Errata ids allocated locally (`[errata] id_source = "local"`), or mirrored from the ErrataID
-- service: `ALT-PU-2024-1234-1` = prefix, year, number, version. Never reused.
CREATE TABLE IF NOT EXISTS ErrataID
(
    errata_id  String,
    eid_prefix LowCardinality(String),
    eid_year   UInt16,
    eid_number UInt32,
    eid_version UInt32,
    eid_created DateTime,
    eid_updated DateTime,
    ts         DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (eid_prefix, eid_year, eid_number, eid_version)
SETTINGS non_replicated_deduplication_window = 1000;

-- altrepodb's own bookkeeping: per vulnerability source, the modification time up to which every
-- record has been loaded (advanced only after a whole window was written).
CREATE TABLE IF NOT EXISTS altrepodb_vuln_cursors
(
    source String,
    cursor DateTime64(3, 'UTC'),
    at     DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (source, at);
