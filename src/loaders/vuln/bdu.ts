/**
 * FSTEC BDU export (`vulxml.zip`, one XML file inside whose name varies, or the XML itself) →
 * Vulnerabilities rows. Each `<vul>` is converted XML→JSON (src/loaders/vuln/xml.ts) and kept in
 * vuln_json with the keys the API reads (`identifiers`, `cvss.vector{score,text}`,
 * `cvss3.vector{score,text}`, `cwes`); related CVE ids go to vuln_references as type `CVE`.
 * BDU has no CPE ranges: no CpeMatch rows. Dates (dd.mm.yyyy) are read as UTC midnight.
 */
import { mmhash } from "../../hash/index.ts";
import { RecordError, severityOf } from "./nvd.ts";
import type { VulnerabilityRow } from "./rows.ts";
import { parseElement, toJson, XmlError, type XmlValue } from "./xml.ts";

const BDU_ID = /^BDU:\d{4}-\d{5}$/;
const CVE_ID = /^CVE-\d{4}-\d{4,}$/;
/** Element names whose children are lists even when there is one. */
const LISTS = new Set(["identifiers/identifier", "vulnerable_software/soft", "cwes/cwe", "types/type"]);

type Obj = { [k: string]: XmlValue | XmlValue[] };

function str(v: unknown): string {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && !Array.isArray(v) && typeof (v as Obj).text === "string") return (v as Obj).text as string;
  return "";
}

/** "28.12.2014" → seconds since the epoch (UTC midnight); empty → undefined. */
export function bduDate(s: string, what: string): number | undefined {
  if (!s) return undefined;
  const m = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(s.trim());
  if (!m) throw new RecordError(`${what} ${JSON.stringify(s)} is not a date dd.mm.yyyy`);
  return Date.UTC(Number(m[3]), Number(m[2]) - 1, Number(m[1])) / 1000;
}

function score(v: XmlValue | XmlValue[] | undefined): number | undefined {
  const vec = v && typeof v === "object" && !Array.isArray(v) ? (v as Obj).vector : undefined;
  const s = vec && typeof vec === "object" && !Array.isArray(vec) ? Number((vec as Obj).score) : NaN;
  return Number.isFinite(s) ? s : undefined;
}

/** One `<vul>…</vul>` element's text → a Vulnerabilities row. */
export function bduRecordRow(xml: string): VulnerabilityRow {
  let json: Obj;
  try {
    const v = toJson(parseElement(xml), LISTS);
    if (typeof v === "string") throw new RecordError("empty <vul> element");
    json = v;
  } catch (e) {
    if (e instanceof XmlError) throw new RecordError(`bad XML: ${e.message}`);
    throw e;
  }
  const id = str(json.identifier).trim();
  if (!BDU_ID.test(id)) throw new RecordError(`bad BDU id ${JSON.stringify(id)}`);
  const s = score(json.cvss3) ?? score(json.cvss) ?? 0;
  const related: string[] = [];
  const ids = json.identifiers && typeof json.identifiers === "object" && !Array.isArray(json.identifiers) ? (json.identifiers as Obj).identifier : undefined;
  for (const x of Array.isArray(ids) ? ids : ids ? [ids] : []) {
    const t = str(x).trim();
    const type = typeof x === "object" && !Array.isArray(x) ? String((x as Obj).type ?? "") : "";
    if (CVE_ID.test(t) && (type === "" || type === "CVE") && !related.includes(t)) related.push(t);
  }
  const identified = bduDate(str(json.identify_date), `${id}: identify_date`);
  const published = bduDate(str(json.publication_date), `${id}: publication_date`) ?? identified;
  const modified = bduDate(str(json.last_upd_date), `${id}: last_upd_date`) ?? published;
  const text = JSON.stringify(json);
  return {
    vuln_id: id,
    vuln_hash: mmhash(text),
    vuln_type: "BDU",
    vuln_summary: str(json.description) || str(json.name),
    vuln_score: s,
    vuln_severity: severityOf(s),
    vuln_url: `https://bdu.fstec.ru/vul/${id.slice(4)}`,
    vuln_modified_date: modified ?? 0,
    vuln_published_date: published ?? 0,
    vuln_json: text,
    "vuln_references.type": related.map(() => "CVE"),
    "vuln_references.link": related,
    vuln_rejected: 0,
  };
}
