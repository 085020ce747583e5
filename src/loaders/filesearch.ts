/**
 * FileSearch (schema-newer-tables.md §2.4): the files of the latest package set of every branch,
 * one row per (path, package): search_string = '<branch>|<path>|<package name>|binary|<arch>'
 * ('source' and arch 'srpm' for a source package), lead = pkg_hash. The API reads
 * `argMax(lead, ts) GROUP BY search_string` with `search_string LIKE '<branch>|%…%'`.
 *
 * The table holds exactly the rows of each branch's latest package set (latest = max
 * pkgset_date of the branch's `class = repository` roots, as static_last_packages). Which
 * packages' rows it holds is kept in altrepodb_filesearch_packages (sql/0110); a refresh compares
 * that with the latest set, in ClickHouse:
 * - incremental: rows of packages that left the set are deleted (lightweight DELETE: the rows
 *   disappear from every read at once), rows of packages that entered it are written by one
 *   INSERT … SELECT from Files ⨝ FileNames ⨝ Packages. Only paths whose owner changed are
 *   written; nothing passes through this process but the changed package hashes.
 * - full (no rows yet, `search rebuild`, or more than a quarter of the set changed): every row
 *   of the branch is deleted and written again, in slices of the set (pkg_hash modulo K) so the
 *   name join's memory stays bounded at any size.
 * Crash safety: the package list is updated after the rows, and a refresh first deletes the rows
 * of every package it is about to write, so a rerun after a crash at any point converges.
 * One refresh per branch at a time, across hosts: the lease `filesearch <branch>` (./lock.ts).
 */
import { insertRows, quoteIntList, quoteString, type Db, type Settings } from "../db";
import type { LoadContext } from "./context";
import { InputError } from "./errors";
import { withLoadLock } from "./lock";

const PACKAGES = "altrepodb_filesearch_packages";
/** SQL: the packages whose rows FileSearch holds for a branch (latest row per package wins). */
const listed = (branch: string) => `(SELECT pkg_hash FROM ${PACKAGES} FINAL WHERE branch = ${quoteString(branch)} AND present = 1)`;
const RUNS = "altrepodb_filesearch_runs";
/** File rows per INSERT … SELECT slice of a full fill. */
const SLICE_ROWS = 4_000_000;
/** Hash lists in SQL text: raise the parser's 256 KiB limit; no deduplication of INSERT … SELECT blocks. */
const SETTINGS: Settings = { max_query_size: 64 * 1024 * 1024, insert_deduplicate: 0 };

export type FileSearchMode = "full" | "incremental" | "unchanged" | "empty";

export interface FileSearchReport {
  branch: string;
  /** Root uuid of the package set indexed ("" when the branch has none). */
  ruuid: string;
  /** Its date, YYYY-MM-DD ("" when none). */
  date: string;
  mode: FileSearchMode;
  /** Packages in the set. */
  packages: number;
  /** Packages whose rows were written / deleted. */
  added: number;
  removed: number;
  /** FileSearch rows written and deleted. */
  rowsInserted: number;
  rowsDeleted: number;
  seconds: number;
}

export interface FileSearchOptions {
  /** Delete and write every row of the branch. */
  full?: boolean;
}

export function checkBranchName(name: string): string {
  const branch = name.toLowerCase();
  if (!/^[a-z0-9][a-z0-9_.+-]*$/.test(branch)) throw new InputError(`branch name ${JSON.stringify(name)} is not a plain name`);
  return branch;
}

const ROOTS = "pkgset_depth = 0 AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository'";

/** Branches with a repository package set, and branches FileSearch still holds rows for. */
export async function fileSearchBranches(db: Db): Promise<string[]> {
  const rows = await db.query<{ b: string }>(
    `SELECT DISTINCT pkgset_nodename AS b FROM PackageSetName WHERE ${ROOTS}
     UNION DISTINCT SELECT DISTINCT branch AS b FROM ${PACKAGES} FINAL WHERE present = 1`,
  );
  return rows.map((r) => r.b).sort();
}

interface Latest {
  ruuid: string;
  date: number;
}

async function latestSet(db: Db, branch: string): Promise<Latest | undefined> {
  const [r] = await db.query<{ ruuid: string; date: number; n: bigint }>(
    `SELECT toString(argMax(pkgset_ruuid, (pkgset_date, pkgset_complete, pkgset_ruuid))) AS ruuid, toUInt32(max(pkgset_date)) AS date, count() AS n
     FROM PackageSetName WHERE ${ROOTS} AND pkgset_nodename = ${quoteString(branch)}`,
  );
  return r && BigInt(r.n) > 0n ? { ruuid: r.ruuid, date: Number(r.date) } : undefined;
}

/** SQL: the distinct package hashes of the set with root `ruuid`. */
function membersOf(ruuid: string): string {
  return `(SELECT pkg_hash FROM PackageSet WHERE pkgset_uuid IN
     (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(ruuid)}) AND pkgset_depth > 0))`;
}

function prefixOf(branch: string): string {
  return `${branch}|`;
}

/** SQL condition: rows of this branch (a range of the sorting key). */
function branchRows(branch: string): string {
  return `startsWith(search_string, ${quoteString(prefixOf(branch))})`;
}

async function count(db: Db, where: string): Promise<number> {
  const [r] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM FileSearch WHERE ${where}`, { settings: SETTINGS });
  return Number(r?.n ?? 0);
}

/**
 * INSERT … SELECT of the FileSearch rows of the packages matching `pkgs` (an SQL condition on
 * pkg_hash). Files holds name hashes; the names come from FileNames.
 */
export function insertSql(branch: string, pkgs: string): string {
  return `INSERT INTO FileSearch (search_string, lead)
SELECT concat(${quoteString(prefixOf(branch))}, n.fn_name, '|', p.name, '|', if(p.src = 1, 'source', 'binary'), '|', p.arch) AS search_string, f.pkg_hash AS lead
FROM (SELECT DISTINCT pkg_hash, file_hashname FROM Files WHERE ${pkgs}) AS f
INNER JOIN (SELECT pkg_hash, any(pkg_name) AS name, if(src = 1, 'srpm', toString(any(pkg_arch))) AS arch, any(pkg_sourcepackage) AS src FROM Packages WHERE ${pkgs} GROUP BY pkg_hash) AS p ON p.pkg_hash = f.pkg_hash
INNER JOIN (SELECT fn_hash, any(fn_name) AS fn_name FROM FileNames WHERE fn_hash IN (SELECT file_hashname FROM Files WHERE ${pkgs}) GROUP BY fn_hash) AS n ON n.fn_hash = f.file_hashname`;
}

interface Diff {
  packages: number;
  indexed: number;
  added: bigint[];
  removed: bigint[];
}

/** The set difference; only the sizes when a full fill is asked for or nothing is listed yet. */
async function diff(db: Db, branch: string, ruuid: string, full: boolean): Promise<Diff> {
  const [c] = await db.query<{ packages: bigint; indexed: bigint }>(
    `SELECT (SELECT uniqExact(pkg_hash) FROM ${membersOf(ruuid)}) AS packages,
            (SELECT uniqExact(pkg_hash) FROM ${listed(branch)}) AS indexed`,
  );
  if (full || Number(c.indexed) === 0) return { packages: Number(c.packages), indexed: Number(c.indexed), added: [], removed: [] };
  const rows = await db.query<{ h: bigint; side: number }>(
    `SELECT pkg_hash AS h, min(side) AS side FROM (
       SELECT DISTINCT pkg_hash, 1 AS side FROM ${membersOf(ruuid)}
       UNION ALL
       SELECT DISTINCT pkg_hash, 2 AS side FROM ${listed(branch)}
     ) GROUP BY pkg_hash HAVING count() = 1`,
  );
  const added: bigint[] = [];
  const removed: bigint[] = [];
  for (const r of rows) (Number(r.side) === 1 ? added : removed).push(BigInt(r.h));
  return { packages: Number(c.packages), indexed: Number(c.indexed), added, removed };
}

/**
 * Settings for DELETE on FileSearch. A server with patch parts (ClickHouse ≥ 25.7: the setting
 * lightweight_delete_mode exists) deletes a few packages' rows by writing a small patch part instead of rewriting the
 * row mask of every part touched (several times faster here); the table needs the block number
 * and offset columns for that, switched on here once (an ALTER of table settings, replicated
 * like any ALTER). Older servers use the classic lightweight DELETE.
 */
const deleteSettingsOf = new WeakMap<Db, Settings>();

async function deleteSettings(db: Db): Promise<Settings> {
  const known = deleteSettingsOf.get(db);
  if (known) return known;
  const settings = await probeDeleteSettings(db);
  deleteSettingsOf.set(db, settings);
  return settings;
}

async function probeDeleteSettings(db: Db): Promise<Settings> {
  const [r] = await db.query<{ mode: bigint; engine: string }>(
    `SELECT (SELECT count() FROM system.settings WHERE name = 'lightweight_delete_mode') AS mode,
            (SELECT any(engine_full) FROM system.tables WHERE database = currentDatabase() AND name = 'FileSearch') AS engine`,
  );
  if (!r || Number(r.mode) === 0) return SETTINGS;
  if (!/enable_block_number_column = 1/.test(r.engine) || !/enable_block_offset_column = 1/.test(r.engine)) {
    await db.command("ALTER TABLE FileSearch MODIFY SETTING enable_block_number_column = 1, enable_block_offset_column = 1");
  }
  return { ...SETTINGS, lightweight_delete_mode: "lightweight_update" };
}

/** Refreshes FileSearch for one branch, holding the lease `filesearch <branch>`. */
export async function refreshFileSearch(ctx: LoadContext, name: string, opts: FileSearchOptions = {}): Promise<FileSearchReport> {
  const branch = checkBranchName(name);
  return withLoadLock(ctx, `filesearch ${branch}`, (c) => refreshHeld(c, branch, opts), ctx.lock);
}

async function refreshHeld(ctx: LoadContext, branch: string, opts: FileSearchOptions): Promise<FileSearchReport> {
  const t0 = performance.now();
  const db = ctx.db;
  const latest = await latestSet(db, branch);
  const report: FileSearchReport = {
    branch,
    ruuid: latest?.ruuid ?? "",
    date: latest ? new Date(latest.date * 1000).toISOString().slice(0, 10) : "",
    mode: "unchanged",
    packages: 0,
    added: 0,
    removed: 0,
    rowsInserted: 0,
    rowsDeleted: 0,
    seconds: 0,
  };
  if (!latest) {
    // no package set (any more): nothing of the branch may stay searchable
    report.rowsDeleted = await count(db, branchRows(branch));
    if (report.rowsDeleted) await db.command(`DELETE FROM FileSearch WHERE ${branchRows(branch)}`, { settings: SETTINGS });
    report.removed = await unlistAll(db, branch);
    report.mode = "empty";
  } else {
    const d = await diff(db, branch, latest.ruuid, !!opts.full);
    ctx.log.debug("FileSearch step diff", { ms: Math.round(performance.now() - t0) });
    report.packages = d.packages;
    const changed = d.added.length + d.removed.length;
    if (opts.full || d.indexed === 0 || changed > Math.max(2000, d.packages / 4)) await fullFill(db, branch, latest.ruuid, report);
    else if (changed > 0) await incremental(db, branch, d, report, ctx.log);
  }
  report.seconds = (performance.now() - t0) / 1000;
  if (report.mode !== "unchanged" && (report.mode !== "empty" || report.removed + report.rowsDeleted > 0)) {
    await insertRows(db, RUNS, [
      {
        branch,
        ruuid: report.ruuid || "00000000-0000-0000-0000-000000000000",
        pkgset_date: latest?.date ?? 0,
        mode: report.mode,
        packages: report.packages,
        added: report.added,
        removed: report.removed,
        rows_inserted: report.rowsInserted,
        rows_deleted: report.rowsDeleted,
      },
    ]);
  }
  ctx.log.info(`FileSearch ${report.mode}`, {
    branch,
    date: report.date,
    packages: report.packages,
    added: report.added,
    removed: report.removed,
    rowsInserted: report.rowsInserted,
    rowsDeleted: report.rowsDeleted,
    seconds: report.seconds.toFixed(2),
  });
  return report;
}

/** Marks every listed package of the branch as gone; returns how many were listed. */
async function unlistAll(db: Db, branch: string): Promise<number> {
  const [r] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM ${listed(branch)}`);
  if (Number(r.n)) await db.command(`INSERT INTO ${PACKAGES} (branch, pkg_hash, present) SELECT ${quoteString(branch)}, pkg_hash, 0 FROM ${listed(branch)}`, { settings: SETTINGS });
  return Number(r.n);
}

async function incremental(db: Db, branch: string, d: Diff, report: FileSearchReport, log?: LoadContext["log"]): Promise<void> {
  let mark = performance.now();
  const step = (name: string) => {
    const now = performance.now();
    log?.debug(`FileSearch step ${name}`, { ms: Math.round(now - mark) });
    mark = now;
  };
  report.mode = "incremental";
  report.added = d.added.length;
  report.removed = d.removed.length;
  // rows of the packages that left, and any rows of those entering (left by an interrupted run)
  const changed = `${branchRows(branch)} AND lead IN ${quoteIntList([...d.added, ...d.removed])}`;
  report.rowsDeleted = await count(db, changed);
  step("count");
  if (report.rowsDeleted) await db.command(`DELETE FROM FileSearch WHERE ${changed}`, { settings: await deleteSettings(db) });
  step("delete");
  if (d.added.length) {
    const added = quoteIntList(d.added);
    await db.command(insertSql(branch, `pkg_hash IN ${added}`), { settings: SETTINGS });
    step("insert");
    report.rowsInserted = await count(db, `${branchRows(branch)} AND lead IN ${added}`);
    step("count");
  }
  await insertRows(db, PACKAGES, [...d.removed.map((h) => ({ branch, pkg_hash: h, present: 0 })), ...d.added.map((h) => ({ branch, pkg_hash: h, present: 1 }))]);
  step("package list");
}

async function fullFill(db: Db, branch: string, ruuid: string, report: FileSearchReport): Promise<void> {
  report.mode = "full";
  const b = quoteString(branch);
  report.removed = await unlistAll(db, branch);
  report.rowsDeleted = await count(db, branchRows(branch));
  // every row of the branch: the classic lightweight DELETE (a patch part would list them all)
  if (report.rowsDeleted) await db.command(`DELETE FROM FileSearch WHERE ${branchRows(branch)}`, { settings: SETTINGS });
  const members = `pkg_hash IN ${membersOf(ruuid)}`;
  const [f] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM Files WHERE ${members}`);
  const slices = Math.max(1, Math.ceil(Number(f.n) / SLICE_ROWS));
  for (let i = 0; i < slices; i++) {
    const cond = slices === 1 ? members : `${members} AND pkg_hash % ${slices} = ${i}`;
    await db.command(insertSql(branch, cond), { settings: SETTINGS });
  }
  report.rowsInserted = await count(db, branchRows(branch));
  await db.command(`INSERT INTO ${PACKAGES} (branch, pkg_hash, present) SELECT DISTINCT ${b}, pkg_hash, 1 FROM ${membersOf(ruuid)}`, { settings: SETTINGS });
  report.added = report.packages;
}
