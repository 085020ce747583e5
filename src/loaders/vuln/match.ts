/**
 * `vuln match [--branch B]`: every source package of the latest complete package set of each
 * branch against the current CpeMatch ranges → PackagesCveMatch and PackagesVulnerabilityStatus.
 *
 * A source package reaches CPEs through its Repology project (PackagesNameConversion rows of the
 * branch's Repology repo), or under its own name when Repology has none; CPE rows are keyed by the
 * project name. Matching itself is the pure src/cpe/match.ts. Only what changed is written: a
 * match row whose key_hash is new or whose is_vulnerable differs from the latest stored one, a
 * status row that is not stored yet; a rerun writes nothing. Lists sent to the server are chunked,
 * so no query text grows with the database.
 */
import { parseCpe, productKey } from "../../cpe/index.ts";
import { CpeMatchIndex, matchPackages, type MatchPackage } from "../../cpe/match.ts";
import { insertRows, quoteString, type Db } from "../../db/index.ts";
import type { FailedItem, LoadContext } from "../context.ts";
import { chunks } from "../chunks.ts";
import { srpmHashesSql } from "../pkgset-sql.ts";
import { InputError, throwIfAborted } from "../errors.ts";
import type { CpeMatchRow, PackageCveMatchRow, PackageVulnerabilityStatusRow } from "./rows.ts";

export interface MatchInput {
  branch?: string;
  dryRun?: boolean;
}

export interface BranchMatchReport {
  branch: string;
  date: string;
  packages: number;
  mapped_packages: number;
  matches: number;
  vulnerable: number;
  written_matches: number;
  written_status: number;
}

export interface MatchReport {
  branches: BranchMatchReport[];
  rejected: FailedItem[];
  complete: boolean;
  seconds: number;
}

/** Repology repo id of a branch (schema-newer-tables.md §2.7), or undefined. */
export function repologyRepo(branch: string): string | undefined {
  const b = branch.toLowerCase();
  if (b.startsWith("sisyphus")) return "altsisyphus";
  if (b === "p9" || b.startsWith("c9f") || b.startsWith("p9_")) return "alt_p9";
  if (b === "p10" || b.startsWith("c10f") || b === "p10_e2k") return "alt_p10";
  if (b === "p11") return "alt_p11";
  return undefined;
}

async function activePairs(db: Db, pncType: string): Promise<Map<string, string[]>> {
  const rows = await db.query<{ pkg_name: string; pnc_result: string }>(
    `SELECT pkg_name, pnc_result FROM (SELECT pkg_name, pnc_result, argMax(pnc_state, ts) AS st FROM PackagesNameConversion
     WHERE pnc_type = ${quoteString(pncType)} GROUP BY pkg_name, pnc_result) WHERE st = 'active'`,
  );
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const l = out.get(r.pkg_name);
    if (l) l.push(r.pnc_result);
    else out.set(r.pkg_name, [r.pnc_result]);
  }
  return out;
}

export async function matchVulnerabilities(ctx: LoadContext, input: MatchInput): Promise<MatchReport> {
  const started = performance.now();
  const db = ctx.db;
  const sets = await db.query<{ branch: string; ruuid: string; date: string }>(
    `SELECT pkgset_nodename AS branch, toString(argMax(pkgset_ruuid, pkgset_date)) AS ruuid, toString(max(pkgset_date)) AS date
     FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_complete = 1
     ${input.branch ? `AND pkgset_nodename = ${quoteString(input.branch)}` : ""} GROUP BY pkgset_nodename ORDER BY branch`,
  );
  if (input.branch && !sets.length) throw new InputError(`branch ${input.branch} has no complete package set in the database`);
  const cpesOf = await activePairs(db, "cpe");
  const rejected: FailedItem[] = [];
  const branches: BranchMatchReport[] = [];
  for (const set of sets) {
    throwIfAborted(ctx.signal);
    const repo = repologyRepo(set.branch);
    const projectsOf = repo ? await activePairs(db, repo) : new Map<string, string[]>();
    const inSet = srpmHashesSql(set.ruuid);
    const pkgs = await db.query<{ pkg_hash: bigint; pkg_name: string; pkg_version: string }>(
      `SELECT DISTINCT pkg_hash, pkg_name, pkg_version FROM Packages WHERE pkg_sourcepackage = 1 AND pkg_hash IN (${inSet})`,
    );
    const packages: MatchPackage[] = [];
    const keys = new Set<string>();
    for (const p of pkgs) {
      const projects = projectsOf.get(p.pkg_name) ?? [p.pkg_name];
      const cpes = [...new Set(projects.flatMap((pr) => cpesOf.get(pr) ?? []))];
      if (!cpes.length) continue;
      packages.push({ pkg_hash: BigInt(p.pkg_hash), pkg_name: p.pkg_name, pkg_version: p.pkg_version, cpes });
      for (const c of cpes) {
        try {
          keys.add(productKey(parseCpe(c)));
        } catch {
          // reported by the matcher
        }
      }
    }
    const index = await loadIndex(db, [...keys]);
    for (const b of index.bad) rejected.push({ path: `CpeMatch ${b.cpe}`, error: b.error });
    const { rows, badPackageCpes } = matchPackages(packages, index);
    for (const b of badPackageCpes) rejected.push({ path: `PackagesNameConversion ${b.pkg_name}`, error: b.error });
    const newMatches = await changedMatches(db, rows, inSet);
    const status = statusRows(rows, set.branch);
    const { insert: newStatus, stale } = await syncStatus(db, status, set.branch, inSet);
    if (!input.dryRun) {
      await insertRows(db, "PackagesCveMatch", newMatches);
      await deleteStale(db, set.branch, stale);
      await insertRows(db, "PackagesVulnerabilityStatus", newStatus);
    }
    branches.push({
      branch: set.branch,
      date: set.date,
      packages: pkgs.length,
      mapped_packages: packages.length,
      matches: rows.length,
      vulnerable: rows.filter((r) => r.is_vulnerable).length,
      written_matches: newMatches.length,
      written_status: newStatus.length,
    });
    ctx.log.info(`vuln match ${set.branch}@${set.date}: ${packages.length} of ${pkgs.length} source packages mapped to CPEs, ${rows.length} matches, ${newMatches.length} new rows`);
  }
  return { branches, rejected, complete: rejected.length === 0, seconds: (performance.now() - started) / 1000 };
}

/** The current version of every record that is not rejected, as "id:hash". */
async function currentVersions(db: Db): Promise<Set<string>> {
  const rows = await db.query<{ k: string }>(
    `SELECT concat(vuln_id, ':', toString(argMax(vuln_hash, ts))) AS k FROM Vulnerabilities GROUP BY vuln_id HAVING argMax(vuln_rejected, ts) = 0`,
  );
  return new Set(rows.map((r) => r.k));
}

/**
 * Current (latest, not rejected) record versions' ranges for the given part:vendor:product keys:
 * one query for the products any CPE mapping names (the key list stays on the server), then only
 * the keys this branch needs are indexed.
 */
async function loadIndex(db: Db, keys: string[]): Promise<CpeMatchIndex> {
  const index = new CpeMatchIndex();
  if (!keys.length) return index;
  const want = new Set(keys);
  const current = await currentVersions(db);
  const product = (col: string) => `arrayStringConcat(arraySlice(splitByChar(':', ${col}), 3, 3), ':')`;
  const rows = await db.query<CpeMatchRow & { k: string }>(
    `SELECT vuln_id, vuln_hash, cpe_hash, cpm_cpe, cpm_version_start, cpm_version_end, cpm_version_start_excluded,
            cpm_version_end_excluded, cpm_version_hash, ${product("cpm_cpe")} AS k
     FROM CpeMatch
     WHERE k IN (SELECT DISTINCT ${product("pnc_result")} FROM PackagesNameConversion WHERE pnc_type = 'cpe')`,
  );
  const seen = new Set<string>();
  for (const r of rows) {
    if (!want.has(r.k) || !current.has(`${r.vuln_id}:${r.vuln_hash}`)) continue;
    const k = `${r.vuln_hash}:${r.cpe_hash}:${r.cpm_version_hash}`;
    if (seen.has(k)) continue; // a ReplacingMergeTree duplicate not merged yet
    seen.add(k);
    const { k: _k, ...row } = r;
    index.add({ ...row, vuln_hash: BigInt(r.vuln_hash), cpe_hash: BigInt(r.cpe_hash), cpm_version_hash: BigInt(r.cpm_version_hash) });
  }
  return index;
}

/** Match rows that are new, or whose is_vulnerable differs from the latest stored row of their key. */
async function changedMatches(db: Db, rows: PackageCveMatchRow[], inSet: string): Promise<PackageCveMatchRow[]> {
  const latest = new Map<bigint, number>();
  if (rows.length)
    for (const r of await db.query<{ key_hash: bigint; v: number }>(
      `SELECT key_hash, argMax(is_vulnerable, ts) AS v FROM PackagesCveMatch WHERE pkg_hash IN (${inSet}) GROUP BY key_hash`,
    ))
      latest.set(BigInt(r.key_hash), Number(r.v));
  const seen = new Set<bigint>();
  return rows.filter((r) => {
    if (seen.has(r.key_hash)) return false;
    seen.add(r.key_hash);
    return latest.get(r.key_hash) !== r.is_vulnerable;
  });
}

/** One status row per (package, vulnerability): vulnerable when any of its matches is. */
function statusRows(rows: PackageCveMatchRow[], branch: string): PackageVulnerabilityStatusRow[] {
  const by = new Map<string, PackageVulnerabilityStatusRow>();
  for (const r of rows) {
    const k = `${r.pkg_hash}:${r.vuln_id}`;
    const s = by.get(k);
    if (s) s.is_vulnerable = Math.max(s.is_vulnerable, r.is_vulnerable);
    else by.set(k, { pkg_hash: r.pkg_hash, pkg_name: r.pkg_name, pkgset_name: branch, vuln_id: r.vuln_id, vuln_hash: r.vuln_hash, is_vulnerable: r.is_vulnerable, is_fixed: 0 });
  }
  return [...by.values()];
}

/**
 * Status rows to write, and (package, vulnerability) pairs whose stored rows must go first: "open"
 * is read over all rows of a pair without ts, so a pair whose answer changed (a new record version,
 * no longer vulnerable) is replaced, not appended to.
 */
async function syncStatus(
  db: Db,
  rows: PackageVulnerabilityStatusRow[],
  branch: string,
  inSet: string,
): Promise<{ insert: PackageVulnerabilityStatusRow[]; stale: { pkg_hash: bigint; vuln_id: string }[] }> {
  const stored = new Map<string, Set<string>>();
  for (const r of await db.query<{ p: string; k: string }>(
    `SELECT concat(toString(pkg_hash), ':', vuln_id) AS p, concat(toString(vuln_hash), ':', toString(is_vulnerable), ':', toString(is_fixed)) AS k
     FROM PackagesVulnerabilityStatus WHERE pkgset_name = ${quoteString(branch)} AND pkg_hash IN (${inSet})`,
  )) {
      const set = stored.get(r.p);
      if (set) set.add(r.k);
      else stored.set(r.p, new Set([r.k]));
    }
  const insert: PackageVulnerabilityStatusRow[] = [];
  const stale: { pkg_hash: bigint; vuln_id: string }[] = [];
  for (const r of rows) {
    const have = stored.get(`${r.pkg_hash}:${r.vuln_id}`);
    const want = `${r.vuln_hash}:${r.is_vulnerable}:${r.is_fixed}`;
    if (have?.size === 1 && have.has(want)) continue;
    if (have) stale.push({ pkg_hash: r.pkg_hash, vuln_id: r.vuln_id });
    insert.push(r);
  }
  return { insert, stale };
}

async function deleteStale(db: Db, branch: string, stale: { pkg_hash: bigint; vuln_id: string }[]): Promise<void> {
  for (const part of chunks(stale))
    await db.command(
      `DELETE FROM PackagesVulnerabilityStatus WHERE pkgset_name = ${quoteString(branch)} AND (pkg_hash, vuln_id) IN (${part
        .map((s) => `(${s.pkg_hash}, ${quoteString(s.vuln_id)})`)
        .join(",")})`,
    );
}
