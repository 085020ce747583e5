-- 0002_feeds_images: auxiliary feeds (ACL, Beehive, Bugzilla, Repocop, Watch, SPDX, repository
-- status), distribution images, and the legacy 2022 CVE tables.
-- Conventions: sql/README.md.

-- ===================================================================== ACL

-- One row per changed line of list.packages.<branch> / list.groups.<branch>
-- (acl_for = package or @group, acl_list = its members); append-only.
CREATE TABLE IF NOT EXISTS Acl
(
    acl_date   DateTime,
    acl_for    String,
    acl_branch String,
    acl_list   Array(String)
)
ENGINE = MergeTree
PRIMARY KEY (acl_date, acl_branch)
ORDER BY (acl_date, acl_branch, acl_for, acl_list);

-- Latest member list per (branch, package or group).
CREATE OR REPLACE VIEW last_acl AS
SELECT
    acl_branch,
    max(acl_date) AS acl_date_last,
    acl_for,
    argMax(acl_list, acl_date) AS acl_list
FROM Acl
GROUP BY acl_branch, acl_for;

-- The same, kept up to date by mv_last_acl (read by last_acl_with_groups).
CREATE TABLE IF NOT EXISTS last_acl_stage1
(
    acl_branch    String,
    acl_date_last SimpleAggregateFunction(max, DateTime),
    acl_for       String,
    acl_list      SimpleAggregateFunction(anyLast, Array(String))
)
ENGINE = AggregatingMergeTree
ORDER BY (acl_branch, acl_for);

CREATE MATERIALIZED VIEW IF NOT EXISTS mv_last_acl TO last_acl_stage1
AS SELECT
    acl_branch,
    max(acl_date) AS acl_date_last,
    acl_for,
    argMax(acl_list, acl_date) AS acl_list
FROM Acl
GROUP BY acl_branch, acl_for;

-- Package ACLs with groups expanded: one row per (package, member); order_u = position of the
-- entry in the package list (1 = leader), order_g = position inside the expanded group
-- (0 when the entry is a user).
CREATE OR REPLACE VIEW last_acl_with_groups
(
    acl_branch String,
    acl_date   DateTime,
    pkgname    String,
    acl_user   String,
    order_u    UInt32,
    order_g    UInt32
) AS
SELECT
    U.acl_branch AS acl_branch,
    max(U.acl_date_last) AS acl_date,
    U.acl_for AS pkgname,
    argMax(if(notEmpty(G.aclg), G.aclg, U.aclu), U.acl_date_last) AS acl_user,
    U.order_u AS order_u,
    G.order_g AS order_g
FROM
(
    SELECT acl_branch, acl_for, acl_date_last, aclu, order_u
    FROM last_acl_stage1
    ARRAY JOIN acl_list AS aclu, arrayEnumerate(acl_list) AS order_u
) AS U
LEFT JOIN
(
    SELECT acl_branch, acl_for AS group_name, aclg, order_g
    FROM last_acl_stage1
    ARRAY JOIN acl_list AS aclg, arrayEnumerate(acl_list) AS order_g
    WHERE acl_for LIKE '@%'
) AS G ON G.group_name = U.aclu AND G.acl_branch = U.acl_branch
GROUP BY U.acl_for, U.acl_branch, U.order_u, G.order_g
ORDER BY order_u ASC, order_g ASC;

-- ===================================================================== Beehive

-- Rebuild results of source packages; one run of one (branch, arch) shares bh_updated.
CREATE TABLE IF NOT EXISTS BeehiveStatus
(
    pkg_hash       UInt64,
    pkg_name       String,
    pkg_version    String,
    pkg_release    String,
    pkgset_name    LowCardinality(String),
    bh_arch        LowCardinality(String),
    bh_status      Enum8('error' = 0, 'success' = 1),
    bh_build_time  Float32,
    bh_updated     DateTime,
    bh_ftbfs_since DateTime
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_name, pkg_name)
ORDER BY (pkgset_name, pkg_name, bh_updated, bh_arch, pkg_hash);

-- ===================================================================== Bugzilla

-- Every refresh of a bug appends a row; latest = argMax(…, ts).
CREATE TABLE IF NOT EXISTS Bugzilla
(
    bz_id            UInt32,
    bz_status        LowCardinality(String),
    bz_resolution    LowCardinality(String),
    bz_severity      LowCardinality(String),
    bz_priority      LowCardinality(String),
    bz_product       LowCardinality(String),
    bz_version       LowCardinality(String),
    bz_platform      LowCardinality(String),
    bz_component     String,
    bz_assignee      String,
    bz_reporter      String,
    bz_summary       String,
    bz_last_changed  DateTime,
    bz_assignee_full String,
    bz_reporter_full String,
    ts               DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY (bz_id)
ORDER BY (bz_id, bz_component, bz_assignee);

-- ===================================================================== Repocop

-- Full snapshot of repocop test results at every update (rc_test_date = Last-Modified).
CREATE TABLE IF NOT EXISTS PackagesRepocop
(
    pkg_name          String,
    pkg_version       String,
    pkg_release       String,
    pkg_arch          LowCardinality(String),
    pkgset_name       LowCardinality(String),
    rc_srcpkg_name    String,
    rc_srcpkg_version String,
    rc_srcpkg_release String,
    rc_test_name      LowCardinality(String),
    rc_test_date      DateTime,
    rc_test_status    LowCardinality(String),
    rc_test_message   String,
    ts                DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree
ORDER BY (pkg_name, pkg_version, pkg_release, pkg_arch, pkgset_name, rc_test_name, rc_test_date);

-- ===================================================================== Watch

-- Full daily snapshots of watch-total.txt.
CREATE TABLE IF NOT EXISTS PackagesWatch
(
    acl         String,
    pkg_name    String,
    old_version String,
    new_version String,
    url         String,
    date_update DateTime
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(date_update)
ORDER BY (acl, date_update, pkg_name, old_version, new_version, url);

-- ===================================================================== SPDX licenses

CREATE TABLE IF NOT EXISTS SPDXLicenses
(
    spdx_id     String,
    spdx_name   String,
    spdx_text   String,
    spdx_header String,
    spdx_urls   Array(String),
    spdx_type   Enum8('license' = 0, 'exception' = 1)
)
ENGINE = ReplacingMergeTree
ORDER BY (spdx_id, spdx_type, spdx_name, spdx_text);

-- ALT license name -> SPDX id (seeded from license_aliases.json).
CREATE TABLE IF NOT EXISTS LicenseAliases
(
    alias   String,
    spdx_id String
)
ENGINE = ReplacingMergeTree
ORDER BY (alias, spdx_id);

-- ===================================================================== repository status

-- Per-branch presentation data, maintained by hand or by the API; latest = argMax(…, ts).
CREATE TABLE IF NOT EXISTS RepositoryStatus
(
    pkgset_name             LowCardinality(String),
    rs_start_date           DateTime,
    rs_end_date             DateTime,
    rs_show                 UInt8,
    rs_description_ru       String,
    rs_description_en       String,
    rs_mirrors_json         String,
    rs_mailing_list         LowCardinality(String),
    rs_pkgset_name_bugzilla LowCardinality(String),
    ts                      DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_name)
ORDER BY (pkgset_name, rs_show);

-- ===================================================================== images

-- Image package-set roots (depth 0, kv class other than 'repository'), derived by mv_image_pkgset.
CREATE TABLE IF NOT EXISTS ImagePackageSetName
(
    pkgset_uuid       UUID,
    pkgset_date       DateTime,
    img_tag           String,
    img_branch        LowCardinality(String),
    img_edition       LowCardinality(String),
    img_flavor        LowCardinality(String),
    img_platform      LowCardinality(String),
    img_release       LowCardinality(String),
    img_version_major UInt32,
    img_version_minor UInt32,
    img_version_sub   UInt32,
    img_arch          LowCardinality(String),
    img_variant       LowCardinality(String),
    img_type          LowCardinality(String),
    img_kv            Map(String, String),
    ts                DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY (pkgset_date, img_branch, img_edition)
ORDER BY (pkgset_date, img_branch, img_edition, img_arch, img_variant, img_release);

-- img_kv = every kv pair except the ones that have a column of their own.
CREATE MATERIALIZED VIEW IF NOT EXISTS mv_image_pkgset TO ImagePackageSetName
AS SELECT
    pkgset_uuid,
    pkgset_date,
    pkgset_tag AS img_tag,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'branch')] AS img_branch,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'edition')] AS img_edition,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'flavor')] AS img_flavor,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'platform')] AS img_platform,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'release')] AS img_release,
    toUInt32OrZero(pkgset_kv.v[indexOf(pkgset_kv.k, 'version_major')]) AS img_version_major,
    toUInt32OrZero(pkgset_kv.v[indexOf(pkgset_kv.k, 'version_minor')]) AS img_version_minor,
    toUInt32OrZero(pkgset_kv.v[indexOf(pkgset_kv.k, 'version_sub')]) AS img_version_sub,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'arch')] AS img_arch,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'variant')] AS img_variant,
    pkgset_kv.v[indexOf(pkgset_kv.k, 'image_type')] AS img_type,
    CAST(mapFromArrays(
        arrayFilter(k -> NOT has(own_keys, k), pkgset_kv.k),
        arrayFilter((v, k) -> NOT has(own_keys, k), pkgset_kv.v, pkgset_kv.k)
    ), 'Map(String, String)') AS img_kv
FROM
(
    SELECT
        *,
        ['branch', 'edition', 'flavor', 'platform', 'release', 'version_major', 'version_minor',
         'version_sub', 'arch', 'variant', 'image_type'] AS own_keys
    FROM PackageSetName
    WHERE pkgset_depth = 0
        AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] != 'repository'
);

-- Presentation status per (branch, edition); written by image_loader (hidden) and the API.
CREATE TABLE IF NOT EXISTS ImageStatus
(
    img_branch         LowCardinality(String),
    img_edition        LowCardinality(String),
    img_name           String,
    img_show           Enum8('hide' = 0, 'show' = 1),
    img_start_date     DateTime,
    img_end_date       DateTime,
    img_summary_ru     String,
    img_summary_en     String,
    img_description_ru String,
    img_description_en String,
    img_mailing_list   LowCardinality(String),
    img_name_bugzilla  LowCardinality(String),
    img_json           String,
    ts                 DateTime64(3) MATERIALIZED now64()
)
ENGINE = MergeTree
PRIMARY KEY (img_branch, img_edition)
ORDER BY (img_branch, img_edition, img_show);

CREATE TABLE IF NOT EXISTS ImageTagStatus
(
    img_tag  String,
    img_show Enum8('hide' = 0, 'show' = 1),
    ts       DateTime64(3) MATERIALIZED now64()
)
ENGINE = ReplacingMergeTree
ORDER BY img_tag;

-- ===================================================================== legacy CVE tables (2022)

-- Kept so that a bootstrap matches the 2022 schema. No loader of this project writes them and
-- the current API no longer reads them (superseded by Vulnerabilities & co., 0003).
CREATE TABLE IF NOT EXISTS Cve
(
    pkg_hash                    UInt64,
    cve_id                      String,
    cve_description             String,
    cve_url                     String,
    cve_score                   Float64,
    cve_attacktype              String,
    cve_status                  Enum8('check' = 0, 'patched' = 1, 'discarded_by_version_check' = 2, 'manually_excluded' = 3),
    cve_uris                    Array(String),
    cve_modifieddate            DateTime,
    cve_parsingdate             DateTime,
    cve_cpe                     String,
    cve_version_start_excluding Nullable(String),
    cve_version_start_including Nullable(String),
    cve_version_end_excluding   Nullable(String),
    cve_version_end_including   Nullable(String),
    cc_id                       Nullable(UInt64)
)
ENGINE = MergeTree
ORDER BY (pkg_hash, cve_id, cve_modifieddate, cve_parsingdate);

CREATE TABLE IF NOT EXISTS CveAbsentPackages
(
    cap_product_name String,
    cve_id           String,
    cve_description  String,
    cve_url          String,
    cve_score        Float64,
    cve_attacktype   String,
    cve_uris         Array(String),
    cve_modifieddate DateTime,
    cve_parsingdate  DateTime
)
ENGINE = MergeTree
ORDER BY (cap_product_name, cve_id, cve_modifieddate, cve_parsingdate);

-- Seeded from CveChecked-initial.json; cc_id identifies a check record.
CREATE TABLE IF NOT EXISTS CveChecked
(
    cve_id                      String,
    pkg_name                    String,
    cc_id                       UInt64 MATERIALIZED murmurHash3_64(cve_id, pkg_name, `cc_checked_ver.pkg_evr`, `cc_checked_ver.pkg_branch`),
    cc_status                   Enum8('patched' = 0, 'manually_excluded' = 1),
    cc_checkdate                DateTime,
    cc_description              String,
    cc_description_ru           String,
    `cc_checked_ver.pkg_evr`    Array(String),
    `cc_checked_ver.pkg_branch` Array(String)
)
ENGINE = MergeTree
PRIMARY KEY (cve_id, pkg_name)
ORDER BY (cve_id, pkg_name, cc_checkdate);

CREATE TABLE IF NOT EXISTS FstecBduList
(
    bdu_identifier          String,
    bdu_name                String,
    bdu_description         String,
    bdu_identify_date       Date,
    bdu_severity            String,
    bdu_solution            String,
    bdu_vul_status          String,
    bdu_exploit_status      String,
    bdu_fix_status          String,
    bdu_sources             String,
    bdu_other               String,
    bdu_vulnerable_software Nested(vendor String, type Array(String), name String, version String),
    bdu_environment         Nested(vendor String, version String, name String, platform String),
    bdu_cwe                 Nested(identifier String),
    bdu_cvss                Nested(vector String, score Float32),
    bdu_identifiers         Nested(identifier String, type String, link String)
)
ENGINE = MergeTree
PRIMARY KEY (bdu_identifier, bdu_identify_date)
ORDER BY (bdu_identifier, bdu_identify_date, bdu_name);

-- CVE rows with the package data of the newest snapshots.
CREATE OR REPLACE VIEW last_cve AS
SELECT
    C.*,
    LP.* EXCEPT (pkg_hash)
FROM Cve AS C
LEFT JOIN last_packages AS LP ON LP.pkg_hash = C.pkg_hash;
