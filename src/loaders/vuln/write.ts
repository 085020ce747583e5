/**
 * Writing vulnerability records so that a rerun adds nothing, even read without FINAL: a
 * record version (vuln_id, vuln_hash) already stored is skipped, and the CpeMatch rows of a new
 * version are checked too (a load killed between the two inserts left them behind). CpeMatch is
 * written before Vulnerabilities, so a visible record version always has its ranges.
 */
import { insertRows, quoteString, type Db } from "../../db/index.ts";
import type { CpeDictionaryRow, CpeMatchRow, VulnerabilityRow } from "./rows.ts";

export interface RecordRows {
  vulnerability: VulnerabilityRow;
  cpeMatches: CpeMatchRow[];
}

/** CPE dictionary entry versions not stored yet; the same version twice in a batch once. */
export async function writeDictionary(db: Db, batch: CpeDictionaryRow[], counts: WriteCounts): Promise<void> {
  if (!batch.length) return;
  const unique = new Map(batch.map((r) => [`${r.cpe_name_id}:${r.cpe_version_hash}`, r]));
  const ids = [...new Set(batch.map((r) => r.cpe_name_id))];
  const known = new Set(
    (await db.query<{ k: string }>(`SELECT concat(cpe_name_id, ':', toString(cpe_version_hash)) AS k FROM CpeDictionary WHERE cpe_name_id IN (${ids.map(quoteString).join(",")})`)).map(
      (r) => r.k,
    ),
  );
  const fresh = [...unique.entries()].filter(([k]) => !known.has(k)).map(([, r]) => r);
  counts.unchanged += batch.length - fresh.length;
  counts.written += await insertRows(db, "CpeDictionary", fresh);
}

export interface WriteCounts {
  written: number;
  unchanged: number;
  cpeMatches: number;
}

export async function writeRecords(db: Db, batch: RecordRows[], counts: WriteCounts): Promise<void> {
  if (!batch.length) return;
  // the same version twice in one batch (duplicate records in a feed) is written once
  const unique = new Map<string, RecordRows>();
  for (const r of batch) unique.set(`${r.vulnerability.vuln_id}:${r.vulnerability.vuln_hash}`, r);
  const ids = [...new Set([...unique.values()].map((r) => r.vulnerability.vuln_id))];
  const known = new Set(
    (await db.query<{ k: string }>(`SELECT concat(vuln_id, ':', toString(vuln_hash)) AS k FROM Vulnerabilities WHERE vuln_id IN (${ids.map(quoteString).join(",")})`)).map(
      (r) => r.k,
    ),
  );
  const fresh = [...unique.entries()].filter(([k]) => !known.has(k)).map(([, r]) => r);
  counts.unchanged += batch.length - fresh.length;
  if (!fresh.length) return;
  // ranges left behind by a load killed between the two inserts (CpeMatch is ordered by vuln_id)
  const freshIds = [...new Set(fresh.map((r) => r.vulnerability.vuln_id))];
  const haveRanges = new Set(
    (
      await db.query<{ k: string }>(
        `SELECT concat(toString(vuln_hash), ':', toString(cpe_hash), ':', toString(cpm_version_hash)) AS k FROM CpeMatch
         WHERE vuln_id IN (${freshIds.map(quoteString).join(",")}) AND vuln_hash IN (${fresh.map((r) => r.vulnerability.vuln_hash).join(",")})`,
      )
    ).map((r) => r.k),
  );
  const ranges = fresh.flatMap((r) => r.cpeMatches).filter((m) => !haveRanges.has(`${m.vuln_hash}:${m.cpe_hash}:${m.cpm_version_hash}`));
  counts.cpeMatches += await insertRows(db, "CpeMatch", ranges);
  counts.written += await insertRows(
    db,
    "Vulnerabilities",
    fresh.map((r) => r.vulnerability),
  );
}
