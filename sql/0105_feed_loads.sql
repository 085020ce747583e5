-- altrepodb's own bookkeeping for `feed load` (issue 12): one row per attempt of a feed, with the
-- validators and content hash that make an unchanged source cost one request and write nothing,
-- and the row count the sanity gates compare the next load with. `feed status` reads it.
CREATE TABLE IF NOT EXISTS altrepodb_feed_loads
(
    feed          LowCardinality(String),
    source        String,
    started       DateTime64(3, 'UTC'),
    finished      DateTime64(3, 'UTC'),
    result        LowCardinality(String),
    etag          String,
    last_modified String,
    content_hash  UInt64,
    rows          UInt64,
    written       UInt64,
    rejected      UInt64,
    message       String
)
ENGINE = MergeTree
ORDER BY (feed, started);

-- Repology's newest known version of every project ALT has (upstream's README names the table,
-- no DDL is public; columns are ours): latest per project = argMax(rlv_version, ts).
CREATE TABLE IF NOT EXISTS RepologyLatestVersions
(
    rlv_project   String,
    rlv_version   String,
    rlv_repos     Array(String),
    ts            DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (rlv_project, rlv_version)
SETTINGS non_replicated_deduplication_window = 1000;
