/**
 * export rpm-md against createrepo_c 0.17 on the same RPM files: a snapshot of the edge-case
 * packages is loaded (loadRepo), exported from the database only, and compared package by
 * package and byte for byte (uncompressed); read back by createrepo_c's python library and dnf.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { withFullDisk } from "../helpers/tinyfs";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { InputError } from "../../src/loaders/errors";
import { exportRpmmd, ExportWriteError } from "../../src/loaders/export";
import { loadPackages } from "../../src/loaders/package";
import { loadRepo } from "../../src/loaders/repo";
import { scratchDir } from "../fixtures/_util";
import type { SnapshotResult } from "../fixtures/snapshot";
import { contextFor, edgeSnapshot, migratedDb } from "../repo/_snapshot";
import { archFiles, createrepo, hasCreaterepo, openSums, packagesOf, readRepo, type RepoData } from "./_repo";

const DATE = "2026-11-20";
const REVISION = Date.parse(`${DATE}T00:00:00Z`) / 1000;

let db: Db;
let snap: SnapshotResult;
let work: string;
let ours: RepoData;
let theirs: RepoData | undefined;

beforeAll(async () => {
  db = await migratedDb("export");
  snap = await edgeSnapshot();
  const r = await loadRepo(contextFor(db), { branch: "Sisyphus", path: snap.root, date: DATE, tag: "test" });
  expect(r.complete).toBe(true);
  work = scratchDir("export");
  await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out: join(work, "ours") });
  ours = readRepo(join(work, "ours"));
  if (hasCreaterepo) {
    createrepo(snap, archFiles(snap, "x86_64"), join(work, "theirs"), REVISION);
    theirs = readRepo(join(work, "theirs"));
  }
}, 600_000);

describe("rpm-md equals createrepo_c's on the same files", () => {
  for (const kind of ["primary", "filelists", "other"] as const) {
    test(`${kind}.xml, package by package`, () => {
      if (!theirs) return console.warn("skipped: /usr/bin/createrepo_c is not installed");
      const a = packagesOf(ours[kind]);
      const b = packagesOf(theirs[kind]);
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      for (const [id, frag] of b) expect({ id, frag: a.get(id) }).toEqual({ id, frag });
    });
  }

  test("the uncompressed files are byte-equal (repomd open-checksum and open-size)", () => {
    if (!theirs) return console.warn("skipped: /usr/bin/createrepo_c is not installed");
    expect(openSums(ours.repomd)).toEqual(openSums(theirs.repomd));
    expect(ours.primary).toBe(theirs.primary);
  });

  test("repomd.xml has createrepo_c's shape, revision and timestamps from the set's date", () => {
    if (!theirs) return console.warn("skipped: /usr/bin/createrepo_c is not installed");
    const shape = (x: string) => x.replace(/[0-9a-f]{64}/g, "H").replace(/<size>\d+<\/size>/g, "<size>N</size>");
    expect(shape(ours.repomd)).toBe(shape(theirs.repomd));
    expect(ours.repomd).toContain(`<revision>${REVISION}</revision>`);
  });

  test("x86_64 means x86_64 and noarch binaries: no sources, no other arch", () => {
    const archs = [...ours.primary.matchAll(/<arch>([^<]+)<\/arch>/g)].map((m) => m[1]);
    expect(new Set(archs)).toEqual(new Set(["x86_64", "noarch"]));
    expect(archs.length).toBe(archFiles(snap, "x86_64").length);
    expect(ours.primary).not.toContain(".src.rpm\"/>");
  });
});

describe("readers", () => {
  test("createrepo_c's library loads the repository", () => {
    const probe = Bun.spawnSync(["/usr/bin/python3", "-c", "import createrepo_c"], { stderr: "pipe" });
    if (probe.exitCode !== 0) return console.warn("skipped: python3-createrepo-c is not installed");
    const script = `
import createrepo_c as cr, sys
md = cr.Metadata()
md.locate_and_load_xml(sys.argv[1])
print(len(md.keys()))
for k in sorted(md.keys()):
    p = md.get(k)
    print(p.name, p.arch, p.location_href, p.pkgId, len(p.files), len(p.changelogs))
`;
    const out = execFileSync("/usr/bin/python3", ["-c", script, join(work, "ours")], { timeout: 120_000 }).toString().trim().split("\n");
    expect(Number(out[0])).toBe(archFiles(snap, "x86_64").length);
    if (theirs) {
      const ref = execFileSync("/usr/bin/python3", ["-c", script, join(work, "theirs")], { timeout: 120_000 }).toString().trim().split("\n");
      expect(out).toEqual(ref);
    }
  });

  test("dnf reads it (repoquery -a)", () => {
    if (!existsSync("/usr/bin/dnf")) return console.warn("skipped: /usr/bin/dnf is not installed");
    const root = scratchDir("dnfroot");
    const r = Bun.spawnSync(
      ["/usr/bin/dnf", "-q", `--repofrompath=x,file://${join(work, "ours")}`, "--repo=x", "--setopt=x.gpgcheck=0", `--installroot=${root}`, "--releasever=1", "repoquery", "-a", "--qf", "%{name}-%{version}-%{release}.%{arch}"],
      { stdout: "pipe", stderr: "pipe", timeout: 240_000 },
    );
    expect(r.exitCode).toBe(0);
    const names = r.stdout.toString().trim().split("\n").filter(Boolean).sort();
    const want = archFiles(snap, "x86_64").map((f) => f.split("/").pop()!.replace(/\.rpm$/, "")).sort();
    expect(names).toEqual(want);
  });
});

describe("reproducible, compressed, incremental", () => {
  test("the same set gives the same bytes", async () => {
    await exportRpmmd(contextFor(db), { sets: [`sisyphus@${DATE}`], arch: "x86_64", out: join(work, "again") });
    for (const f of readdirSync(join(work, "ours", "repodata"))) {
      expect(readFileSync(join(work, "again", "repodata", f))).toEqual(readFileSync(join(work, "ours", "repodata", f)));
    }
  });

  test("--compress xz and zstd hold the same XML", async () => {
    for (const compress of ["xz", "zstd"] as const) {
      const out = join(work, compress);
      await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out, compress });
      const r = readRepo(out);
      expect(readdirSync(join(out, "repodata")).some((f) => f.endsWith(compress === "xz" ? ".xz" : ".zst"))).toBe(true);
      expect(r.primary).toBe(ours.primary);
      expect(r.other).toBe(ours.other);
    }
  });

  test("--incremental reuses every fragment of an unchanged set, with the same bytes", async () => {
    const out = join(work, "inc");
    const first = await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out, incremental: true });
    expect(first.reused).toBe(0);
    const second = await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out, incremental: true });
    expect(second.reused).toBe(second.packages);
    expect(second.read).toBe(0);
    expect(readRepo(out)).toEqual(ours);
  });
});

describe("--sign", () => {
  test("repomd.xml.asc is a detached signature gpg verifies; an unknown key fails and leaves nothing", async () => {
    const home = scratchDir("gnupg");
    const env = { ...process.env, GNUPGHOME: home };
    const gen = Bun.spawnSync(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", "Export Test <export@example.org>", "ed25519", "sign", "never"], { env, stderr: "pipe", timeout: 120_000 });
    if (gen.exitCode !== 0) return console.warn(`skipped: gpg cannot make a key here (${gen.stderr.toString().trim()})`);
    const saved = process.env.GNUPGHOME;
    process.env.GNUPGHOME = home;
    try {
      const out = join(work, "signed");
      await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out, sign: "export@example.org" });
      const v = Bun.spawnSync(["gpg", "--verify", join(out, "repodata", "repomd.xml.asc"), join(out, "repodata", "repomd.xml")], { env, stderr: "pipe", timeout: 60_000 });
      expect(v.exitCode).toBe(0);
      const bad = join(work, "signed-bad");
      const err = await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out: bad, sign: "nobody@example.org" }).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(String(err.message)).toMatch(/gpg could not sign with key nobody@example.org/);
      expect(existsSync(bad)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.GNUPGHOME;
      else process.env.GNUPGHOME = saved;
    }
  });
});

describe("bad input: a clear error, nothing half-written", () => {
  const fails = async (opts: Partial<Parameters<typeof exportRpmmd>[1]>, re: RegExp, cls: Function = InputError) => {
    const out = opts.out ?? join(work, "bad");
    const err = await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out, ...opts }).catch((e) => e);
    expect(err).toBeInstanceOf(cls);
    expect(String(err.message)).toMatch(re);
  };

  test("unknown branch, unknown date, malformed set", async () => {
    await fails({ sets: ["p42"] }, /no branch "p42" has been loaded/);
    await fails({ sets: ["sisyphus@2026-01-01"] }, /has no package set dated 2026-01-01/);
    await fails({ sets: ["sisyphus@yesterday"] }, /not BRANCH or BRANCH@YYYY-MM-DD/);
    expect(existsSync(join(work, "bad"))).toBe(false);
  });

  test("an incomplete set is refused", async () => {
    await db.command(
      `INSERT INTO PackageSetName (pkgset_uuid, pkgset_puuid, pkgset_ruuid, pkgset_depth, pkgset_nodename, pkgset_date, pkgset_tag, pkgset_complete)
       VALUES (generateUUIDv4(), toUUID('00000000-0000-0000-0000-000000000000'), toUUID('11111111-2222-3333-4444-555555555555'), 0, 'sisyphus', toDateTime('2026-11-21 00:00:00', 'UTC'), 't', 0)`,
    );
    await fails({ sets: ["sisyphus@2026-11-21"] }, /is incomplete/);
    // without a date the latest complete set is used
    const r = await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out: join(work, "latest") });
    expect(r.sets[0].date).toBe(DATE);
  });

  test("an output directory that is not ours is refused and left as it was", async () => {
    const out = join(work, "foreign");
    mkdirSync(out);
    writeFileSync(join(out, "keep.txt"), "mine");
    await fails({ out }, /not written by altrepodb export/);
    expect(readdirSync(out)).toEqual(["keep.txt"]);
  });

  test("a full disk: the error names the cause, the previous export stays in place, no temp dir", async () => {
    await withFullDisk(48, async (out) => {
      await fails({ out }, /no space left on device.*nothing was changed/i, ExportWriteError);
    });
  });

  test("a set whose packages lack the 0108 fields is refused, naming them", async () => {
    const [row] = await db.query<{ h: bigint }>("SELECT pkg_hash AS h FROM Packages WHERE pkg_name = 'files' AND pkg_sourcepackage = 0 LIMIT 1");
    await db.command(`DELETE FROM PackageHeaderInfo WHERE pkg_hash = ${row.h}`);
    await fails({}, /1 of \d+ packages lack what rpm-md needs.*files-1\.0-alt1\.noarch\.rpm/);
    // the remedy the message names: package load --force stores the missing row, and only it
    const file = snap.rpms.find((e) => e.name === "files-1.0-alt1.noarch.rpm")!.path;
    const r = await loadPackages(contextFor(db), { files: [file], force: true });
    expect(r.failures).toEqual([]);
    const [n] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM Packages WHERE pkg_hash = ${row.h}`);
    expect(Number(n.n)).toBe(1);
    const out = join(work, "refilled");
    await exportRpmmd(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out });
    expect(readRepo(out).primary).toBe(ours.primary);
  });
});
