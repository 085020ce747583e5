/**
 * The package-set tree of one load (reference §2.13): root / srpm / arch / component nodes in
 * PackageSetName, members in PackageSet. Node ids are derived from (branch, date, node), so a
 * rerun of the same load addresses the same rows: an interrupted load is replaced, not doubled.
 */
import { quoteString, type Db } from "../../db";
import { nameRow, nameUuid, ZERO_UUID, type PackageSetNameRow } from "../pkgset-sql.ts";

export { nameRow, ZERO_UUID, type PackageSetNameRow };

export function nodeUuid(branch: string, date: string, node: string): string {
  return nameUuid(`altrepodb:pkgset:${branch}:${date}:${node}`);
}

export interface PkgsetNode {
  uuid: string;
  puuid: string;
  depth: number;
  name: string;
  kv: [string, string][];
  /** Members written to PackageSet (src and component nodes only). */
  members?: readonly bigint[];
}

export interface ExistingLoad {
  ruuid: string;
  complete: boolean;
}

/** Root rows already stored for this branch and date (ours or written by another tool). */
export async function existingLoads(db: Db, branch: string, dateEpoch: number): Promise<ExistingLoad[]> {
  const rows = await db.query<{ ruuid: string; complete: number }>(
    `SELECT toString(pkgset_ruuid) AS ruuid, max(pkgset_complete) AS complete FROM PackageSetName
     WHERE pkgset_depth = 0 AND pkgset_nodename = ${quoteString(branch)} AND pkgset_date = toDateTime(${dateEpoch}, 'UTC')
     GROUP BY pkgset_ruuid`,
  );
  return rows.map((r) => ({ ruuid: r.ruuid, complete: Number(r.complete) === 1 }));
}

/**
 * Removes every row of a load (all its nodes and members). The node ids are read first and
 * deleted as literals: a replicated table (cluster mode) refuses a mutation whose condition reads
 * another table.
 */
export async function deleteLoad(db: Db, ruuid: string): Promise<void> {
  const nodes = await db.query<{ u: string }>(`SELECT DISTINCT toString(pkgset_uuid) AS u FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(ruuid)})`);
  await clearMembers(db, nodes.map((n) => n.u));
  await db.command(`DELETE FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(ruuid)})`);
}

/** Rows of this load's own ids left by an interrupted run (no root yet). */
export async function hasPartialRows(db: Db, ruuid: string): Promise<boolean> {
  const r = await db.query<{ n: bigint }>(`SELECT count() AS n FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(ruuid)})`);
  return r[0].n > 0n;
}

/**
 * Removes members left under these node ids by an interrupted run (PackageSet rows are written
 * before the PackageSetName row that names their node, so a crash in between leaves rows that
 * no node points to yet). The ids are derived from (branch, date, node): a rerun writes the same.
 */
export async function clearMembers(db: Db, uuids: readonly string[]): Promise<void> {
  if (uuids.length === 0) return;
  const list = `(${uuids.map((u) => `toUUID(${quoteString(u)})`).join(", ")})`;
  const [r] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM PackageSet WHERE pkgset_uuid IN ${list}`);
  if (r.n > 0n) await db.command(`DELETE FROM PackageSet WHERE pkgset_uuid IN ${list}`);
}
