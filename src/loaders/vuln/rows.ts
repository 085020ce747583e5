/** Plain rows of the vulnerability tables (sql/0003_newer_tables.sql, sql/0104_vulnerabilities.sql). */
export type { CpeMatchRow, PackageCveMatchRow } from "../../cpe/match.ts";

export interface VulnerabilityRow {
  vuln_id: string;
  vuln_hash: bigint;
  vuln_type: string;
  vuln_summary: string;
  vuln_score: number;
  vuln_severity: string;
  vuln_url: string;
  /** seconds since the epoch, UTC */
  vuln_modified_date: number;
  vuln_published_date: number;
  vuln_json: string;
  "vuln_references.type": string[];
  "vuln_references.link": string[];
  vuln_rejected: number;
}

export interface PackageVulnerabilityStatusRow {
  pkg_hash: bigint;
  pkg_name: string;
  pkgset_name: string;
  vuln_id: string;
  vuln_hash: bigint;
  is_vulnerable: number;
  is_fixed: number;
}

export interface NameConversionRow {
  pkg_name: string;
  pnc_state: string;
  pnc_result: string;
  pnc_type: string;
  pnc_source: string;
}

export interface CpeDictionaryRow {
  cpe_name_id: string;
  cpe_name: string;
  cpe_hash: bigint;
  cpe_version_hash: bigint;
  cpe_title: string;
  cpe_deprecated: number;
  cpe_created: number;
  cpe_modified: number;
  cpe_json: string;
}
