/**
 * NVD CVE API 2.0 records → Vulnerabilities and CpeMatch rows (pure; schema-newer-tables.md
 * §2.5–§2.6). A record is one item of `vulnerabilities[]`: `{"cve": {...}}`, kept as it is in
 * `vuln_json`. Times in NVD records are UTC without a zone and are read as UTC.
 */
import { mmhash } from "../../hash/index.ts";
import type { CpeMatchRow, VulnerabilityRow } from "./rows.ts";

export class RecordError extends Error {
  override name = "RecordError";
}

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

/** "2024-01-02T03:04:05.123" (UTC, no zone) → seconds since the epoch. */
export function nvdTime(s: unknown, what: string): number {
  if (typeof s !== "string") throw new RecordError(`${what} is missing`);
  const iso = /[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) throw new RecordError(`${what} ${JSON.stringify(s)} is not a time`);
  return Math.floor(t / 1000);
}

interface Metric {
  type?: string;
  baseSeverity?: string;
  cvssData?: { baseScore?: number; baseSeverity?: string };
}

/** Score and severity from the newest CVSS version the record has (v4.0, v3.1, v3.0, v2), Primary first. */
export function cvss(metrics: Record<string, Metric[] | undefined> | undefined): { score: number; severity: string } {
  for (const key of ["cvssMetricV40", "cvssMetricV31", "cvssMetricV30", "cvssMetricV2"]) {
    const list = metrics?.[key];
    if (!Array.isArray(list) || !list.length) continue;
    const m = list.find((x) => x?.type === "Primary") ?? list[0]!;
    const score = Number(m?.cvssData?.baseScore);
    if (!Number.isFinite(score)) continue;
    const severity = String(m.cvssData?.baseSeverity ?? m.baseSeverity ?? "").toUpperCase();
    return { score, severity: severity || severityOf(score) };
  }
  return { score: 0, severity: "NONE" };
}

/** CVSS severity band of a base score. */
export function severityOf(score: number): string {
  return score >= 9 ? "CRITICAL" : score >= 7 ? "HIGH" : score >= 4 ? "MEDIUM" : score > 0 ? "LOW" : "NONE";
}

/** cpm_version_hash: the version range tuple. */
export function versionHash(start: string, startExcluded: number, end: string, endExcluded: number): bigint {
  return mmhash(`${start}\u0000${startExcluded}\u0000${end}\u0000${endExcluded}`);
}

export interface NvdRows {
  vulnerability: VulnerabilityRow;
  cpeMatches: CpeMatchRow[];
}

interface NvdCpeMatch {
  vulnerable?: boolean;
  criteria?: string;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
}

/** One `vulnerabilities[]` item → rows; a record without a valid id or times throws a RecordError. */
export function nvdRecordRows(item: unknown): NvdRows {
  const cve = (item as { cve?: Record<string, unknown> })?.cve;
  if (!cve || typeof cve !== "object") throw new RecordError("no `cve` object");
  const id = cve.id;
  if (typeof id !== "string" || !CVE_ID.test(id)) throw new RecordError(`bad CVE id ${JSON.stringify(id)}`);
  const json = JSON.stringify({ cve });
  const vulnHash = mmhash(json);
  const descriptions = Array.isArray(cve.descriptions) ? (cve.descriptions as { lang?: string; value?: string }[]) : [];
  const summary = (descriptions.find((d) => d?.lang === "en") ?? descriptions[0])?.value ?? "";
  const { score, severity } = cvss(cve.metrics as Record<string, Metric[]>);
  const refs = Array.isArray(cve.references) ? (cve.references as { url?: string }[]) : [];
  const links = refs.map((r) => r?.url).filter((u): u is string => typeof u === "string");
  const vulnerability: VulnerabilityRow = {
    vuln_id: id,
    vuln_hash: vulnHash,
    vuln_type: "CVE",
    vuln_summary: String(summary),
    vuln_score: score,
    vuln_severity: severity,
    vuln_url: `https://nvd.nist.gov/vuln/detail/${id}`,
    vuln_modified_date: nvdTime(cve.lastModified, `${id}: lastModified`),
    vuln_published_date: nvdTime(cve.published, `${id}: published`),
    vuln_json: json,
    "vuln_references.type": links.map(() => "URL"),
    "vuln_references.link": links,
    vuln_rejected: cve.vulnStatus === "Rejected" ? 1 : 0,
  };
  const cpeMatches: CpeMatchRow[] = [];
  const seen = new Set<string>();
  const configs = Array.isArray(cve.configurations) ? (cve.configurations as { nodes?: { cpeMatch?: NvdCpeMatch[] }[] }[]) : [];
  for (const conf of configs)
    for (const node of conf?.nodes ?? [])
      for (const m of node?.cpeMatch ?? []) {
        // `vulnerable: false` entries (platforms a CVE runs on) never count
        if (m?.vulnerable !== true || typeof m.criteria !== "string") continue;
        const start = m.versionStartIncluding ?? m.versionStartExcluding ?? "";
        const startEx = m.versionStartExcluding !== undefined ? 1 : 0;
        const end = m.versionEndIncluding ?? m.versionEndExcluding ?? "";
        const endEx = m.versionEndExcluding !== undefined ? 1 : 0;
        const row: CpeMatchRow = {
          vuln_id: id,
          vuln_hash: vulnHash,
          cpe_hash: mmhash(m.criteria),
          cpm_cpe: m.criteria,
          cpm_version_start: start,
          cpm_version_end: end,
          cpm_version_start_excluded: startEx,
          cpm_version_end_excluded: endEx,
          cpm_version_hash: versionHash(start, startEx, end, endEx),
        };
        const key = `${row.cpe_hash}:${row.cpm_version_hash}`;
        if (seen.has(key)) continue;
        seen.add(key);
        cpeMatches.push(row);
      }
  return { vulnerability, cpeMatches };
}
