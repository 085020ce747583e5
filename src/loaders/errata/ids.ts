/**
 * Vulnerability ids in changelog text (schema-newer-tables.md §3.3 "Errata generation"):
 * `CVE-YYYY-NNNN…`, `BDU:YYYY-NNNNN`, `OVE-YYYYMMDD-NNNN`, `MFSA YYYY-NN` (any case, upper-cased,
 * MFSA written `MFSA-YYYY-NN`). Unlike the reference's bare regex, an id must stand as a word of
 * its own (`XCVE-…`, `CVE-2024-12345678901` cut short are not ids), and ids inside URLs are not
 * taken (a link to another advisory is not a claim that this one is fixed). What looks like an id
 * but is not one (`CVE-2024-1`) is counted, for the report.
 */
const ID = /(?<![A-Za-z0-9])(CVE-\d{4}-\d{4,}|BDU:\d{4}-\d{5}|OVE-\d{8}-\d{4}|MFSA[- ]+\d{4}-\d{2})(?![0-9A-Za-z])/gi;
const LOOKALIKE = /(?<![A-Za-z0-9])(CVE-\d+-\d+|BDU:\d+-\d+|OVE-\d+-\d+|MFSA[- ]*\d+-\d+)/gi;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

export interface FoundIds {
  ids: string[];
  /** id-like strings that are not ids, and ids only seen inside URLs */
  ignored: string[];
}

export function normaliseId(s: string): string {
  return s.toUpperCase().replace(/^MFSA[- ]+/, "MFSA-");
}

export function findVulnIds(text: string): FoundIds {
  const ids = new Set<string>();
  const ignored: string[] = [];
  const bare = text.replace(URL, (u) => {
    for (const m of u.matchAll(LOOKALIKE)) ignored.push(m[0]);
    return " ";
  });
  for (const m of bare.matchAll(ID)) ids.add(normaliseId(m[1]!));
  for (const m of bare.matchAll(LOOKALIKE)) {
    ID.lastIndex = 0;
    const whole = new RegExp(`^${ID.source}$`, "i");
    if (!whole.test(m[0])) ignored.push(m[0]);
  }
  return { ids: [...ids].sort(), ignored };
}
