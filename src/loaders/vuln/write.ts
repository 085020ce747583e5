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
    (await db.query<{ k: string }>(`SELECT concat(cpe_name_id, ':', toString(cpe_version_hash)) AS k FROM CpeDictionary WHERE has([${ids.map(quoteString).join(",")}], cpe_name_id)`)).map(
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

/**
 * What is stored, read once per load instead of per batch (a lookup list per batch costs the
 * engine more than the whole insert): every stored (vuln_id, vuln_hash) pair of the source's type,
 * and the record versions whose ranges are in CpeMatch without their Vulnerabilities row.
 */
export interface StoredRecords {
  versions: Set<string>;
  orphans: Set<string>;
}

export async function storedRecords(db: Db, type: string): Promise<StoredRecords> {
  const versions = new Set(
    (await db.query<{ k: string }>(`SELECT concat(vuln_id, ':', toString(vuln_hash)) AS k FROM Vulnerabilities WHERE vuln_type = ${quoteString(type)}`)).map((r) => r.k),
  );
  const orphans = new Set(
    (await db.query<{ h: string }>("SELECT DISTINCT toString(vuln_hash) AS h FROM CpeMatch WHERE vuln_hash NOT IN (SELECT vuln_hash FROM Vulnerabilities)")).map((r) => r.h),
  );
  return { versions, orphans };
}

export async function writeRecords(db: Db, batch: RecordRows[], counts: WriteCounts, stored: StoredRecords): Promise<void> {
  if (!batch.length) return;
  // the same version twice (duplicate records in a feed, or in two files) is written once
  const fresh: RecordRows[] = [];
  for (const r of batch) {
    const k = `${r.vulnerability.vuln_id}:${r.vulnerability.vuln_hash}`;
    if (stored.versions.has(k)) continue;
    stored.versions.add(k);
    fresh.push(r);
  }
  counts.unchanged += batch.length - fresh.length;
  if (!fresh.length) return;
  // ranges left behind by a load killed between the two inserts (rare: only those versions are looked up)
  const left = fresh.filter((r) => stored.orphans.has(String(r.vulnerability.vuln_hash)));
  const haveRanges = new Set<string>();
  if (left.length)
    for (const r of await db.query<{ k: string }>(
      `SELECT concat(toString(vuln_hash), ':', toString(cpe_hash), ':', toString(cpm_version_hash)) AS k FROM CpeMatch
       WHERE has([${left.map((r) => r.vulnerability.vuln_hash).join(",")}], vuln_hash)`,
    ))
      haveRanges.add(r.k);
  const ranges = fresh.flatMap((r) => r.cpeMatches).filter((m) => !haveRanges.has(`${m.vuln_hash}:${m.cpe_hash}:${m.cpm_version_hash}`));
  counts.cpeMatches += await insertRows(db, "CpeMatch", ranges);
  counts.written += await insertRows(
    db,
    "Vulnerabilities",
    fresh.map((r) => r.vulnerability),
  );
}
