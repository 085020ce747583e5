-- altrepodb's own bookkeeping (not part of the reference schema): leases that let one load per key
-- (a repository branch and date, a task) run at a time across processes and hosts, also with the
-- http driver, which has no data-directory lock (src/loaders/lock.ts explains the protocol).
-- Append-only: every claim, refresh and release is a row; a lease is the latest row of its owner.
CREATE TABLE IF NOT EXISTS altrepodb_load_locks
(
    key      String,
    owner    String,
    host     String,
    pid      UInt32,
    expires  DateTime64(3),
    released UInt8 DEFAULT 0,
    at       DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (key, owner, at)
TTL toDateTime(at) + INTERVAL 30 DAY;
