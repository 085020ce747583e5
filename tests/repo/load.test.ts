/**
 * The repo loader end to end on snapshots of real RPMs (built with rpmbuild), through
 * `loadRepo`, the function the CLI and the daemon call. Rows are checked against librpm.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { AlreadyLoaded, InputError } from "../../src/loaders/errors";
import { loadRepo } from "../../src/loaders/repo";
import { verifyRepo } from "../../src/loaders/repo/verify";
import { runOracle, oracleAvailable, type OracleRecord } from "../rpm/compare";
import { contextFor, edgeSnapshot, migratedDb } from "./_snapshot";
import type { SnapshotResult } from "../fixtures/snapshot";

/** The oracle prints invalid bytes as \xNN; back to bytes, as hex. */
function hexOf(s: string | null | undefined): string {
  const bytes: number[] = [];
  const src = s ?? "";
  for (let i = 0; i < src.length; ) {
    const m = /^\\x([0-9a-f]{2})/.exec(src.slice(i, i + 4));
    if (m) {
      bytes.push(parseInt(m[1], 16));
      i += 4;
    } else {
      const cp = src.codePointAt(i)!;
      bytes.push(...Buffer.from(String.fromCodePoint(cp)));
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return Buffer.from(bytes).toString("hex").toUpperCase();
}

let db: Db;
let snap: SnapshotResult;
let oracle: Map<string, OracleRecord>;

beforeAll(async () => {
  db = await migratedDb("repo");
  snap = await edgeSnapshot();
  oracle = runOracle([...snap.srpms, ...snap.rpms].map((e) => e.path));
}, 600_000);

describe("cold load of a snapshot", () => {
  test("every package is loaded and the package set is complete", async () => {
    const report = await loadRepo(contextFor(db), { branch: "Sisyphus", path: snap.root, date: "2026-11-20", tag: "test" });
    expect(report.failures).toEqual([]);
    expect(report.complete).toBe(true);
    expect(report.packages.seen).toBe(snap.srpms.length + snap.rpms.length);
    expect(report.packages.parsed).toBe(report.packages.seen);
    const roots = await db.query<{ n: string; c: number; tag: string }>(
      "SELECT pkgset_nodename AS n, pkgset_complete AS c, pkgset_tag AS tag FROM PackageSetName WHERE pkgset_depth = 0",
    );
    expect(roots).toEqual([{ n: "sisyphus", c: 1, tag: "test" }]);
  });

  test("Packages rows equal librpm's values", async () => {
    expect(oracleAvailable()).toBe(true);
    for (const e of [...snap.srpms, ...snap.rpms]) {
      const o = oracle.get(e.path)!;
      expect(o.ok).toBe(true);
      const [row] = await db.query<Record<string, unknown>>(
        `SELECT pkg_name, pkg_version, pkg_release, pkg_epoch, pkg_arch, pkg_buildtime, hex(pkg_sourcerpm) AS srcrpm, hex(pkg_summary) AS summary,
                hex(pkg_description) AS description, hex(pkg_license) AS license, hex(pkg_url) AS url, pkg_size, pkg_archivesize, pkg_disttag,
                pkg_buildhost, pkg_sourcepackage, hex(pkg_prein) AS prein, hex(pkg_postin) AS postin, pkg_filesize, lower(hex(pkg_cs)) AS cs,
                length(pkg_changelog.date) AS chlog
         FROM Packages WHERE pkg_filename = '${e.name}'`,
      );
      expect(row).toBeDefined();
      const name = String(o.name);
      expect(row.pkg_name).toBe(name);
      expect(row.pkg_version).toBe(o.version as string);
      expect(row.pkg_release).toBe(o.release as string);
      expect(row.pkg_epoch).toBe((o.epoch as number | null) ?? 0);
      expect(row.pkg_arch).toBe(name.startsWith("i586-") ? "x86_64-i586" : (o.arch as string));
      expect(row.pkg_buildtime).toBe(o.buildtime as number);
      expect(row.srcrpm).toBe(e.name.endsWith(".src.rpm") ? hexOf(e.name) : hexOf(o.sourcerpm as string));
      expect(row.summary).toBe(hexOf(o.summary as string));
      expect(row.description).toBe(hexOf(o.description as string));
      expect(row.license).toBe(hexOf(o.license as string));
      expect(row.url).toBe(hexOf(o.url as string));
      expect(BigInt(row.pkg_size as bigint)).toBe(BigInt((o.size as number | null) ?? 0));
      expect(row.pkg_disttag).toBe((o.disttag as string | null) ?? "");
      expect(row.pkg_buildhost).toBe(o.buildhost as string);
      expect(row.pkg_sourcepackage).toBe(e.name.endsWith(".src.rpm") ? 1 : 0);
      expect(row.prein).toBe(hexOf(o.prein as string));
      expect(row.postin).toBe(hexOf(o.postin as string));
      expect(BigInt(row.pkg_filesize as bigint)).toBe(BigInt(e.size));
      expect(row.cs).toBe(o.sha1header as string);
      expect(Number(row.chlog)).toBe((o.changelog as { times: number[] }).times.length);
    }
  });

  test("Files rows equal librpm's file list", async () => {
    for (const e of [...snap.srpms, ...snap.rpms]) {
      const f = oracle.get(e.path)!.files as Record<string, unknown[]> & { digestalgo: number | null };
      const rows = await db.query<Record<string, unknown>>(
        `SELECT hex(F.file_name) AS name, file_size, file_mode, file_mtime_epoch, lower(hex(file_md5)) AS md5, hex(file_linkto) AS linkto, file_flag,
                file_username, file_groupname, file_lang, file_verifyflag, file_class
         FROM (SELECT *, toUnixTimestamp(file_mtime) AS file_mtime_epoch FROM Files WHERE pkg_hash = (SELECT any(pkg_hash) FROM Packages WHERE pkg_filename = '${e.name}')) AS X
         LEFT JOIN (SELECT DISTINCT fn_hash, fn_name AS file_name FROM FileNames) AS F ON F.fn_hash = X.file_hashname
         ORDER BY name`,
      );
      const names = (f.names as string[]).map(hexOf);
      expect(rows.map((r) => r.name).sort()).toEqual([...names].sort());
      for (const r of rows) {
        const i = names.indexOf(r.name as string);
        expect(r.file_size).toBe(Number(f.sizes[i]));
        expect(r.file_mode).toBe(Number(f.modes[i]));
        expect(Number(r.file_mtime_epoch)).toBe(Number(f.mtimes[i]));
        const digest = String(f.digests[i] ?? "");
        expect(r.md5).toBe((f.digestalgo ?? 1) === 1 && digest ? digest : "0".repeat(32));
        expect(r.linkto).toBe(hexOf(f.linktos[i] as string));
        expect(r.file_flag).toBe(Number(f.flags[i]));
        expect(r.file_username).toBe(f.users[i] as string);
        expect(r.file_groupname).toBe(f.groups[i] as string);
        expect(r.file_lang).toBe((f.langs[i] as string) ?? "");
        expect(r.file_verifyflag).toBe(Number(f.verifyflags[i]));
        const mode = Number(f.modes[i]) & 0o170000;
        if (mode === 0o040000) expect(r.file_class).toBe("directory");
        if (mode === 0o120000) expect(r.file_class).toBe("symlink");
      }
    }
  });

  test("Depends and Changelog rows equal librpm's", async () => {
    for (const e of [...snap.srpms, ...snap.rpms]) {
      const o = oracle.get(e.path)!;
      const rows = await db.query<{ t: string; n: string; v: string; f: number }>(
        `SELECT toString(dp_type) AS t, hex(dp_name) AS n, hex(dp_version) AS v, dp_flag AS f FROM Depends
         WHERE pkg_hash = (SELECT any(pkg_hash) FROM Packages WHERE pkg_filename = '${e.name}') ORDER BY t, n, v, f`,
      );
      const want: { t: string; n: string; v: string; f: number }[] = [];
      for (const [kind, t] of [["requires", "require"], ["provides", "provide"], ["conflicts", "conflict"], ["obsoletes", "obsolete"]] as const) {
        const d = o[kind] as { names: string[]; flags: number[]; versions: string[] };
        d.names.forEach((n, i) => want.push({ t, n: hexOf(n), v: hexOf(d.versions[i]), f: Number(d.flags[i]) }));
      }
      const key = (x: { t: string; n: string; v: string; f: number }) => `${x.t} ${x.n} ${x.v} ${x.f}`;
      expect(rows.map(key).sort()).toEqual(want.map(key).sort());
      const texts = (o.changelog as { texts: string[] }).texts.map(hexOf);
      if (texts.length) {
        const stored = await db.query<{ t: string }>(
          `SELECT DISTINCT hex(chlog_text) AS t FROM Changelog WHERE chlog_hash IN (SELECT arrayJoin(pkg_changelog.hash) FROM Packages WHERE pkg_filename = '${e.name}')`,
        );
        expect(stored.map((r) => r.t).sort()).toEqual([...new Set(texts)].sort());
      }
    }
  });

  test("source packages have their spec file", async () => {
    const rows = await db.query<{ n: bigint }>("SELECT count() AS n FROM Specfiles");
    expect(Number(rows[0].n)).toBe(snap.srpms.length);
  });
});

describe("reloads", () => {
  /** Members of each node of a load, by node path (depth/name/parent name). */
  async function tree(date: string): Promise<Record<string, string[]>> {
    const rows = await db.query<{ node: string; kv: string; h: string[] }>(
      `SELECT concat(toString(N.pkgset_depth), '/', N.pkgset_nodename, '/', P.pkgset_nodename) AS node, toString(N.pkgset_kv.v) AS kv,
              arraySort(groupArray(toString(S.pkg_hash))) AS h
       FROM PackageSetName AS N
       LEFT JOIN PackageSetName AS P ON P.pkgset_uuid = N.pkgset_puuid AND P.pkgset_date = N.pkgset_date
       LEFT JOIN PackageSet AS S ON S.pkgset_uuid = N.pkgset_uuid
       WHERE N.pkgset_date = toDateTime('${date} 00:00:00', 'UTC') AND N.pkgset_nodename != ''
       GROUP BY node, kv ORDER BY node`,
    );
    return Object.fromEntries(rows.map((r) => [`${r.node} ${r.kv}`, r.h.filter((x) => x !== "0")]));
  }

  test("a second date of the unchanged snapshot copies the package set: nothing parsed, same members", async () => {
    const before = await db.query<{ n: bigint }>("SELECT count() AS n FROM Packages");
    const report = await loadRepo(contextFor(db), { branch: "sisyphus", path: snap.root, date: "2026-11-21" });
    expect(report.unchangedFrom).toBeDefined();
    expect(report.packages.known).toBe(report.packages.seen);
    expect(report.packages.parsed).toBe(0);
    expect(Object.keys(report.rows).sort()).toEqual(["PackageSet", "PackageSetName"]);
    expect(await db.query<{ n: bigint }>("SELECT count() AS n FROM Packages")).toEqual(before);
    expect(await tree("2026-11-21")).toEqual(await tree("2026-11-20"));
  });

  test("a snapshot whose lists changed takes the full path and reuses every known package", async () => {
    const changed = await edgeSnapshot({ taskInfo: { task: 340001, prev: 340000 } });
    const report = await loadRepo(contextFor(db), { branch: "sisyphus", path: changed.root, date: "2026-11-23" });
    expect(report.unchangedFrom).toBeUndefined();
    expect(report.packages.known).toBe(report.packages.seen);
    for (const t of ["Packages", "Files_insert", "Depends", "Changelog", "PackageHash", "Specfiles_insert"]) expect(report.rows[t]).toBe(0);
    const roots = await db.query<{ kv: string[] }>("SELECT pkgset_kv.v AS kv FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_date = toDateTime('2026-11-23 00:00:00', 'UTC')");
    expect(roots[0].kv).toContain("340001");
  });

  test("the same branch and date is refused without --force, replaced with it", async () => {
    const ctx = contextFor(db);
    await expect(loadRepo(ctx, { branch: "sisyphus", path: snap.root, date: "2026-11-21" })).rejects.toBeInstanceOf(AlreadyLoaded);
    const count = async () => (await db.query<{ n: bigint }>("SELECT count() AS n FROM PackageSetName WHERE pkgset_date = toDateTime('2026-11-21 00:00:00', 'UTC')"))[0].n;
    const n = await count();
    await loadRepo(ctx, { branch: "sisyphus", path: snap.root, date: "2026-11-21", force: true });
    expect(await count()).toBe(n);
  });

  test("dry run writes nothing", async () => {
    const before = await db.query("SELECT count() AS n FROM PackageSetName");
    const report = await loadRepo(contextFor(db), { branch: "sisyphus", path: snap.root, date: "2026-11-22", dryRun: true });
    expect(report.dryRun).toBe(true);
    expect(await db.query("SELECT count() AS n FROM PackageSetName")).toEqual(before);
  });

  test("repo verify agrees with a clean snapshot and finds a planted mismatch", async () => {
    const ctx = contextFor(db);
    expect((await verifyRepo(ctx, { branch: "sisyphus", path: snap.root, date: "2026-11-20" })).differences).toEqual([]);
    const victim = snap.rpms[0];
    writeFileSync(victim.path, Buffer.concat([Buffer.from(await Bun.file(victim.path).bytes()), Buffer.from("tail")]));
    const report = await verifyRepo(ctx, { branch: "sisyphus", path: snap.root, date: "2026-11-20" });
    expect(report.differences.some((d) => d.path.endsWith(victim.name))).toBe(true);
  });
});

describe("snapshot shapes and bad input", () => {
  test("without apt lists and hash lists the directories are read and digests computed", async () => {
    const db2 = await migratedDb("nolists");
    const s = await edgeSnapshot({ withLists: false, withHashLists: false });
    const report = await loadRepo(contextFor(db2), { branch: "p10", path: s.root, date: "2026-11-20" });
    expect(report.failures).toEqual([]);
    expect(report.packages.parsed).toBe(s.srpms.length + s.rpms.length);
    const md5 = await db2.query<{ m: string }>(`SELECT lower(hex(pkgh_md5)) AS m FROM PackageHash WHERE pkgh_mmh IN (SELECT pkg_hash FROM Packages WHERE pkg_filename = '${s.rpms[0].name}')`);
    expect(md5.map((r) => r.m)).toEqual([s.rpms[0].md5]);
    // reloading without lists reads only headers and finds everything known
    const again = await loadRepo(contextFor(db2), { branch: "p10", path: s.root, date: "2026-11-21" });
    expect(again.packages.known).toBe(again.packages.seen);
    await db2.close();
  });

  test("a broken RPM, a missing file and a wrong digest are listed; every good package is loaded", async () => {
    const db3 = await migratedDb("broken");
    const base = await edgeSnapshot();
    const [broken, missing, mismatch] = [base.rpms[1].name, base.rpms[2].name, base.rpms[3].name];
    rmSync(base.root, { recursive: true, force: true });
    const s = await edgeSnapshot({ faults: { brokenRpms: [broken], missingFiles: [missing], digestMismatch: [mismatch] } });
    const report = await loadRepo(contextFor(db3), { branch: "p10", path: s.root, date: "2026-11-20" });
    expect(report.complete).toBe(false);
    expect(report.failures.map((f) => f.path.split("/").pop()).sort()).toEqual([broken, missing, mismatch].sort());
    expect(report.failures.find((f) => f.path.endsWith(missing))!.error).toContain("missing");
    expect(report.failures.find((f) => f.path.endsWith(mismatch))!.error).toContain("does not match the file");
    expect(report.packages.parsed).toBe(report.packages.seen - 3);
    const root = await db3.query<{ c: number }>("SELECT pkgset_complete AS c FROM PackageSetName WHERE pkgset_depth = 0");
    expect(root).toEqual([{ c: 0 }]);
    await db3.close();
  });

  test("not a snapshot root, missing release: a clear error naming the path", async () => {
    const ctx = contextFor(db);
    const s1 = await edgeSnapshot({ faults: { noFilesList: true } });
    await expect(loadRepo(ctx, { branch: "x", path: s1.root, date: "2026-11-20" })).rejects.toThrow(`${s1.root}: not a repository snapshot root: files/list/ is missing`);
    const s2 = await edgeSnapshot({ faults: { missingRelease: ["noarch"] } });
    await expect(loadRepo(ctx, { branch: "x", path: s2.root, date: "2026-11-20" })).rejects.toThrow("noarch/base/ exists but has no release file");
    await expect(loadRepo(ctx, { branch: "x", path: s2.root, date: "20-11-2026" })).rejects.toBeInstanceOf(InputError);
    await expect(loadRepo(ctx, { branch: "x", path: join(s2.root, "nope"), date: "2026-11-20" })).rejects.toThrow("not a directory");
  });
});
