-- 0003_newer_tables: schema changes after 2022 that the current ALTRepo API expects
-- (reconstructed from how the API reads them; see schema-newer-tables.md and sql/README.md for
-- the choices made where the upstream DDL is unknown).
-- Conventions: sql/README.md.

-- ===================================================================== Packages: new columns

-- RPM tags VCS, PRETRANS and POSTTRANS (read by the API since 2024-05). Appended at the end; the
-- Buffer table must follow, or its flushes would drop the new columns.
ALTER TABLE Packages
    ADD COLUMN IF NOT EXISTS pkg_vcs String,
    ADD COLUMN IF NOT EXISTS pkg_pretrans String,
    ADD COLUMN IF NOT EXISTS pkg_posttrans String;

ALTER TABLE Packages_buffer
    ADD COLUMN IF NOT EXISTS pkg_vcs String,
    ADD COLUMN IF NOT EXISTS pkg_pretrans String,
    ADD COLUMN IF NOT EXISTS pkg_posttrans String;

-- A view fixes its column list when it is created, so the views that expand * over Packages
-- are created again (same definitions as in 0001/0002) to show the new columns.
CREATE OR REPLACE VIEW PackagesWithLastChangelog_view AS
SELECT DISTINCT
    P.* EXCEPT (pkg_changelog_hash),
    C.chlog_text AS pkg_changelog_message
FROM
(
    SELECT
        * EXCEPT ('^pkg_changelog[.]'),
        toDate(pkg_changelog.date[1]) AS pkg_changelog_date,
        pkg_changelog.name[1] AS pkg_changelog_name,
        pkg_changelog.evr[1] AS pkg_changelog_evr,
        pkg_changelog.hash[1] AS pkg_changelog_hash
    FROM Packages_buffer
) AS P
LEFT JOIN (SELECT chlog_hash, chlog_text FROM Changelog_buffer) AS C ON C.chlog_hash = P.pkg_changelog_hash;

CREATE OR REPLACE VIEW last_packages AS
SELECT
    P.* EXCEPT (pkg_cs),
    lower(hex(P.pkg_cs)) AS pkg_cs,
    S.pkgset_name AS pkgset_name,
    S.pkgset_date AS pkgset_date
FROM Packages_buffer AS P
INNER JOIN (SELECT pkg_hash, pkgset_name, pkgset_date FROM static_last_packages) AS S
    ON S.pkg_hash = P.pkg_hash;

CREATE OR REPLACE VIEW all_packages_with_source AS
SELECT
    B.*,
    S.sourcepkgname AS sourcepkgname
FROM Packages_buffer AS B
LEFT JOIN
(
    SELECT pkg_hash AS src_hash, pkg_name AS sourcepkgname
    FROM Packages_buffer
    WHERE pkg_sourcepackage = 1
) AS S ON S.src_hash = B.pkg_srcrpm_hash
WHERE B.pkg_sourcepackage = 0
    AND B.pkg_srcrpm_hash != 0;

CREATE OR REPLACE VIEW all_packages AS
SELECT
    A.*,
    P.* EXCEPT (pkg_hash)
FROM all_pkgset AS A
INNER JOIN
(
    SELECT * EXCEPT (pkg_cs), lower(hex(pkg_cs)) AS pkg_cs
    FROM Packages_buffer
) AS P ON P.pkg_hash = A.pkg_hash;

CREATE OR REPLACE VIEW last_packages_with_source AS
SELECT
    W.*,
    L.pkgset_name AS pkgset_name,
    L.pkgset_date AS pkgset_date
FROM (SELECT pkg_hash AS set_pkg_hash, pkgset_name, pkgset_date FROM last_pkgset) AS L
INNER JOIN (SELECT * FROM all_packages_with_source) AS W ON W.pkg_hash = L.set_pkg_hash;

CREATE OR REPLACE VIEW last_cve AS
SELECT
    C.*,
    LP.* EXCEPT (pkg_hash)
FROM Cve AS C
LEFT JOIN last_packages AS LP ON LP.pkg_hash = C.pkg_hash;

-- ===================================================================== task progress (girar AMQP)

-- Append-only log of task events (ALTRepoDB >= 2.6.0 layout; replaces the 2022 tp_* layout,
-- which nothing ever wrote). type = 'state' for state changes; latest = argMax(…, ts).
CREATE TABLE IF NOT EXISTS TaskProgress
(
    task_id       UInt32,
    task_repo     LowCardinality(String),
    task_owner    LowCardinality(String),
    task_state    LowCardinality(String),
    task_try      UInt16,
    task_iter     UInt8,
    task_testonly UInt8,
    task_changed  DateTime,
    task_message  String,
    task_depends  Array(UInt32),
    stage         LowCardinality(String),
    stage_status  LowCardinality(String),
    type          LowCardinality(String),
    ts            DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
ORDER BY (task_id, ts);

-- Append-only log of subtask events; type = 'progress' rows carry per-arch build progress.
CREATE TABLE IF NOT EXISTS TaskSubtaskProgress
(
    task_id            UInt32,
    subtask_id         UInt32,
    task_repo          LowCardinality(String),
    task_owner         LowCardinality(String),
    subtask_type       LowCardinality(String),
    subtask_srpm       String,
    subtask_srpm_name  String,
    subtask_srpm_evr   String,
    subtask_dir        String,
    subtask_tag_id     String,
    subtask_tag_name   String,
    subtask_tag_author String,
    subtask_package    String,
    subtask_pkg_from   String,
    subtask_changed    DateTime,
    type               LowCardinality(String),
    arch               LowCardinality(String),
    stage              LowCardinality(String),
    stage_status       LowCardinality(String),
    status             LowCardinality(String),
    ts                 DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
ORDER BY (task_id, subtask_id, ts);

-- Search index: for type 'task', lead = task id and search_string =
-- '<repo>|<owner>|<?>|<state>|<comma-separated components>'; latest row per lead wins.
CREATE TABLE IF NOT EXISTS GlobalSearch
(
    lead          String,
    type          LowCardinality(String),
    search_string String,
    ts            DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
ORDER BY (type, lead, ts);

-- File search index: search_string = '<branch>|<file name>|<?>|binary|source…', lead = pkg_hash
-- of the package that owns the path; latest row per search_string wins.
CREATE TABLE IF NOT EXISTS FileSearch
(
    search_string String,
    lead          UInt64,
    ts            DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (search_string, lead);

-- ===================================================================== vulnerabilities

-- One row per version of a vulnerability record (CVE, BDU, GHSA, …); the current version of an
-- id is argMax(vuln_hash, ts). vuln_json keeps the source record in the source's own schema.
CREATE TABLE IF NOT EXISTS Vulnerabilities
(
    vuln_id             String,
    vuln_hash           UInt64,
    vuln_type           LowCardinality(String),
    vuln_summary        String,
    vuln_score          Float32,
    vuln_severity       LowCardinality(String),
    vuln_url            String,
    vuln_modified_date  DateTime,
    vuln_published_date DateTime,
    vuln_json           String,
    vuln_references     Nested(type String, link String),
    vuln_rejected       UInt8,
    ts                  DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (vuln_id, vuln_hash);

-- CVE -> CPE applicability ranges, per vulnerability version (vuln_hash).
CREATE TABLE IF NOT EXISTS CpeMatch
(
    vuln_id                    String,
    vuln_hash                  UInt64,
    cpe_hash                   UInt64,
    cpm_cpe                    String,
    cpm_version_start          String,
    cpm_version_end            String,
    cpm_version_start_excluded UInt8,
    cpm_version_end_excluded   UInt8,
    cpm_version_hash           UInt64,
    ts                         DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (vuln_id, vuln_hash, cpe_hash, cpm_version_hash);

-- Package name conversions: repology project names (pnc_type = repology repo id) and CPE
-- assignments (pnc_type = 'cpe'); latest state = argMax(pnc_state, ts).
-- Inserted positionally (VALUES with the first five columns), so ts stays MATERIALIZED.
CREATE TABLE IF NOT EXISTS PackagesNameConversion
(
    pkg_name   String,
    pnc_state  LowCardinality(String),
    pnc_result String,
    pnc_type   LowCardinality(String),
    pnc_source LowCardinality(String),
    ts         DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
ORDER BY (pkg_name, pnc_type, pnc_result, ts);

-- Package <-> CVE matches found through CPEs; key_hash identifies a match.
CREATE TABLE IF NOT EXISTS PackagesCveMatch
(
    key_hash         UInt64,
    pkg_hash         UInt64,
    pkg_name         String,
    pkg_cpe          String,
    pkg_cpe_hash     UInt64,
    vuln_id          String,
    vuln_hash        UInt64,
    cpm_cpe          String,
    cpm_cpe_hash     UInt64,
    cpm_version_hash UInt64,
    is_vulnerable    UInt8,
    ts               DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (vuln_id, pkg_name, key_hash);

-- Per branch source package: vulnerable / fixed flags per vulnerability. "Open" =
-- some row is_vulnerable and no row is_fixed.
CREATE TABLE IF NOT EXISTS PackagesVulnerabilityStatus
(
    pkg_hash      UInt64,
    pkg_name      String,
    pkgset_name   LowCardinality(String),
    vuln_id       String,
    vuln_hash     UInt64,
    is_vulnerable UInt8,
    is_fixed      UInt8
)
ENGINE = ReplacingMergeTree
ORDER BY (pkgset_name, pkg_name, vuln_id, pkg_hash, vuln_hash, is_vulnerable, is_fixed);

-- ===================================================================== errata

-- Errata id 'ALT-PU-2023-1234-2' = '<id without version>-<version>'. The same two expressions
-- are available as the functions extractErrataIdNoVersion / extractErrataIdVersion (below).
CREATE TABLE IF NOT EXISTS ErrataHistory
(
    errata_id           String,
    eh_created          DateTime,
    eh_updated          DateTime,
    eh_hash             UInt64,
    eh_type             LowCardinality(String),
    eh_source           LowCardinality(String),
    eh_references       Nested(type String, link String),
    eh_json             String DEFAULT '',
    pkg_hash            UInt64,
    pkg_name            String,
    pkg_version         String,
    pkg_release         String,
    pkgset_name         LowCardinality(String),
    task_id             UInt32,
    subtask_id          UInt32,
    task_state          LowCardinality(String),
    ts                  DateTime64(3) DEFAULT now64(),
    errata_id_noversion String MATERIALIZED arrayStringConcat(arrayPopBack(splitByChar('-', errata_id)), '-'),
    errata_id_version   UInt32 MATERIALIZED toUInt32OrZero(arrayElement(splitByChar('-', errata_id), -1))
)
ENGINE = ReplacingMergeTree(ts)
ORDER BY (errata_id_noversion, errata_id_version, errata_id);

-- Change records of errata (create / update / discard / hide / show).
CREATE TABLE IF NOT EXISTS ErrataChangeHistory
(
    ec_id           String,
    ec_created      DateTime,
    ec_updated      DateTime,
    ec_user         String,
    ec_user_ip      String,
    ec_reason       String,
    ec_type         Enum8('create' = 0, 'update' = 1, 'discard' = 2, 'hide' = 3, 'show' = 4),
    ec_source       Enum8('auto' = 0, 'manual' = 1),
    ec_origin       Enum8('parent' = 0, 'child' = 1),
    errata_id       String,
    transaction_id  UUID,
    ts              DateTime64(3) DEFAULT now64(),
    ec_id_noversion String MATERIALIZED arrayStringConcat(arrayPopBack(splitByChar('-', ec_id)), '-')
)
ENGINE = MergeTree
ORDER BY (ec_id_noversion, ec_id, errata_id, ts);

CREATE OR REPLACE FUNCTION extractErrataIdNoVersion AS (errata_id) ->
    arrayStringConcat(arrayPopBack(splitByChar('-', errata_id)), '-');

CREATE OR REPLACE FUNCTION extractErrataIdVersion AS (errata_id) ->
    toUInt32OrZero(arrayElement(splitByChar('-', errata_id), -1));

-- Errata versions that were discarded (the API hides them).
CREATE OR REPLACE VIEW last_discarded_erratas AS
SELECT DISTINCT errata_id
FROM ErrataChangeHistory
WHERE ec_type = 'discard';

-- ===================================================================== antivirus scans

-- Findings of antivirus scans of branch packages; the latest scan per (av_scanner, pkgset_name)
-- is the one with max(av_date). pkg_arch = 'src' for source packages.
CREATE TABLE IF NOT EXISTS AntivirusScanStatus
(
    av_scanner  LowCardinality(String),
    av_type     LowCardinality(String),
    av_issue    String,
    av_message  String,
    av_target   String,
    file_name   String,
    pkgset_name LowCardinality(String),
    pkg_name    String,
    pkg_version String,
    pkg_release String,
    pkg_arch    LowCardinality(String),
    av_date     DateTime
)
ENGINE = MergeTree
ORDER BY (pkgset_name, av_scanner, av_date, pkg_name, pkg_arch);

-- ===================================================================== lv_* views
-- The lv_ prefix comes from LIVE VIEWs; all of them are plain views here (see sql/README.md).

-- Source packages whose latest task action in a branch was a deletion and that are not in the
-- newest snapshot of that branch: hash = the deleted package, task/changed = the deleting task.
CREATE OR REPLACE VIEW lv_branch_deleted_packages AS
SELECT pkgset_name, pkg_name, hash, task, changed
FROM
(
    SELECT
        pkgset_name,
        pkg_name,
        argMax(only_deleted, task_time) AS deleted,
        argMax(deleted_hash, task_time) AS hash,
        argMax(task_id, task_time) AS task,
        max(task_time) AS changed
    FROM
    (
        SELECT
            toString(pkgset_name) AS pkgset_name,
            pkg_name,
            task_id,
            max(task_changed) AS task_time,
            countIf(tplan_action = 'add') = 0 AS only_deleted,
            anyIf(pkg_hash, tplan_action = 'delete') AS deleted_hash
        FROM BranchPackageHistory
        WHERE pkg_sourcepackage = 1
        GROUP BY pkgset_name, pkg_name, task_id
    )
    GROUP BY pkgset_name, pkg_name
)
WHERE deleted
    AND (pkgset_name, pkg_name) NOT IN
    (
        SELECT pkgset_name, pkg_name FROM static_last_packages WHERE pkg_sourcepackage = 1
    );

-- Every package of every loaded image, with the image root (pkgset_uuid) and its attributes.
CREATE OR REPLACE VIEW lv_all_image_packages AS
SELECT DISTINCT
    P.pkg_hash AS pkg_hash,
    P.pkg_name AS pkg_name,
    P.pkg_version AS pkg_version,
    P.pkg_release AS pkg_release,
    P.pkg_arch AS pkg_arch,
    I.img_branch AS img_branch,
    I.img_edition AS img_edition,
    I.img_tag AS img_tag,
    I.img_file AS img_file,
    I.pkgset_date AS pkgset_date,
    I.pkgset_uuid AS pkgset_uuid
FROM
(
    SELECT pkgset_uuid, pkgset_date, img_tag, toString(img_branch) AS img_branch,
           toString(img_edition) AS img_edition, img_kv['file'] AS img_file
    FROM ImagePackageSetName
) AS I
INNER JOIN
(
    SELECT pkgset_uuid AS node_uuid, pkgset_ruuid AS root_uuid
    FROM PackageSetName
    WHERE pkgset_ruuid IN (SELECT pkgset_uuid FROM ImagePackageSetName)
) AS N ON N.root_uuid = I.pkgset_uuid
INNER JOIN
(
    SELECT DISTINCT pkgset_uuid AS set_uuid, pkg_hash AS set_pkg_hash
    FROM PackageSet_buffer
    WHERE pkgset_uuid IN
    (
        SELECT pkgset_uuid FROM PackageSetName
        WHERE pkgset_ruuid IN (SELECT pkgset_uuid FROM ImagePackageSetName)
    )
) AS S ON S.set_uuid = N.node_uuid
INNER JOIN
(
    SELECT pkg_hash, any(pkg_name) AS pkg_name, any(pkg_version) AS pkg_version,
           any(pkg_release) AS pkg_release, any(toString(pkg_arch)) AS pkg_arch
    FROM Packages_buffer
    WHERE pkg_hash IN
    (
        SELECT pkg_hash FROM PackageSet_buffer
        WHERE pkgset_uuid IN
        (
            SELECT pkgset_uuid FROM PackageSetName
            WHERE pkgset_ruuid IN (SELECT pkgset_uuid FROM ImagePackageSetName)
        )
    )
    GROUP BY pkg_hash
) AS P ON P.pkg_hash = S.set_pkg_hash;

-- Branches that have images.
CREATE OR REPLACE VIEW lv_image_packageset AS
SELECT DISTINCT toString(img_branch) AS img_branch
FROM ImagePackageSetName;

-- Newest snapshot of every branch: per component (arch, component, package count, total .rpm
-- size, node uuid); the source node is ('srpm', 'srpm', …).
CREATE OR REPLACE VIEW lv_repository_statistics AS
SELECT
    R.branch AS branch,
    R.branch_date AS branch_date,
    arraySort(x -> (x.1, x.2), groupArray((N.arch, N.component, S.cnt, S.size, toString(N.node_uuid)))) AS stats
FROM
(
    SELECT
        pkgset_nodename AS branch,
        max(pkgset_date) AS branch_date,
        argMax(pkgset_ruuid, pkgset_date) AS root_uuid
    FROM PackageSetName
    WHERE pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository'
    GROUP BY pkgset_nodename
) AS R
INNER JOIN
(
    SELECT
        C.pkgset_uuid AS node_uuid,
        C.pkgset_ruuid AS node_root,
        if(C.pkgset_depth = 1, 'srpm', A.arch_name) AS arch,
        C.pkgset_nodename AS component
    FROM PackageSetName AS C
    LEFT JOIN (SELECT pkgset_uuid AS arch_uuid, pkgset_nodename AS arch_name FROM PackageSetName) AS A
        ON A.arch_uuid = C.pkgset_puuid
    WHERE ((C.pkgset_depth = 1 AND C.pkgset_nodename = 'srpm') OR C.pkgset_depth = 2)
        AND C.pkgset_ruuid IN
        (
            SELECT argMax(pkgset_ruuid, pkgset_date) FROM PackageSetName
            WHERE pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository'
            GROUP BY pkgset_nodename
        )
) AS N ON N.node_root = R.root_uuid
INNER JOIN
(
    SELECT M.set_uuid AS set_uuid, count() AS cnt, sum(F.pkg_filesize) AS size
    FROM
    (
        SELECT DISTINCT pkgset_uuid AS set_uuid, pkg_hash AS set_pkg_hash
        FROM PackageSet_buffer
        WHERE pkgset_uuid IN
        (
            SELECT pkgset_uuid FROM PackageSetName
            WHERE pkgset_ruuid IN
            (
                SELECT argMax(pkgset_ruuid, pkgset_date) FROM PackageSetName
                WHERE pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository'
                GROUP BY pkgset_nodename
            )
        )
    ) AS M
    LEFT JOIN
    (
        SELECT pkg_hash, any(pkg_filesize) AS pkg_filesize
        FROM Packages_buffer
        WHERE pkg_hash IN
        (
            SELECT pkg_hash FROM PackageSet_buffer
            WHERE pkgset_uuid IN
            (
                SELECT pkgset_uuid FROM PackageSetName
                WHERE pkgset_ruuid IN
                (
                    SELECT argMax(pkgset_ruuid, pkgset_date) FROM PackageSetName
                    WHERE pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository'
                    GROUP BY pkgset_nodename
                )
            )
        )
        GROUP BY pkg_hash
    ) AS F ON F.pkg_hash = M.set_pkg_hash
    GROUP BY M.set_uuid
) AS S ON S.set_uuid = N.node_uuid
GROUP BY R.branch, R.branch_date;
