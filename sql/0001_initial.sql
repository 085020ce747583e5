-- 0001_initial: the 2022 core schema (ALTRepo Uploader 2.3.14 layout).
-- Package sets, package hashes, packages, files, dependencies, changelogs, spec files,
-- girar tasks, and the views / materialized views built on them.
-- Conventions (statement separator, {database} placeholder, cluster rewriting): sql/README.md.

-- ===================================================================== package sets

-- One row per node of a loaded package-set tree (repository snapshot or image).
-- Root = depth 0 (nodename = branch or image edition), srpm/arch nodes = depth 1,
-- components = depth 2. pkgset_kv carries the node's key/value attributes.
CREATE TABLE IF NOT EXISTS PackageSetName
(
    pkgset_uuid     UUID,
    pkgset_puuid    UUID,
    pkgset_ruuid    UUID,
    pkgset_depth    UInt8,
    pkgset_nodename String,
    pkgset_date     DateTime,
    pkgset_tag      String,
    pkgset_complete UInt8,
    pkgset_kv       Nested(k String, v String)
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_date, pkgset_nodename)
ORDER BY (pkgset_date, pkgset_nodename, pkgset_ruuid, pkgset_depth);

-- Membership: which package (pkg_hash) belongs to which set node.
CREATE TABLE IF NOT EXISTS PackageSet
(
    pkgset_uuid UUID,
    pkg_hash    UInt64
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (pkgset_uuid)
ORDER BY (pkgset_uuid, pkg_hash);

CREATE TABLE IF NOT EXISTS PackageSet_buffer AS PackageSet
ENGINE = Buffer({database}, PackageSet, 16, 10, 100, 10000, 1000000, 1000000, 10000000);

-- ===================================================================== package file hashes

-- pkgh_mmh = pkg_hash (snowflake id); md5/sha256/blake2b of the .rpm file, sha1 = header SHA1.
CREATE TABLE IF NOT EXISTS PackageHash
(
    pkgh_mmh     UInt64,
    pkgh_md5     FixedString(16),
    pkgh_sha1    FixedString(20),
    pkgh_sha256  FixedString(32),
    pkgh_blake2b FixedString(64)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (pkgh_mmh)
ORDER BY (pkgh_mmh, pkgh_md5, pkgh_sha256);

CREATE TABLE IF NOT EXISTS PackageHash_buffer AS PackageHash
ENGINE = Buffer({database}, PackageHash, 16, 10, 100, 10000, 1000000, 1000000, 10000000);

-- The same digests as lower-case hex strings.
CREATE OR REPLACE VIEW PackageHash_view AS
SELECT
    pkgh_mmh,
    lower(hex(pkgh_md5))     AS pkgh_md5,
    lower(hex(pkgh_sha1))    AS pkgh_sha1,
    lower(hex(pkgh_sha256))  AS pkgh_sha256,
    lower(hex(pkgh_blake2b)) AS pkgh_blake2b
FROM PackageHash_buffer;

-- ===================================================================== girar tasks

-- One row per subtask (gears/<N>) per load; consumers take the latest task_changed.
CREATE TABLE IF NOT EXISTS Tasks
(
    task_id            UInt32,
    subtask_id         UInt32,
    task_repo          LowCardinality(String),
    task_owner         LowCardinality(String),
    task_changed       DateTime,
    subtask_changed    DateTime,
    subtask_deleted    UInt8,
    subtask_userid     LowCardinality(String),
    subtask_dir        String,
    subtask_package    String,
    subtask_type       Enum8('unknown' = 0, 'srpm' = 1, 'gear' = 2, 'copy' = 3, 'delete' = 4, 'rebuild' = 5),
    subtask_pkg_from   LowCardinality(String),
    subtask_sid        String,
    subtask_tag_author String,
    subtask_tag_id     String,
    subtask_tag_name   String,
    subtask_srpm       String,
    subtask_srpm_name  String,
    subtask_srpm_evr   String,
    ts                 DateTime MATERIALIZED now()
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (task_id, subtask_id)
ORDER BY (task_id, subtask_id, task_changed, subtask_changed, subtask_deleted);

CREATE TABLE IF NOT EXISTS Tasks_buffer AS Tasks
ENGINE = Buffer({database}, Tasks, 16, 10, 100, 1000, 100000, 100000, 1000000);

-- One row per observed task state (task/state and friends).
CREATE TABLE IF NOT EXISTS TaskStates
(
    task_changed       DateTime,
    task_id            UInt32,
    task_state         LowCardinality(String),
    task_runby         LowCardinality(String),
    task_depends       Array(UInt32),
    task_try           UInt16,
    task_testonly      UInt8,
    task_failearly     UInt8,
    task_shared        UInt8,
    task_message       String,
    task_version       String,
    task_prev          UInt32,
    task_eventlog_hash Array(UInt64),
    ts                 DateTime MATERIALIZED now()
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (task_changed, task_id)
ORDER BY (task_changed, task_id, task_state, task_try);

CREATE TABLE IF NOT EXISTS TaskStates_buffer AS TaskStates
ENGINE = Buffer({database}, TaskStates, 16, 10, 100, 1000, 100000, 100000, 1000000);

-- Approvals and disapprovals of subtasks (append-only, revocations are new rows).
CREATE TABLE IF NOT EXISTS TaskApprovals
(
    task_id      UInt32,
    subtask_id   UInt32,
    tapp_type    Enum8('approve' = 0, 'disapprove' = 1),
    tapp_revoked UInt8,
    tapp_date    DateTime,
    tapp_name    LowCardinality(String),
    tapp_message String,
    ts           DateTime MATERIALIZED now()
)
ENGINE = MergeTree
ORDER BY (tapp_date, task_id, subtask_id);

-- One row per build/<subtask>/<arch> directory.
CREATE TABLE IF NOT EXISTS TaskIterations
(
    task_id             UInt32,
    task_changed        DateTime,
    subtask_id          UInt32,
    subtask_arch        LowCardinality(String),
    titer_ts            DateTime,
    titer_status        LowCardinality(String),
    task_try            UInt16,
    task_iter           UInt8,
    titer_srcrpm_hash   UInt64,
    titer_pkgs_hash     Array(UInt64),
    titer_chroot_base   UInt64,
    titer_chroot_br     UInt64,
    titer_buildlog_hash UInt64,
    titer_srpmlog_hash  UInt64
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (task_id, subtask_id)
ORDER BY (task_id, subtask_id, subtask_arch, task_changed, titer_ts, titer_status, task_try, task_iter);

CREATE TABLE IF NOT EXISTS TaskIterations_buffer AS TaskIterations
ENGINE = Buffer({database}, TaskIterations, 16, 10, 100, 1000, 100000, 1000000, 10000000);

-- Build chroots: the list of mmhash(SHA1HEADER) of installed packages; tch_hash is computed
-- by the server (murmurHash3_64 over Array(UInt64)), never by the client.
CREATE TABLE IF NOT EXISTS TaskChroots
(
    tch_hash   UInt64 MATERIALIZED murmurHash3_64(tch_chroot),
    tch_chroot Array(UInt64)
)
ENGINE = ReplacingMergeTree
ORDER BY (tch_chroot);

CREATE TABLE IF NOT EXISTS TaskChroots_buffer AS TaskChroots
ENGINE = Buffer({database}, TaskChroots, 16, 10, 100, 1000, 100000, 1000000, 10000000);

-- Lines of build, srpm and events logs; tlog_hash identifies the log file.
CREATE TABLE IF NOT EXISTS TaskLogs
(
    tlog_hash    UInt64,
    tlog_line    UInt32,
    tlog_ts      DateTime,
    tlog_message String
)
ENGINE = ReplacingMergeTree
ORDER BY (tlog_message, tlog_line, tlog_hash);

CREATE TABLE IF NOT EXISTS TaskLogs_buffer AS TaskLogs
ENGINE = Buffer({database}, TaskLogs, 16, 10, 100, 1000, 100000, 1000000, 10000000);

-- Task plan: packages added to / deleted from the repository, per plan hash
-- (tplan_hash = murmurHash3_64('<task_id><try><iter><arch>')).
CREATE TABLE IF NOT EXISTS TaskPlanPackages
(
    tplan_hash     UInt64,
    tplan_action   Enum8('add' = 0, 'delete' = 1),
    tplan_pkg_name String,
    tplan_pkg_evr  String,
    tplan_bin_file String,
    tplan_src_file String,
    tplan_arch     LowCardinality(String),
    tplan_comp     LowCardinality(String),
    tplan_subtask  UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tplan_hash, tplan_action, tplan_src_file, tplan_bin_file);

CREATE TABLE IF NOT EXISTS TaskPlanPkgHash
(
    tplan_hash   UInt64,
    tplan_action Enum8('add' = 0, 'delete' = 1),
    tplan_sha256 FixedString(32)
)
ENGINE = ReplacingMergeTree
ORDER BY (tplan_hash, tplan_action, tplan_sha256);

-- ===================================================================== files

-- Package file list. File and directory names are stored once, in FileNames; Files keeps
-- their hashes (file_hashname = murmurHash3_64(path), file_hashdir = murmurHash3_64(dirname)).
CREATE TABLE IF NOT EXISTS Files
(
    pkg_hash        UInt64,
    file_hashname   UInt64,
    file_hashdir    UInt64,
    file_linkto     String,
    file_md5        FixedString(16),
    file_size       UInt32,
    file_mode       UInt16,
    file_rdev       UInt16,
    file_mtime      DateTime,
    file_flag       UInt16,
    file_username   LowCardinality(String),
    file_groupname  LowCardinality(String),
    file_verifyflag UInt32,
    file_device     UInt32,
    file_lang       LowCardinality(String),
    file_class      Enum8('file' = 0, 'directory' = 1, 'symlink' = 2, 'socket' = 3, 'block' = 4, 'char' = 5, 'fifo' = 6)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (pkg_hash, file_hashname)
ORDER BY (pkg_hash, file_hashname, file_class, file_md5);

CREATE TABLE IF NOT EXISTS Files_buffer AS Files
ENGINE = Buffer({database}, Files, 16, 10, 100, 1000, 100000, 1000000, 10000000);

CREATE TABLE IF NOT EXISTS FileNames
(
    fn_name String,
    fn_hash UInt64 MATERIALIZED murmurHash3_64(fn_name)
)
ENGINE = ReplacingMergeTree
ORDER BY fn_name;

CREATE TABLE IF NOT EXISTS FileNames_buffer AS FileNames
ENGINE = Buffer({database}, FileNames, 16, 10, 100, 1000, 100000, 1000000, 10000000);

-- Entry point for file rows: the client sends the full path in file_name; the three
-- materialized views below derive the hashes and the FileNames rows. Null engine: nothing is
-- stored here.
CREATE TABLE IF NOT EXISTS Files_insert
(
    pkg_hash        UInt64,
    file_name       String,
    file_linkto     String,
    file_md5        FixedString(16),
    file_size       UInt32,
    file_mode       UInt16,
    file_rdev       UInt16,
    file_mtime      DateTime,
    file_flag       UInt16,
    file_username   LowCardinality(String),
    file_groupname  LowCardinality(String),
    file_verifyflag UInt32,
    file_device     UInt32,
    file_lang       LowCardinality(String),
    file_class      Enum8('file' = 0, 'directory' = 1, 'symlink' = 2, 'socket' = 3, 'block' = 4, 'char' = 5, 'fifo' = 6)
)
ENGINE = Null;

-- Deliberate difference: the three MVs write the base tables (Files, FileNames), not the
-- *_buffer tables (a Buffer loses its contents on kill -9). See sql/README.md.
-- dirname(path) = path without its last '/'-component: '/usr/bin/bash' -> '/usr/bin',
-- '/bin' -> '', 'foo.spec' -> ''.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_files TO Files
AS SELECT
    pkg_hash,
    murmurHash3_64(file_name) AS file_hashname,
    murmurHash3_64(arrayStringConcat(arrayPopBack(splitByChar('/', file_name)), '/')) AS file_hashdir,
    file_linkto,
    file_md5,
    file_size,
    file_mode,
    file_rdev,
    file_mtime,
    file_flag,
    file_username,
    file_groupname,
    file_verifyflag,
    file_device,
    file_lang,
    file_class
FROM Files_insert;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_filenames_filename TO FileNames
AS SELECT file_name AS fn_name
FROM Files_insert;

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_filenames_filedir TO FileNames
AS SELECT arrayStringConcat(arrayPopBack(splitByChar('/', file_name)), '/') AS fn_name
FROM Files_insert;

-- Files with their path, as the API reads them.
CREATE OR REPLACE VIEW Files_view AS
SELECT
    FN.fn_name AS file_name,
    F.*
FROM FileNames_buffer AS FN
INNER JOIN (SELECT * FROM Files_buffer) AS F ON F.file_hashname = FN.fn_hash;

-- ===================================================================== packages

CREATE TABLE IF NOT EXISTS Packages
(
    pkg_hash              UInt64,
    pkg_cs                FixedString(20),
    pkg_packager          LowCardinality(String),
    pkg_packager_email    LowCardinality(String),
    pkg_name              String,
    pkg_arch              LowCardinality(String),
    pkg_version           String,
    pkg_release           String,
    pkg_epoch             UInt32,
    pkg_serial_           UInt32,
    pkg_buildtime         UInt32,
    pkg_buildhost         LowCardinality(String),
    pkg_size              UInt64,
    pkg_archivesize       UInt64,
    pkg_filesize          UInt64,
    pkg_rpmversion        LowCardinality(String),
    pkg_cookie            String,
    pkg_sourcepackage     UInt8,
    pkg_disttag           String,
    pkg_sourcerpm         String,
    pkg_srcrpm_hash       UInt64,
    pkg_filename          String,
    pkg_complete          UInt8,
    pkg_summary           String,
    pkg_description       String,
    pkg_changelog         Nested(date DateTime, name String, evr String, hash UInt64),
    pkg_distribution      LowCardinality(String),
    pkg_vendor            LowCardinality(String),
    pkg_gif               String,
    pkg_xpm               String,
    pkg_license           LowCardinality(String),
    pkg_group_            String,
    pkg_url               LowCardinality(String),
    pkg_os                LowCardinality(String),
    pkg_prein             String,
    pkg_postin            String,
    pkg_preun             String,
    pkg_postun            String,
    pkg_icon              String,
    pkg_preinprog         Array(String),
    pkg_postinprog        Array(String),
    pkg_preunprog         Array(String),
    pkg_postunprog        Array(String),
    pkg_buildarchs        Array(LowCardinality(String)),
    pkg_verifyscript      String,
    pkg_verifyscriptprog  Array(String),
    pkg_prefixes          Array(LowCardinality(String)),
    pkg_instprefixes      Array(String),
    pkg_optflags          LowCardinality(String),
    pkg_disturl           String,
    pkg_payloadformat     LowCardinality(String),
    pkg_payloadcompressor LowCardinality(String),
    pkg_payloadflags      LowCardinality(String),
    pkg_platform          LowCardinality(String)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (pkg_name, pkg_arch)
ORDER BY (pkg_name, pkg_arch, pkg_hash, pkg_srcrpm_hash, pkg_packager, pkg_packager_email)
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS Packages_buffer AS Packages
ENGINE = Buffer({database}, Packages, 16, 10, 200, 10000, 1000000, 10000000, 100000000);

-- Changelog texts, shared by every package that carries the same text (chlog_hash = mmhash).
CREATE TABLE IF NOT EXISTS Changelog
(
    chlog_hash UInt64,
    chlog_text String
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (chlog_hash)
ORDER BY (chlog_hash, chlog_text);

CREATE TABLE IF NOT EXISTS Changelog_buffer AS Changelog
ENGINE = Buffer({database}, Changelog, 16, 10, 100, 1000, 1000000, 1000000, 10000000);

-- Whole changelog of a package: Array((date, name, evr, text)), newest first (by date, then evr).
CREATE OR REPLACE VIEW PackageChangelog_view AS
SELECT
    pkg_hash,
    arrayMap(e -> (toDate(e.1), e.2, e.3, e.4),
             arrayReverseSort(e -> (e.1, e.3), groupArray((entry_date, entry_name, entry_evr, entry_text)))) AS changelog
FROM
(
    SELECT DISTINCT
        E.pkg_hash AS pkg_hash,
        E.entry_date AS entry_date,
        E.entry_name AS entry_name,
        E.entry_evr AS entry_evr,
        E.entry_hash AS entry_hash,
        T.chlog_text AS entry_text
    FROM
    (
        SELECT
            pkg_hash,
            pkg_changelog.date AS entry_date,
            pkg_changelog.name AS entry_name,
            pkg_changelog.evr AS entry_evr,
            pkg_changelog.hash AS entry_hash
        FROM Packages
        ARRAY JOIN pkg_changelog
    ) AS E
    INNER JOIN (SELECT chlog_hash, chlog_text FROM Changelog_buffer) AS T ON T.chlog_hash = E.entry_hash
)
GROUP BY pkg_hash;

-- Packages with the first (newest) changelog entry flattened into columns.
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

-- Last changelog entry of every source package, filled when Packages rows are inserted.
-- The Changelog rows of a package must be inserted before its Packages row.
CREATE TABLE IF NOT EXISTS SrcPackagesLastChangelog
(
    pkg_hash   UInt64,
    chlog_nick String,
    chlog_name String,
    chlog_date DateTime,
    chlog_evr  String,
    chlog_text String
)
ENGINE = ReplacingMergeTree
ORDER BY pkg_hash;

-- Inside a materialized view every reference to the source table (Packages) means the
-- inserted block, so the Changelog lookup below only touches the hashes of that block.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_src_packages_last_changelog TO SrcPackagesLastChangelog
AS SELECT DISTINCT
    P.pkg_hash AS pkg_hash,
    extract(replaceOne(extract(P.last_name, '<(.+@?.+)>+'), ' at ', '@'), '(.*)@') AS chlog_nick,
    P.last_name AS chlog_name,
    P.last_date AS chlog_date,
    P.last_evr AS chlog_evr,
    C.chlog_text AS chlog_text
FROM
(
    SELECT
        pkg_hash,
        pkg_changelog.name[1] AS last_name,
        pkg_changelog.date[1] AS last_date,
        pkg_changelog.evr[1] AS last_evr,
        pkg_changelog.hash[1] AS last_hash
    FROM Packages
    WHERE pkg_sourcepackage = 1
) AS P
LEFT JOIN
(
    SELECT chlog_hash, chlog_text
    FROM Changelog
    WHERE chlog_hash IN (SELECT pkg_changelog.hash[1] FROM Packages WHERE pkg_sourcepackage = 1)
) AS C ON C.chlog_hash = P.last_hash;

-- ===================================================================== dependencies

CREATE TABLE IF NOT EXISTS Depends
(
    pkg_hash   UInt64,
    dp_name    String,
    dp_version String,
    dp_flag    UInt32,
    dp_type    Enum8('require' = 1, 'conflict' = 2, 'obsolete' = 3, 'provide' = 4)
)
ENGINE = ReplacingMergeTree
PRIMARY KEY (dp_name)
ORDER BY (dp_name, dp_version, dp_type, dp_flag, pkg_hash);

CREATE TABLE IF NOT EXISTS Depends_buffer AS Depends
ENGINE = Buffer({database}, Depends, 16, 10, 200, 10000, 1000000, 1000000, 10000000);

-- ===================================================================== spec files

-- Entry point for spec files: the content arrives base64-encoded and is decoded by mv_specfiles.
CREATE TABLE IF NOT EXISTS Specfiles_insert
(
    pkg_hash                UInt64,
    pkg_name                String,
    pkg_epoch               UInt32,
    pkg_version             String,
    pkg_release             String,
    specfile_name           String,
    specfile_date           DateTime,
    specfile_content_base64 String
)
ENGINE = Null;

CREATE TABLE IF NOT EXISTS Specfiles
(
    pkg_hash         UInt64,
    pkg_name         String,
    pkg_epoch        UInt32,
    pkg_version      String,
    pkg_release      String,
    specfile_name    String,
    specfile_date    DateTime,
    specfile_content String
)
ENGINE = ReplacingMergeTree
ORDER BY (pkg_hash, specfile_content);

CREATE TABLE IF NOT EXISTS Specfiles_buffer AS Specfiles
ENGINE = Buffer({database}, Specfiles, 16, 10, 100, 1000, 100000, 100000, 1000000);

-- Deliberate difference: writes Specfiles, not Specfiles_buffer (see sql/README.md).
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_specfiles TO Specfiles
AS SELECT
    pkg_hash,
    pkg_name,
    pkg_epoch,
    pkg_version,
    pkg_release,
    specfile_name,
    specfile_date,
    base64Decode(specfile_content_base64) AS specfile_content
FROM Specfiles_insert;

-- ===================================================================== task plan views

-- Plan hashes of every DONE task, for its latest try/iteration, one per arch of its
-- iterations plus 'src', 'noarch' and 'x86_64-i586'.
CREATE OR REPLACE VIEW task_plan_hashes AS
SELECT DISTINCT
    task_id,
    murmurHash3_64(concat(toString(task_id), toString(last_try), toString(last_iter), arch)) AS tplan_hash,
    arch AS tplan_arch
FROM
(
    SELECT
        task_id,
        argMax(task_try, task_changed) AS last_try,
        argMax(task_iter, task_changed) AS last_iter,
        arrayConcat(groupUniqArray(subtask_arch), ['src', 'noarch', 'x86_64-i586']) AS archs
    FROM TaskIterations
    WHERE task_id IN (SELECT task_id FROM TaskStates WHERE task_state = 'DONE')
    GROUP BY task_id
)
ARRAY JOIN archs AS arch;

-- ===================================================================== latest package sets

-- Every node of the latest tree of each root name, with pkgset_name (root name) and
-- pkgset_class (the node's kv 'class').
CREATE OR REPLACE VIEW last_pkgnames_without_pname AS
SELECT
    PSN.*,
    R.pkgset_name AS pkgset_name,
    PSN.pkgset_kv.v[indexOf(PSN.pkgset_kv.k, 'class')] AS pkgset_class
FROM PackageSetName AS PSN
INNER JOIN
(
    SELECT
        argMax(pkgset_ruuid, pkgset_date) AS last_ruuid,
        pkgset_nodename AS pkgset_name
    FROM PackageSetName
    WHERE pkgset_depth = 0
    GROUP BY pkgset_nodename
) AS R ON R.last_ruuid = PSN.pkgset_ruuid;

-- ... plus the parent node's name.
CREATE OR REPLACE VIEW last_pkgnames AS
SELECT
    L.*,
    PP.pkgset_pname AS pkgset_pname
FROM last_pkgnames_without_pname AS L
LEFT JOIN (SELECT pkgset_uuid AS parent_uuid, pkgset_nodename AS pkgset_pname FROM PackageSetName) AS PP
    ON PP.parent_uuid = L.pkgset_puuid;

-- ... plus the member packages of each node.
CREATE OR REPLACE VIEW last_pkgset AS
SELECT
    L.*,
    S.pkg_hash AS pkg_hash
FROM last_pkgnames AS L
INNER JOIN
(
    SELECT pkgset_uuid, pkg_hash
    FROM PackageSet_buffer
    WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM last_pkgnames)
) AS S ON S.pkgset_uuid = L.pkgset_uuid;

-- Roots seen by the StaticLastPackages cascade (one row per loaded repository root).
CREATE TABLE IF NOT EXISTS last_packages_stage1
(
    ts           DateTime64(3) MATERIALIZED now64(),
    pkgset_ruuid UUID,
    pkgset_name  String,
    pkgset_date  DateTime
)
ENGINE = MergeTree
ORDER BY pkgset_ruuid;

-- Packages of every loaded repository snapshot (filled when its root row is inserted).
CREATE TABLE IF NOT EXISTS StaticLastPackages
(
    pkgset_name       String,
    pkgset_date       DateTime,
    pkg_hash          UInt64,
    pkg_name          String,
    pkg_version       String,
    pkg_release       String,
    pkg_sourcepackage UInt8
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_name, pkg_name)
ORDER BY (pkgset_name, pkg_name, pkg_sourcepackage);

-- Stage 1: a depth-0 PackageSetName row whose kv class is 'repository'.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_last_packages_stage1 TO last_packages_stage1
AS SELECT
    pkgset_ruuid,
    pkgset_nodename AS pkgset_name,
    pkgset_date
FROM PackageSetName
WHERE pkgset_depth = 0
    AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository';

-- Stage 2: every package of that root's tree. last_packages_stage1 below means the block just
-- inserted by stage 1, so the root row must be inserted after all its child rows and sets.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_last_packages_stage2 TO StaticLastPackages
AS SELECT
    R.pkgset_name AS pkgset_name,
    R.pkgset_date AS pkgset_date,
    LP.pkg_hash AS pkg_hash,
    LP.pkg_name AS pkg_name,
    LP.pkg_version AS pkg_version,
    LP.pkg_release AS pkg_release,
    LP.pkg_sourcepackage AS pkg_sourcepackage
FROM last_packages_stage1 AS R
CROSS JOIN
(
    SELECT DISTINCT pkg_hash, pkg_name, pkg_version, pkg_release, pkg_sourcepackage
    FROM Packages_buffer
    WHERE pkg_hash IN
    (
        SELECT pkg_hash
        FROM PackageSet_buffer
        WHERE pkgset_uuid IN
        (
            SELECT pkgset_uuid
            FROM PackageSetName
            WHERE pkgset_ruuid IN (SELECT pkgset_ruuid FROM last_packages_stage1)
        )
    )
) AS LP;

-- The newest snapshot of every branch.
CREATE OR REPLACE VIEW static_last_packages AS
SELECT *
FROM StaticLastPackages
WHERE (pkgset_name, pkgset_date) IN
(
    SELECT pkgset_name, max(pkgset_date)
    FROM StaticLastPackages
    GROUP BY pkgset_name
);

-- Full package rows of the newest snapshots (pkg_cs as hex).
CREATE OR REPLACE VIEW last_packages AS
SELECT
    P.* EXCEPT (pkg_cs),
    lower(hex(P.pkg_cs)) AS pkg_cs,
    S.pkgset_name AS pkgset_name,
    S.pkgset_date AS pkgset_date
FROM Packages_buffer AS P
INNER JOIN (SELECT pkg_hash, pkgset_name, pkgset_date FROM static_last_packages) AS S
    ON S.pkg_hash = P.pkg_hash;

-- Package counts of the newest snapshots: per branch and arch ('srpm' for sources), the number
-- of distinct source rpm names. This was a LIVE VIEW in the reference; LIVE VIEW no longer
-- exists in ClickHouse, so it is a plain view (see sql/README.md).
CREATE OR REPLACE VIEW lv_pkgset_stat AS
SELECT
    S.pkgset_name AS pkgset_name,
    S.pkgset_date AS pkgset_date,
    if(P.pkg_sourcepackage = 1, 'srpm', P.pkg_arch) AS pkg_arch,
    countDistinct(P.pkg_sourcerpm) AS cnt
FROM static_last_packages AS S
INNER JOIN
(
    SELECT pkg_hash, pkg_sourcepackage, toString(pkg_arch) AS pkg_arch, pkg_sourcerpm
    FROM Packages_buffer
    WHERE pkg_hash IN (SELECT pkg_hash FROM static_last_packages)
) AS P ON P.pkg_hash = S.pkg_hash
WHERE P.pkg_arch != 'x86_64-i586'
GROUP BY pkgset_name, pkgset_date, pkg_arch;

-- Dependencies of the packages of the newest snapshots.
CREATE OR REPLACE VIEW last_depends AS
SELECT
    D.*,
    LP.pkg_name AS pkg_name,
    LP.pkg_version AS pkg_version,
    LP.pkgset_name AS pkgset_name,
    LP.pkgset_date AS pkgset_date,
    LP.pkg_sourcepackage AS pkg_sourcepackage,
    LP.pkg_arch AS pkg_arch,
    LP.pkg_filename AS pkg_filename,
    LP.pkg_sourcerpm AS pkg_sourcerpm
FROM Depends AS D
INNER JOIN
(
    SELECT pkg_hash, pkg_name, pkg_version, pkgset_name, pkgset_date, pkg_sourcepackage, pkg_arch,
           pkg_filename, pkg_sourcerpm
    FROM last_packages
) AS LP ON LP.pkg_hash = D.pkg_hash;

-- ===================================================================== source <-> binary

-- (source package name, binary package name) pairs with the newest build time.
CREATE TABLE IF NOT EXISTS PackagesSourceAndBinaries
(
    buildtime    SimpleAggregateFunction(max, UInt32),
    src_pkg_name String,
    bin_pkg_name String
)
ENGINE = AggregatingMergeTree
ORDER BY (src_pkg_name, bin_pkg_name);

-- src_pkg_name = pkg_sourcerpm without its last two '-' parts ('foo-1.0-alt1.src.rpm' -> 'foo').
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_packages_source_and_binaries TO PackagesSourceAndBinaries
AS SELECT
    max(pkg_buildtime) AS buildtime,
    arrayStringConcat(arrayPopBack(arrayPopBack(splitByChar('-', pkg_sourcerpm))), '-') AS src_pkg_name,
    pkg_name AS bin_pkg_name
FROM Packages
WHERE pkg_srcrpm_hash != 0
    AND pkg_name NOT LIKE 'i586-%'
GROUP BY src_pkg_name, bin_pkg_name;

-- Binary packages with the name of their source package.
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

-- Every node of every tree (not only the latest ones), like last_pkgnames*.
CREATE OR REPLACE VIEW all_pkgnames_without_pname AS
SELECT
    PSN.*,
    R.pkgset_name AS pkgset_name,
    PSN.pkgset_kv.v[indexOf(PSN.pkgset_kv.k, 'class')] AS pkgset_class
FROM PackageSetName AS PSN
INNER JOIN
(
    SELECT pkgset_ruuid AS root_ruuid, pkgset_nodename AS pkgset_name
    FROM PackageSetName
    WHERE pkgset_depth = 0
) AS R ON R.root_ruuid = PSN.pkgset_ruuid
ORDER BY pkgset_name ASC, pkgset_depth ASC;

CREATE OR REPLACE VIEW all_pkgnames AS
SELECT
    A.*,
    PP.pkgset_pname AS pkgset_pname
FROM all_pkgnames_without_pname AS A
LEFT JOIN (SELECT pkgset_uuid AS parent_uuid, pkgset_nodename AS pkgset_pname FROM PackageSetName) AS PP
    ON PP.parent_uuid = A.pkgset_puuid;

CREATE OR REPLACE VIEW all_pkgset AS
SELECT
    A.*,
    S.pkg_hash AS pkg_hash
FROM all_pkgnames AS A
INNER JOIN (SELECT pkgset_uuid, pkg_hash FROM PackageSet_buffer) AS S ON S.pkgset_uuid = A.pkgset_uuid;

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

-- Binary packages of the latest trees, with source package name and set name/date.
CREATE OR REPLACE VIEW last_packages_with_source AS
SELECT
    W.*,
    L.pkgset_name AS pkgset_name,
    L.pkgset_date AS pkgset_date
FROM (SELECT pkg_hash AS set_pkg_hash, pkgset_name, pkgset_date FROM last_pkgset) AS L
INNER JOIN (SELECT * FROM all_packages_with_source) AS W ON W.pkg_hash = L.set_pkg_hash;

-- ===================================================================== branch history

-- Packages added to / deleted from branches by DONE tasks (with their newest changelog entry).
CREATE TABLE IF NOT EXISTS BranchPackageHistory
(
    pkgset_name       LowCardinality(String),
    task_id           UInt32,
    task_changed      DateTime,
    task_message      String,
    tplan_action      Enum8('add' = 0, 'delete' = 1),
    pkg_hash          UInt64,
    pkg_name          String,
    pkg_epoch         UInt32,
    pkg_version       String,
    pkg_release       String,
    pkg_arch          LowCardinality(String),
    pkg_sourcepackage UInt8,
    chlog_date        DateTime,
    chlog_name        String,
    chlog_nick        LowCardinality(String),
    chlog_evr         String,
    chlog_text        String
)
ENGINE = ReplacingMergeTree
ORDER BY (pkg_hash, pkgset_name, pkg_name, pkg_sourcepackage, task_id);

-- Fires on TaskStates inserts. Every TaskStates reference below means the inserted block, so
-- only the tasks that have just become DONE are looked at (done_tasks). Their Tasks,
-- TaskIterations, TaskPlanPkgHash, PackageHash, Packages and Changelog rows must already be in
-- the database: a loader inserts the DONE TaskStates row last. The WITH arrays narrow every
-- lookup to the rows of those tasks: plan hashes (as in task_plan_hashes) -> plan sha256 ->
-- package hashes -> changelog hashes.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_package_history TO BranchPackageHistory
AS WITH
    (SELECT groupUniqArray(task_id) FROM TaskStates WHERE task_state = 'DONE') AS done_tasks,
    (
        SELECT groupArray((task_id, murmurHash3_64(concat(toString(task_id), toString(last_try), toString(last_iter), arch))))
        FROM
        (
            SELECT
                task_id,
                argMax(task_try, task_changed) AS last_try,
                argMax(task_iter, task_changed) AS last_iter,
                arrayConcat(groupUniqArray(subtask_arch), ['src', 'noarch', 'x86_64-i586']) AS archs
            FROM TaskIterations
            WHERE has(done_tasks, task_id)
            GROUP BY task_id
        )
        ARRAY JOIN archs AS arch
    ) AS plan,
    arrayMap(p -> p.2, plan) AS plan_hashes,
    (SELECT groupUniqArray(tplan_sha256) FROM TaskPlanPkgHash WHERE has(plan_hashes, tplan_hash)) AS plan_sha256,
    (SELECT groupUniqArray(pkgh_mmh) FROM PackageHash WHERE has(plan_sha256, pkgh_sha256)) AS plan_pkgs,
    (SELECT groupUniqArray(pkg_changelog.hash[1]) FROM Packages WHERE has(plan_pkgs, pkg_hash)) AS plan_chlogs
SELECT DISTINCT
    S.pkgset_name AS pkgset_name,
    S.task_id AS task_id,
    S.task_changed AS task_changed,
    S.task_message AS task_message,
    H.tplan_action AS tplan_action,
    H.pkg_hash AS pkg_hash,
    P.pkg_name AS pkg_name,
    P.pkg_epoch AS pkg_epoch,
    P.pkg_version AS pkg_version,
    P.pkg_release AS pkg_release,
    P.pkg_arch AS pkg_arch,
    P.pkg_sourcepackage AS pkg_sourcepackage,
    P.chlog_date AS chlog_date,
    P.chlog_name AS chlog_name,
    extract(replaceOne(extract(P.chlog_name, '<(.+@?.+)>+'), ' at ', '@'), '(.*)@') AS chlog_nick,
    P.chlog_evr AS chlog_evr,
    C.chlog_text AS chlog_text
FROM
(
    SELECT D.task_id AS task_id, D.task_changed AS task_changed, D.task_message AS task_message,
           R.task_repo AS pkgset_name
    FROM (SELECT task_id, task_changed, task_message FROM TaskStates WHERE task_state = 'DONE') AS D
    LEFT JOIN
    (
        SELECT DISTINCT task_id, toString(task_repo) AS task_repo
        FROM Tasks
        WHERE has(done_tasks, task_id)
    ) AS R ON R.task_id = D.task_id
) AS S
INNER JOIN
(
    SELECT PH.task_id AS task_id, PP.tplan_action AS tplan_action, HH.pkgh_mmh AS pkg_hash
    FROM (SELECT tupleElement(p, 1) AS task_id, tupleElement(p, 2) AS tplan_hash FROM (SELECT arrayJoin(plan) AS p)) AS PH
    INNER JOIN
    (
        SELECT tplan_hash, tplan_action, tplan_sha256
        FROM TaskPlanPkgHash
        WHERE has(plan_hashes, tplan_hash)
    ) AS PP ON PP.tplan_hash = PH.tplan_hash
    INNER JOIN
    (
        SELECT pkgh_mmh, pkgh_sha256
        FROM PackageHash
        WHERE has(plan_sha256, pkgh_sha256) AND pkgh_mmh != 0
    ) AS HH ON HH.pkgh_sha256 = PP.tplan_sha256
) AS H ON H.task_id = S.task_id
LEFT JOIN
(
    SELECT
        pkg_hash, pkg_name, pkg_epoch, pkg_version, pkg_release, pkg_arch, pkg_sourcepackage,
        pkg_changelog.date[1] AS chlog_date,
        pkg_changelog.name[1] AS chlog_name,
        pkg_changelog.evr[1] AS chlog_evr,
        pkg_changelog.hash[1] AS chlog_hash
    FROM Packages
    WHERE has(plan_pkgs, pkg_hash)
) AS P ON P.pkg_hash = H.pkg_hash
LEFT JOIN
(
    SELECT chlog_hash, chlog_text
    FROM Changelog
    WHERE has(plan_chlogs, chlog_hash)
) AS C ON C.chlog_hash = P.chlog_hash;
