/**
 * Snapshots an attacker or a broken mirror could hand the repo loader: a FIFO where an RPM should
 * be, list entries that point outside the snapshot, RPM files deleted or truncated after the lists
 * were made. Each is a failed item naming the file (or the list and its entry); every good
 * package is still loaded, nothing outside the snapshot is read, and the dry run and the real run
 * report the same problems.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { loadRepo } from "../../src/loaders/repo";
import { scratchDir, runSync } from "../fixtures/_util";
import { writePkglist, writeSrclist } from "../fixtures/aptlist";
import type { SnapshotResult } from "../fixtures/snapshot";
import { contextFor, edgeSnapshot, migratedDb } from "./_snapshot";

setDefaultTimeout(120_000);

let db: Db;
beforeAll(async () => {
  db = await migratedDb("hostile");
}, 600_000);

async function packageNames(d: Db): Promise<string[]> {
  return (await d.query<{ n: string }>("SELECT pkg_filename AS n FROM Packages ORDER BY n")).map((r) => r.n);
}

/** A binary of the snapshot in the classic component, with its arch. */
function classicRpm(s: SnapshotResult, k = 0) {
  return s.rpms.filter((r) => r.component === "classic")[k];
}

/** Rewrites <arch>/base/pkglist.classic.xz with the given file name overrides. */
function rewritePkglist(s: SnapshotResult, arch: string, override: Record<string, { filename: string }>) {
  const paths = s.rpms.filter((r) => r.arch === arch && r.component === "classic").map((r) => r.path);
  writePkglist(paths, join(s.root, arch, "base", "pkglist.classic.xz"), { directory: "RPMS.classic", override });
}

describe("file types", () => {
  test("a FIFO in RPMS.classic named by the pkglist is a failed item; the load finishes", async () => {
    const d = await migratedDb("fifo");
    const s = await edgeSnapshot();
    const victim = classicRpm(s);
    rmSync(victim.path);
    runSync(["mkfifo", victim.path]);
    const report = await loadRepo(contextFor(d), { branch: "p10", path: s.root, date: "2026-11-20" });
    expect(report.complete).toBe(false);
    expect(report.failures.length).toBe(1);
    expect(report.failures[0].path).toEndWith(victim.name);
    expect(report.failures[0].error).toContain("not a regular file");
    expect(report.packages.parsed).toBe(report.packages.seen - 1);
    await d.close();
  }, 60_000);
});

describe("paths confined to the snapshot root", () => {
  test("pkglist entries with ../, absolute names and symlinks out of the root are failed items naming the list", async () => {
    const d = await migratedDb("escape");
    const s = await edgeSnapshot();
    const outside = scratchDir("outside");
    const [a, b, c] = [classicRpm(s, 0), classicRpm(s, 1), classicRpm(s, 2)];
    // real RPMs outside the snapshot, reachable through the bad entries
    copyFileSync(a.path, join(outside, "escaped-a.rpm"));
    copyFileSync(b.path, join(outside, "escaped-b.rpm"));
    copyFileSync(c.path, join(outside, "escaped-c.rpm"));
    const rel = `../../../${"../".repeat(s.root.split("/").length)}${outside.slice(1)}/escaped-a.rpm`;
    expect(a.arch).toBe(b.arch);
    rewritePkglist(s, a.arch, { [a.name]: { filename: rel }, [b.name]: { filename: join(outside, "escaped-b.rpm") } });
    // c: the RPMS.classic entry is a symlink leading outside the root
    const link = join(s.root, c.arch, "RPMS.classic", c.name);
    rmSync(link);
    symlinkSync(join(outside, "escaped-c.rpm"), link);

    const report = await loadRepo(contextFor(d), { branch: "p10", path: s.root, date: "2026-11-20" });
    expect(report.complete).toBe(false);
    const list = join(s.root, a.arch, "base", "pkglist.classic.xz");
    const byEntry = (n: string) => report.failures.find((f) => f.path.includes(n));
    expect(byEntry(rel)?.path).toBe(`${list}: ${rel}`);
    expect(byEntry(rel)?.error).toContain("outside the snapshot");
    expect(byEntry(join(outside, "escaped-b.rpm"))?.path).toBe(`${list}: ${join(outside, "escaped-b.rpm")}`);
    expect(byEntry(c.name)?.error).toContain("outside the snapshot");
    expect(report.failures.length).toBe(3);
    const names = await packageNames(d);
    for (const x of [a, b, c]) expect(names).not.toContain(x.name);
    expect(names.length).toBe(s.srpms.length + s.rpms.length - 3);
    await d.close();
  });

  test("a srclist entry with ../ is a failed item naming the srclist", async () => {
    const d = await migratedDb("escape_src");
    const s = await edgeSnapshot();
    const victim = s.srpms[0];
    const outside = scratchDir("outside");
    copyFileSync(victim.path, join(outside, victim.name));
    const rel = `../${"../".repeat(s.root.split("/").length)}${outside.slice(1)}/${victim.name}`;
    for (const arch of s.archs) {
      const path = join(s.root, arch, "base", "srclist.classic.xz");
      try {
        readFileSync(path);
      } catch {
        continue;
      }
      writeSrclist(s.srpms.map((x) => x.path), path, { directory: "../SRPMS.classic", override: { [victim.name]: { filename: rel } } });
    }
    rmSync(victim.path);
    const report = await loadRepo(contextFor(d), { branch: "p10", path: s.root, date: "2026-11-20" });
    const f = report.failures.filter((x) => x.path.includes(rel));
    expect(f.length).toBe(1);
    expect(f[0].path).toContain("srclist.classic.xz: ");
    expect(f[0].error).toContain("outside the snapshot");
    expect(await packageNames(d)).not.toContain(victim.name);
    await d.close();
  });
});

describe("dry run and real run agree", () => {
  test("RPMs deleted or truncated under unchanged lists: both runs report the same problems, the real one is incomplete", async () => {
    const s = await edgeSnapshot();
    const first = await loadRepo(contextFor(db), { branch: "p10", path: s.root, date: "2026-11-20" });
    expect(first.complete).toBe(true);
    const [gone, short] = [classicRpm(s, 0), classicRpm(s, 1)];
    rmSync(gone.path);
    truncateSync(short.path, Math.floor(short.size / 2));
    const dry = await loadRepo(contextFor(db), { branch: "p10", path: s.root, date: "2026-11-21", dryRun: true });
    const real = await loadRepo(contextFor(db), { branch: "p10", path: s.root, date: "2026-11-21" });
    const problems = (r: typeof dry) => r.failures.map((f) => f.path.split("/").pop()).sort();
    expect(problems(dry)).toEqual([gone.name, short.name].sort());
    expect(problems(real)).toEqual(problems(dry));
    expect(real.complete).toBe(false);
    expect(real.unchangedFrom).toBeUndefined();
    expect(real.failures.find((f) => f.path.endsWith(short.name))!.error).toContain("size");
    const roots = await db.query<{ c: number }>("SELECT pkgset_complete AS c FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_date = toDateTime('2026-11-21 00:00:00', 'UTC')");
    expect(roots).toEqual([{ c: 0 }]);
  });
});
