-- altrepodb's own bookkeeping for task logs (not part of the reference schema): per log, the lines
-- already stored and a fingerprint, so reloading a task writes only new or changed log lines
-- (src/loaders/task/save/journal.ts).
CREATE TABLE IF NOT EXISTS altrepodb_task_logs
(
    task_id     UInt32,
    tlog_hash   UInt64,
    state       Enum8('started' = 1, 'done' = 2),
    lines       UInt32,
    fingerprint UInt64,
    at          DateTime64(6) DEFAULT now64(6)
)
ENGINE = MergeTree
ORDER BY (tlog_hash, at);
