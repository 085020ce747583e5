-- altrepodb's own bookkeeping for crash-safe package loads (not part of the reference schema).
-- Each batch of packages is written between a 'started' and a 'done' row; a batch without
-- 'done' belongs to an interrupted load and is cleaned up by the next one (src/packages/journal.ts).
CREATE TABLE IF NOT EXISTS altrepodb_package_batches
(
    batch      String,
    state      Enum8('started' = 1, 'done' = 2),
    pkg_hashes Array(UInt64),
    at         DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (batch, state);
