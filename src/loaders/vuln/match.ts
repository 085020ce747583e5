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
import { CpeError, parseCpe, productKey } from "../../cpe/index.ts";
import { CpeMatchIndex, matchPackages, type MatchPackage } from "../../cpe/match.ts";
import { BatchWriter, insertRows, quoteString, type Db } from "../../db/index.ts";
import type { FailedItem, LoadContext } from "../context.ts";
import { chunks } from "../chunks.ts";
import { srpmHashesSql } from "../pkgset-sql.ts";
import { InputError, throwIfAborted } from "../errors.ts";
import type { CpeMatchRow, PackageCveMatchRow, PackageVulnerabilityStatusRow } from "./rows.ts";

export interface MatchInput {
  branch?: string;
  dryRun?: boolean;
  /** candidate (package, range) pairs per chunk (default CHUNK_CANDIDATES; tests make it small) */
  chunkCandidates?: number;
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
  const badRanges = new Set<string>();
  const branches: BranchMatchReport[] = [];
  try {
    for (const set of sets) {
      throwIfAborted(ctx.signal);
      const repo = repologyRepo(set.branch);
      const projectsOf = repo ? await activePairs(db, repo) : new Map<string, string[]>();
      const inSet = srpmHashesSql(set.ruuid);
      const pkgs = await db.query<{ pkg_hash: bigint; pkg_name: string; pkg_version: string }>(
        `SELECT DISTINCT pkg_hash, pkg_name, pkg_version FROM Packages WHERE pkg_sourcepackage = 1 AND pkg_hash IN (${inSet})`,
      );
      const rep: BranchMatchReport = { branch: set.branch, date: set.date, packages: pkgs.length, mapped_packages: 0, matches: 0, vulnerable: 0, written_matches: 0, written_status: 0 };
      // each mapped package with its CPEs that parse, and the products they name
      const mapped: { pkg: MatchPackage; keys: string[] }[] = [];
      for (const p of pkgs) {
        const projects = projectsOf.get(p.pkg_name) ?? [p.pkg_name];
        const cpes = [...new Set(projects.flatMap((pr) => cpesOf.get(pr) ?? []))];
        if (!cpes.length) continue;
        rep.mapped_packages++;
        const good: string[] = [];
        const keys = new Set<string>();
        for (const c of cpes) {
          try {
            keys.add(productKey(parseCpe(c)));
            good.push(c);
          } catch (e) {
            if (!(e instanceof CpeError)) throw e;
            rejected.push({ path: `PackagesNameConversion ${p.pkg_name}`, error: e.message });
          }
        }
        if (good.length) mapped.push({ pkg: { pkg_hash: BigInt(p.pkg_hash), pkg_name: p.pkg_name, pkg_version: p.pkg_version, cpes: good }, keys: [...keys].sort() });
      }
      const counts = await currentRanges(db, [...new Set(mapped.flatMap((m) => m.keys))]);
      // rows of several chunks go out in one insert (fewer, larger parts); a chunk's stale status
      // rows are deleted before its new ones are added, so the delete never meets them
      const out = input.dryRun ? undefined : await BatchWriter.open(db, ["PackagesCveMatch", "PackagesVulnerabilityStatus"], { maxRows: WRITE_ROWS });
      for (const part of await assignChunks(db, mapped, counts, input.chunkCandidates ?? CHUNK_CANDIDATES)) {
        throwIfAborted(ctx.signal);
        const index = new CpeMatchIndex();
        for (const r of await db.query<CpeMatchRow>(`SELECT * EXCEPT k FROM ${RANGES} WHERE k IN (SELECT k FROM ${CHUNK_KEYS} WHERE chunk = ${part.chunk})`)) {
          r.vuln_hash = BigInt(r.vuln_hash);
          r.cpe_hash = BigInt(r.cpe_hash);
          r.cpm_version_hash = BigInt(r.cpm_version_hash);
          index.add(r);
        }
        for (const b of index.bad) if (!badRanges.has(b.cpe)) badRanges.add(b.cpe) && rejected.push({ path: `CpeMatch ${b.cpe}`, error: b.error });
        const { rows } = matchPackages(part.packages, index);
        const chunkSql = `SELECT pkg_hash FROM ${CHUNK_PKGS} WHERE chunk = ${part.chunk}`;
        const newMatches = await changedMatches(db, rows, chunkSql);
        const { insert: newStatus, stale } = await syncStatus(db, statusRows(rows, set.branch), set.branch, chunkSql);
        if (!input.dryRun) {
          for (const r of newMatches) await out!.add("PackagesCveMatch", r);
          await deleteStale(db, set.branch, stale);
          for (const r of newStatus) await out!.add("PackagesVulnerabilityStatus", r);
        }
        rep.matches += rows.length;
        for (const r of rows) rep.vulnerable += r.is_vulnerable;
        rep.written_matches += newMatches.length;
        rep.written_status += newStatus.length;
      }
      await out?.close();
      branches.push(rep);
      ctx.log.info(`vuln match ${set.branch}@${set.date}: ${rep.mapped_packages} of ${pkgs.length} source packages mapped to CPEs, ${rep.matches} matches, ${rep.written_matches} new rows`);
    }
  } finally {
    for (const t of [KEYS, RANGES, CHUNK_KEYS, CHUNK_PKGS]) await db.command(`DROP TEMPORARY TABLE IF EXISTS ${t}`).catch(() => {});
  }
  return { branches, rejected, complete: rejected.length === 0, seconds: (performance.now() - started) / 1000 };
}

// Scratch tables of one match run (temporary: they live in this connection's session only).
const KEYS = "_altrepodb_match_keys";
const RANGES = "_altrepodb_match_ranges";
const CHUNK_KEYS = "_altrepodb_match_chunk_keys";
const CHUNK_PKGS = "_altrepodb_match_chunk_pkgs";
/** candidate (package, range) pairs matched and written at a time: bounds the memory of a run */
const CHUNK_CANDIDATES = 30_000;
/** rows written per insert */
const WRITE_ROWS = 100_000;

async function upload(db: Db, table: string, columns: string, rows: object[]): Promise<void> {
  await db.command(`DROP TEMPORARY TABLE IF EXISTS ${table}`);
  await db.command(`CREATE TEMPORARY TABLE ${table} (${columns}) ENGINE = Memory`);
  await insertRows(db, table, rows);
}

/**
 * The ranges of the current (latest, not rejected) record versions for the given
 * part:vendor:product keys, copied once into a scratch table ordered by product (the join stays
 * on the server; a ReplacingMergeTree duplicate not merged yet is one row: LIMIT 1 BY); returns the number of
 * ranges per product.
 */
async function currentRanges(db: Db, keys: string[]): Promise<Map<string, number>> {
  await upload(db, KEYS, "k String", keys.map((k) => ({ k })));
  // part:vendor:product of a 2.3 criteria ("" for anything else: such a row matches nothing, as before)
  const product = "extract(cpm_cpe, '^cpe:2\\\\.3:([^:]*:[^:]*:[^:]*)')";
  await db.command(`DROP TEMPORARY TABLE IF EXISTS ${RANGES}`);
  await db.command(
    `CREATE TEMPORARY TABLE ${RANGES} ENGINE = MergeTree ORDER BY k SETTINGS index_granularity = 1024 AS
     SELECT vuln_id, vuln_hash, cpe_hash, cpm_cpe, cpm_version_start, cpm_version_end, cpm_version_start_excluded,
            cpm_version_end_excluded, cpm_version_hash, ${product} AS k
     FROM CpeMatch
     WHERE k IN (SELECT k FROM ${KEYS})
       AND (vuln_id, vuln_hash) IN (SELECT vuln_id, argMax(vuln_hash, ts) FROM Vulnerabilities GROUP BY vuln_id HAVING argMax(vuln_rejected, ts) = 0)
     LIMIT 1 BY vuln_hash, cpe_hash, cpm_version_hash`,
  );
  const counts = new Map<string, number>();
  for (const r of await db.query<{ k: string; n: number }>(`SELECT k, count() AS n FROM ${RANGES} GROUP BY k`)) counts.set(r.k, Number(r.n));
  return counts;
}

interface Chunk {
  chunk: number;
  packages: MatchPackage[];
}

/**
 * Packages in chunks of about `limit` candidate pairs, in product order (so a chunk's
 * ranges lie together in the scratch table); a package is in one chunk with all its CPEs, so its
 * status rows are decided in one place. Packages whose products have no range are left out.
 */
async function assignChunks(db: Db, mapped: { pkg: MatchPackage; keys: string[] }[], counts: Map<string, number>, limit: number): Promise<Chunk[]> {
  const out: Chunk[] = [];
  const chunkKeys: { chunk: number; k: string }[] = [];
  const chunkPkgs: { chunk: number; pkg_hash: bigint }[] = [];
  let cur: Chunk | undefined;
  let size = 0;
  const sorted = mapped.filter((m) => m.keys.some((k) => counts.has(k))).sort((a, b) => (a.keys[0]! < b.keys[0]! ? -1 : a.keys[0]! > b.keys[0]! ? 1 : 0));
  let keysOfChunk = new Set<string>();
  for (const m of sorted) {
    const n = m.keys.reduce((a, k) => a + (counts.get(k) ?? 0), 0);
    if (!cur || (size > 0 && size + n > limit)) {
      out.push((cur = { chunk: out.length, packages: [] }));
      size = 0;
      keysOfChunk = new Set();
    }
    cur.packages.push(m.pkg);
    chunkPkgs.push({ chunk: cur.chunk, pkg_hash: m.pkg.pkg_hash });
    size += n;
    for (const k of m.keys)
      if (counts.has(k) && !keysOfChunk.has(k)) {
        keysOfChunk.add(k);
        chunkKeys.push({ chunk: cur.chunk, k });
      }
  }
  await upload(db, CHUNK_KEYS, "chunk UInt32, k String", chunkKeys);
  await upload(db, CHUNK_PKGS, "chunk UInt32, pkg_hash UInt64", chunkPkgs);
  return out;
}

/** Match rows that are new, or whose is_vulnerable differs from the latest stored row of their key. */
async function changedMatches(db: Db, rows: PackageCveMatchRow[], pkgHashesSql: string): Promise<PackageCveMatchRow[]> {
  const latest = new Map<bigint, number>();
  if (rows.length)
    for (const r of await db.query<{ key_hash: bigint; v: number }>(
      `SELECT key_hash, argMax(is_vulnerable, ts) AS v FROM PackagesCveMatch WHERE pkg_hash IN (${pkgHashesSql}) GROUP BY key_hash`,
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
