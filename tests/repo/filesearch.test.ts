/**
 * FileSearch (src/loaders/filesearch.ts) after `repo load`: it holds exactly the files of the
 * branch's latest package set (the expected set is computed here from Files, FileNames,
 * Packages and PackageSet, and its paths checked against librpm), and a new snapshot writes only
 * the rows of packages that entered the set and deletes those of packages that left it.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import type { Db } from "../../src/db";
import { fileSearchBranches, refreshFileSearch } from "../../src/loaders/filesearch";
import { loadRepo } from "../../src/loaders/repo";
import { buildBulkPackages, type BulkPackage } from "../fixtures/bulk";
import { scratchDir } from "../fixtures/_util";
import { makeSnapshot } from "../fixtures/snapshot";
import { PYTHON, oracleAvailable } from "../rpm/compare";
import { contextFor, migratedDb } from "./_snapshot";

let db: Db;
let bySource: BulkPackage[][];

/** Packages of these source numbers (each source with its binaries). */
function sources(...idx: number[]): string[] {
  return idx.flatMap((i) => bySource[i].map((p) => p.file));
}

function snapshot(...idx: number[]): string {
  return makeSnapshot(scratchDir("fsearch"), { packages: sources(...idx) }).root;
}

/** The rows FileSearch must hold for `branch`: the latest set's files, from the tables. */
async function expected(branch: string): Promise<string[]> {
  const rows = await db.query<{ s: string; lead: bigint }>(
    `WITH (SELECT argMax(pkgset_ruuid, pkgset_date) FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = '${branch}') AS root
     SELECT DISTINCT concat('${branch}|', N.fn_name, '|', P.pkg_name, '|', if(P.pkg_sourcepackage = 1, 'source|srpm', concat('binary|', toString(P.pkg_arch)))) AS s, F.pkg_hash AS lead
     FROM Files AS F
     INNER JOIN FileNames AS N ON N.fn_hash = F.file_hashname
     INNER JOIN Packages AS P ON P.pkg_hash = F.pkg_hash
     WHERE F.pkg_hash IN (SELECT pkg_hash FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = root))`,
  );
  return rows.map((r) => `${r.s} ${r.lead}`).sort();
}

/** What the API sees: the latest lead per search string, and every stored row. */
async function stored(branch: string): Promise<{ latest: string[]; rows: string[] }> {
  const latest = await db.query<{ s: string; lead: bigint }>(`SELECT search_string AS s, argMax(lead, ts) AS lead FROM FileSearch WHERE search_string LIKE '${branch}|%' GROUP BY search_string`);
  const rows = await db.query<{ s: string; lead: bigint }>(`SELECT search_string AS s, lead FROM FileSearch FINAL WHERE search_string LIKE '${branch}|%'`);
  return { latest: latest.map((r) => `${r.s} ${r.lead}`).sort(), rows: rows.map((r) => `${r.s} ${r.lead}`).sort() };
}

async function fileRows(hashes: string): Promise<number> {
  const [r] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM (SELECT DISTINCT pkg_hash, file_hashname FROM Files WHERE pkg_hash IN (${hashes}))`);
  return Number(r.n);
}

const hashesOf = (idx: number[]) =>
  `SELECT pkg_hash FROM Packages WHERE pkg_name IN (${bySource
    .filter((_, i) => idx.includes(i))
    .flat()
    .map((p) => `'${p.name}'`)
    .join(", ")})`;

beforeAll(async () => {
  // the bulk set of tests/fixtures (cached): 4 sources with 6 binaries each
  const m = await buildBulkPackages(undefined, { sources: 4, binariesPerSource: 6 });
  const srcs = m.packages.filter((p) => p.isSource).sort((a, b) => a.name.localeCompare(b.name));
  bySource = srcs.map((s) => [s, ...m.packages.filter((p) => !p.isSource && p.sourcerpm === s.file.split("/").pop())]);
  expect(bySource.every((g) => g.length === 7)).toBe(true);
  db = await migratedDb("fsearch");
}, 600_000);

describe("FileSearch follows the latest package set", () => {
  test("first load: a full fill equal to the set's files; paths and names as librpm reads them", async () => {
    const r = await loadRepo(contextFor(db), { branch: "sisyphus", path: snapshot(0, 1, 2), date: "2026-11-20" });
    expect(r.complete).toBe(true);
    expect(r.fileSearch).toMatchObject({ branch: "sisyphus", date: "2026-11-20", mode: "full", packages: 21, added: 21, removed: 0, rowsDeleted: 0 });
    const want = await expected("sisyphus");
    expect(want.length).toBeGreaterThan(21);
    expect(r.fileSearch!.rowsInserted).toBe(want.length);
    const got = await stored("sisyphus");
    expect(got.rows).toEqual(want);
    expect(got.latest).toEqual(want);

    // librpm's view of the same packages: every path of every package, binary or source
    if (!oracleAvailable()) return;
    const files = sources(0, 1, 2);
    const py = `import rpm,sys\nts=rpm.TransactionSet()\nts.setVSFlags(-1)\nfor f in sys.argv[1:]:\n  h=ts.hdrFromFdno(open(f,'rb'))\n  k='source' if h.isSource() else 'binary'\n  a='srpm' if h.isSource() else h[rpm.RPMTAG_ARCH]\n  for p in h[rpm.RPMTAG_FILENAMES]: print('sisyphus|%s|%s|%s|%s' % (p, h[rpm.RPMTAG_NAME], k, a))\n`;
    const out = spawnSync(PYTHON, ["-c", py, ...files], { encoding: "utf8" });
    expect(out.status).toBe(0);
    const lib = [...new Set(out.stdout.split("\n").filter(Boolean))].sort();
    expect([...new Set(got.rows.map((l) => l.slice(0, l.lastIndexOf(" "))))].sort()).toEqual(lib);
  }, 600_000);

  test("next snapshot with one source package set replaced: only the changed packages' rows are written or deleted", async () => {
    const before = await db.query<{ s: string; ts: string }>(`SELECT search_string AS s, toString(ts) AS ts FROM FileSearch WHERE lead IN (${hashesOf([1, 2])})`);
    const r = await loadRepo(contextFor(db), { branch: "sisyphus", path: snapshot(1, 2, 3), date: "2026-11-21" });
    expect(r.fileSearch).toMatchObject({ mode: "incremental", packages: 21, added: 7, removed: 7 });
    // rows written = the added packages' files, rows deleted = the removed packages' files
    expect(r.fileSearch!.rowsInserted).toBe(await fileRows(hashesOf([3])));
    expect(r.fileSearch!.rowsDeleted).toBe(await fileRows(hashesOf([0])));
    const [run] = await db.query<{ ins: bigint; del: bigint; mode: string }>(
      "SELECT rows_inserted AS ins, rows_deleted AS del, mode FROM altrepodb_filesearch_runs ORDER BY at DESC LIMIT 1",
    );
    expect({ ins: Number(run.ins), del: Number(run.del), mode: run.mode }).toEqual({ ins: r.fileSearch!.rowsInserted, del: r.fileSearch!.rowsDeleted, mode: "incremental" });
    const want = await expected("sisyphus");
    const got = await stored("sisyphus");
    expect(got.rows).toEqual(want);
    expect(got.latest).toEqual(want);
    // the unchanged packages' rows are the very rows written by the first load
    const after = await db.query<{ s: string; ts: string }>(`SELECT search_string AS s, toString(ts) AS ts FROM FileSearch WHERE lead IN (${hashesOf([1, 2])})`);
    const key = (rows: { s: string; ts: string }[]) => rows.map((x) => `${x.s} ${x.ts}`).sort();
    expect(key(after)).toEqual(key(before));
  }, 600_000);

  test("an unchanged snapshot under a new date writes nothing", async () => {
    const same = await loadRepo(contextFor(db), { branch: "sisyphus", path: snapshot(1, 2, 3), date: "2026-11-22" });
    expect(same.unchangedFrom).toBeDefined();
    expect(same.fileSearch).toMatchObject({ mode: "unchanged", date: "2026-11-22", rowsInserted: 0, rowsDeleted: 0 });
    expect((await stored("sisyphus")).rows).toEqual(await expected("sisyphus"));
  }, 600_000);

  test("branches are independent; a full rebuild gives the same rows; a branch without a set is emptied", async () => {
    // p11's newest set is loaded first; an older one after it does not change what is indexed
    await loadRepo(contextFor(db), { branch: "p11", path: snapshot(0, 1), date: "2026-11-20" });
    const older = await loadRepo(contextFor(db), { branch: "p11", path: snapshot(0), date: "2026-11-01" });
    expect(older.fileSearch).toMatchObject({ mode: "unchanged", date: "2026-11-20", rowsInserted: 0, rowsDeleted: 0 });
    expect(await fileSearchBranches(db)).toEqual(["p11", "sisyphus"]);
    const p11 = await expected("p11");
    expect((await stored("p11")).rows).toEqual(p11);
    const sis = await expected("sisyphus");
    const full = await refreshFileSearch(contextFor(db), "sisyphus", { full: true });
    expect(full).toMatchObject({ mode: "full", rowsInserted: sis.length, rowsDeleted: sis.length });
    expect((await stored("sisyphus")).rows).toEqual(sis);
    expect((await stored("p11")).rows).toEqual(p11);

    // every package set of p11 deleted (as a --force reload's first step does): p11 is emptied
    await db.command("DELETE FROM PackageSetName WHERE pkgset_nodename = 'p11'");
    const gone = await refreshFileSearch(contextFor(db), "p11");
    expect(gone).toMatchObject({ mode: "empty", rowsDeleted: p11.length });
    expect((await stored("p11")).rows).toEqual([]);
    expect((await stored("sisyphus")).rows).toEqual(sis);
  }, 600_000);
});
