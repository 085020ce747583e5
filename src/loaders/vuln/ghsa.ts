/**
 * GitHub security advisories in OSV JSON (the advisory-database layout: one file per advisory) →
 * Vulnerabilities rows. The record is kept as it is in vuln_json (`references`,
 * `severity[{type,score}]`, `database_specific.cwe_ids`); CVE aliases go to vuln_references as
 * type `CVE`; a withdrawn advisory is stored with vuln_rejected = 1. The score is computed from a
 * CVSS v3 vector (the OSV record carries the vector, not the number); otherwise the severity
 * comes from `database_specific.severity`. No CPE ranges: no CpeMatch rows.
 */
import { mmhash } from "../../hash/index.ts";
import { nvdTime, RecordError, severityOf } from "./nvd.ts";
import type { VulnerabilityRow } from "./rows.ts";

const GHSA_ID = /^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/;
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

const W: Record<string, Record<string, number>> = {
  AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
  AC: { L: 0.77, H: 0.44 },
  UI: { N: 0.85, R: 0.62 },
  C: { H: 0.56, L: 0.22, N: 0 },
  I: { H: 0.56, L: 0.22, N: 0 },
  A: { H: 0.56, L: 0.22, N: 0 },
};

/** CVSS v3.x "Roundup": the smallest number with one decimal that is ≥ x (v3.1's float-safe form). */
function roundup(x: number): number {
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
}

/** The base score of a CVSS v3.0/v3.1 vector, or undefined when it is not one. */
export function cvss3BaseScore(vector: string): number | undefined {
  const m = /^CVSS:3\.[01]\/(.*)$/.exec(vector.trim());
  if (!m) return undefined;
  const v: Record<string, string> = {};
  for (const part of m[1]!.split("/")) {
    const [k, val] = part.split(":");
    if (k && val) v[k] = val;
  }
  const scope = v.S;
  if (scope !== "U" && scope !== "C") return undefined;
  const pr = v.PR === "N" ? 0.85 : v.PR === "L" ? (scope === "C" ? 0.68 : 0.62) : v.PR === "H" ? (scope === "C" ? 0.5 : 0.27) : undefined;
  const av = W.AV![v.AV!];
  const ac = W.AC![v.AC!];
  const ui = W.UI![v.UI!];
  const c = W.C![v.C!];
  const i = W.I![v.I!];
  const a = W.A![v.A!];
  if ([pr, av, ac, ui, c, i, a].some((x) => x === undefined)) return undefined;
  const iss = 1 - (1 - c!) * (1 - i!) * (1 - a!);
  const impact = scope === "U" ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const expl = 8.22 * av! * ac! * pr! * ui!;
  if (impact <= 0) return 0;
  return scope === "U" ? roundup(Math.min(impact + expl, 10)) : roundup(Math.min(1.08 * (impact + expl), 10));
}

const SEVERITY: Record<string, string> = { CRITICAL: "CRITICAL", HIGH: "HIGH", MODERATE: "MEDIUM", MEDIUM: "MEDIUM", LOW: "LOW" };

interface Osv {
  id?: unknown;
  summary?: unknown;
  details?: unknown;
  aliases?: unknown;
  modified?: unknown;
  published?: unknown;
  withdrawn?: unknown;
  severity?: { type?: string; score?: string }[];
  database_specific?: { severity?: string };
}

export function ghsaRecordRow(record: unknown): VulnerabilityRow {
  const r = record as Osv;
  if (!r || typeof r !== "object" || Array.isArray(r)) throw new RecordError("not an OSV object");
  if (typeof r.id !== "string" || !GHSA_ID.test(r.id)) throw new RecordError(`bad GHSA id ${JSON.stringify(r.id)}`);
  const id = r.id;
  let score: number | undefined;
  for (const s of Array.isArray(r.severity) ? r.severity : [])
    if (s?.type === "CVSS_V3" && typeof s.score === "string") {
      score = cvss3BaseScore(s.score);
      if (score !== undefined) break;
    }
  const dbSeverity = SEVERITY[String(r.database_specific?.severity ?? "").toUpperCase()];
  const aliases = (Array.isArray(r.aliases) ? r.aliases : []).filter((a): a is string => typeof a === "string" && CVE_ID.test(a));
  const json = JSON.stringify(record);
  return {
    vuln_id: id,
    vuln_hash: mmhash(json),
    vuln_type: "GHSA",
    vuln_summary: String(r.summary || r.details || ""),
    vuln_score: score ?? 0,
    vuln_severity: score !== undefined ? severityOf(score) : (dbSeverity ?? "NONE"),
    vuln_url: `https://github.com/advisories/${id}`,
    vuln_modified_date: nvdTime(r.modified, `${id}: modified`),
    vuln_published_date: nvdTime(r.published ?? r.modified, `${id}: published`),
    vuln_json: json,
    "vuln_references.type": aliases.map(() => "CVE"),
    "vuln_references.link": aliases,
    vuln_rejected: r.withdrawn ? 1 : 0,
  };
}
