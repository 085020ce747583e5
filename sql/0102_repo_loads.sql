-- altrepodb's own bookkeeping (not part of the reference schema): one row per complete repository
-- load with a fingerprint of the snapshot's lists, so that loading an unchanged snapshot under a
-- new date copies the package set server-side instead of reading every list again
-- (src/loaders/repo/unchanged.ts).
CREATE TABLE IF NOT EXISTS altrepodb_repo_loads
(
    branch      String,
    date        Date,
    ruuid       UUID,
    fingerprint String,
    at          DateTime64(3) DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (branch, fingerprint, at);
