-- 0106_insert_dedup: a batch insert sent twice (the http driver retries an insert whose answer
-- was lost, with the same insert_deduplication_token) is stored once on a single server too.
-- A non-replicated MergeTree table drops a repeated block only within its
-- non_replicated_deduplication_window (0 by default: no deduplication at all); Replicated tables
-- use replicated_deduplication_window instead and accept this setting without using it.
-- Set on every MergeTree-family table the loaders insert into and on every materialized view
-- target (Files, FileNames, Specfiles, ... through Files_insert / Specfiles_insert; the driver
-- sends deduplicate_blocks_in_dependent_materialized_views=1 with a token). Not set on the
-- ALTRepo API's own tables (0004) nor on altrepodb_* bookkeeping tables, whose plain
-- INSERT … VALUES may legitimately repeat a row.
-- MODIFY SETTING is idempotent. Conventions: sql/README.md.

ALTER TABLE Acl MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE AntivirusScanStatus MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE BeehiveStatus MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE BranchPackageHistory MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Bugzilla MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Changelog MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE CpeMatch MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Cve MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE CveAbsentPackages MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE CveChecked MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Depends MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE ErrataChangeHistory MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE ErrataHistory MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE FileNames MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE FileSearch MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Files MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE FstecBduList MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE GlobalSearch MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE ImagePackageSetName MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE ImageStatus MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE ImageTagStatus MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE LicenseAliases MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackageHash MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackageSet MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackageSetName MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Packages MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackagesCveMatch MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackagesNameConversion MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackagesRepocop MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackagesSourceAndBinaries MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackagesVulnerabilityStatus MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE PackagesWatch MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE RepositoryStatus MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE SPDXLicenses MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Specfiles MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE SrcPackagesLastChangelog MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE StaticLastPackages MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskApprovals MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskChroots MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskIterations MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskLogs MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskPlanPackages MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskPlanPkgHash MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskProgress MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskStates MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE TaskSubtaskProgress MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Tasks MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE Vulnerabilities MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE last_acl_stage1 MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE last_packages_stage1 MODIFY SETTING non_replicated_deduplication_window = 1000;
