/**
 * export apt-rpm against the fixture generator (tests/fixtures/aptlist.ts, its own header codec)
 * on the same RPM files: a snapshot of the edge-case packages is loaded (loadRepo), its lists
 * exported from the database only (PackageHeaderBlob), and compared entry by entry, tag by tag.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { withFullDisk } from "../helpers/tinyfs";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { buildPkglist as srcPkglist, CHANGELOG_SINCE, decodeEntries, strings, TAG, type AptPackage } from "../../src/export/aptrpm";
import { InputError } from "../../src/loaders/errors";
import { exportAptrpm, type AptrpmExportReport } from "../../src/loaders/export";
import { loadPackages } from "../../src/loaders/package";
import { loadRepo } from "../../src/loaders/repo";
import { parseHeaderList, readHeaderList } from "../../src/rpm/pkglist";
import { buildPkglist, buildSrclist, validateWithPythonRpm } from "../fixtures/aptlist";
import { scratchDir } from "../fixtures/_util";
import type { SnapshotEntry, SnapshotResult } from "../fixtures/snapshot";
import { contextFor, edgeSnapshot, migratedDb } from "../repo/_snapshot";

const DATE = "2026-11-20";
const hasTools = ["xz", "bzip2"].every((t) => Bun.spawnSync(["which", t]).exitCode === 0);

let db: Db;
let snap: SnapshotResult;
let work: string;
let archs: string[];
const reports = new Map<string, AptrpmExportReport>();

/** File paths named by the dependencies of every binary of the snapshot (the export's useful-file rule). */
function allDepFiles(): Set<string> {
  const out = new Set<string>();
  for (const r of snap.rpms) {
    const bytes = new Uint8Array(readFileSync(r.path));
    for (const h of parseHeaderList(mainHeader(bytes))) {
      for (const tag of [1047, 1049, 1054, 1090]) for (const s of h.header.strs(tag)) if (s[0] === 0x2f) out.add(new TextDecoder().decode(s));
    }
  }
  return out;
}

/** The main header bytes of an .rpm file (lead, signature with padding, then the header). */
function mainHeader(bytes: Uint8Array): Uint8Array {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const sigStart = 96;
  const n = dv.getUint32(sigStart + 8);
  const dl = dv.getUint32(sigStart + 12);
  let off = sigStart + 16 + n * 16 + dl;
  off += (8 - (off % 8)) % 8;
  const hn = dv.getUint32(off + 8);
  const hdl = dv.getUint32(off + 12);
  return bytes.subarray(off, off + 16 + hn * 16 + hdl);
}

beforeAll(async () => {
  db = await migratedDb("export_aptrpm");
  snap = await edgeSnapshot();
  const r = await loadRepo(contextFor(db), { branch: "Sisyphus", path: snap.root, date: DATE, tag: "test" });
  expect(r.complete).toBe(true);
  work = scratchDir("aptrpm");
  archs = [...new Set(snap.rpms.map((p) => p.arch))].sort();
  if (!hasTools) return;
  for (const a of archs) reports.set(a, await exportAptrpm(contextFor(db), { sets: ["sisyphus"], arch: a, out: join(work, a) }));
}, 600_000);

function entries(bytes: Uint8Array): { file: string; tags: number[]; bytes: string }[] {
  return [...parseHeaderList(bytes)].map((e) => ({
    file: new TextDecoder().decode(e.apt.filename),
    tags: decodeEntries(e.header.bytes).map((x) => x.tag),
    bytes: Buffer.from(e.header.bytes).toString("hex"),
  }));
}

function compsOf(a: string): string[] {
  return [...new Set(snap.rpms.filter((p) => p.arch === a).map((p) => p.component))].sort();
}

function binaries(a: string, c: string): SnapshotEntry[] {
  return snap.rpms.filter((p) => p.arch === a && p.component === c);
}

function sourcesOf(bins: SnapshotEntry[]): SnapshotEntry[] {
  const names = new Set(bins.map((b) => b.sourcerpm));
  return snap.srpms.filter((s) => names.has(s.name));
}

describe("apt-rpm lists equal genpkglist's on the same files", () => {
  test("pkglist.<comp> of every arch directory, entry by entry, tag by tag", () => {
    if (!hasTools) return console.warn("skipped: xz or bzip2 is not installed");
    const deps = allDepFiles();
    let compared = 0;
    for (const a of archs) {
      for (const c of compsOf(a)) {
        const want = buildPkglist(binaries(a, c).map((p) => p.path), { directory: `RPMS.${c}`, changelogSince: CHANGELOG_SINCE, depFiles: deps });
        const got = new Uint8Array(readFileSync(join(work, a, a, "base", `pkglist.${c}`)));
        const w = entries(want.bytes);
        const g = entries(got);
        expect(g.map((x) => x.file)).toEqual(w.map((x) => x.file));
        for (let i = 0; i < w.length; i++) {
          expect({ file: g[i].file, tags: g[i].tags }).toEqual({ file: w[i].file, tags: w[i].tags });
          expect({ file: g[i].file, bytes: g[i].bytes }).toEqual({ file: w[i].file, bytes: w[i].bytes });
        }
        compared += w.length;
      }
    }
    expect(compared).toBe(snap.rpms.length);
  });

  test("srclist.<comp>: the sources with binaries in that arch directory, with CRPMTAG_BINARY", () => {
    if (!hasTools) return console.warn("skipped: xz or bzip2 is not installed");
    for (const a of archs) {
      for (const c of compsOf(a)) {
        const bins = binaries(a, c);
        const want = buildSrclist(sourcesOf(bins).map((s) => s.path), { directory: `../SRPMS.${c}`, binaries: bins.map((b) => b.path) });
        const got = new Uint8Array(readFileSync(join(work, a, a, "base", `srclist.${c}`)));
        expect(entries(got)).toEqual(entries(want.bytes));
      }
    }
  });

  test("the .xz and .bz2 variants hold the same bytes; release lists every file with its MD5 and BLAKE2b", () => {
    if (!hasTools) return console.warn("skipped: xz or bzip2 is not installed");
    for (const a of archs) {
      const dir = join(work, a, a);
      for (const f of readdirSync(join(dir, "base")).filter((n) => /^(pkg|src)list\.[^.]+$/.test(n))) {
        const raw = readFileSync(join(dir, "base", f));
        expect(Buffer.from(Bun.spawnSync(["xz", "-dc", join(dir, "base", `${f}.xz`)]).stdout).equals(raw)).toBe(true);
        expect(Buffer.from(Bun.spawnSync(["bzip2", "-dc", join(dir, "base", `${f}.bz2`)]).stdout).equals(raw)).toBe(true);
      }
      const release = readFileSync(join(dir, "base", "release"), "utf8");
      const sections = { md5: release.split("MD5Sum:\n")[1].split("BLAKE2b:\n")[0], blake2b512: release.split("BLAKE2b:\n")[1] };
      let lines = 0;
      for (const [algo, text] of Object.entries(sections)) {
        for (const l of text.split("\n").filter((x) => x.startsWith(" "))) {
          const [sum, size, rel] = l.trim().split(" ");
          const data = readFileSync(join(dir, rel));
          expect({ rel, algo, sum, size: Number(size) }).toEqual({ rel, algo, sum: createHash(algo).update(data).digest("hex"), size: data.length });
          lines++;
        }
      }
      // per component: pkglist, srclist, 2 x .bz2, 2 x .xz, release.<comp>; twice (MD5, BLAKE2b)
      expect(lines).toBe(compsOf(a).length * 7 * 2);
      expect(release).toContain(`Components: ${compsOf(a).join(" ")}`);
    }
  });

  test("python3-rpm reads every pkglist and srclist", () => {
    if (!hasTools) return console.warn("skipped: xz or bzip2 is not installed");
    const probe = Bun.spawnSync(["/usr/bin/python3", "-c", "import rpm"], { stderr: "pipe" });
    if (probe.exitCode !== 0) return console.warn("skipped: python3-rpm is not installed");
    for (const a of archs) {
      for (const c of compsOf(a)) {
        const r = validateWithPythonRpm(join(work, a, a, "base", `pkglist.${c}`));
        expect(r.count).toBe(binaries(a, c).length);
        expect(r.names.sort()).toEqual(binaries(a, c).map((b) => b.pkgName).sort());
        expect(validateWithPythonRpm(join(work, a, a, "base", `srclist.${c}`)).count).toBe(sourcesOf(binaries(a, c)).length);
      }
    }
  });

  test("the same set gives the same bytes; --component writes only that component", async () => {
    if (!hasTools) return console.warn("skipped: xz or bzip2 is not installed");
    const a = archs.find((x) => x !== "noarch") ?? archs[0];
    const c = compsOf(a)[0];
    const out = join(work, "again");
    const r = await exportAptrpm(contextFor(db), { sets: ["sisyphus"], arch: a, out, component: c });
    expect(r.components.map((x) => x.component)).toEqual([c]);
    // a set merged with itself publishes the same lists
    const merged = await exportAptrpm(contextFor(db), { sets: ["sisyphus", `sisyphus@${DATE}`], arch: a, out: join(work, "merged"), component: c });
    expect(merged.sets).toEqual([{ set: "sisyphus", date: DATE }, { set: `sisyphus@${DATE}`, date: DATE }]);
    expect(readFileSync(join(work, "merged", a, "base", `pkglist.${c}`)).equals(readFileSync(join(work, a, a, "base", `pkglist.${c}`)))).toBe(true);
    for (const ext of ["", ".xz", ".bz2"]) {
      const f = join(a, "base", `pkglist.${c}${ext}`);
      expect(readFileSync(join(out, f)).equals(readFileSync(join(work, a, f)))).toBe(true);
    }
  });
});

describe("the rules against a real ALT pkglist (corpus-real, p10 x86_64 checkinstall)", () => {
  test("every entry re-made from itself by src/export/aptrpm is byte-equal to what genpkglist wrote", async () => {
    const path = join(import.meta.dir, "..", "corpus-real", "aptrpm", "p10-x86_64-checkinstall", "base", "pkglist.classic.xz");
    if (!existsSync(path)) return console.warn(`skipped: ${path} is missing`);
    const real: Uint8Array[] = [];
    const pkgs: AptPackage[] = [];
    const files = new Set<string>();
    const dec = new TextDecoder();
    for await (const e of readHeaderList(path)) {
      real.push(new Uint8Array(e.header.bytes));
      const ents = decodeEntries(e.header.bytes);
      const dn = ents.find((x) => x.tag === TAG.DIRNAMES);
      const bn = ents.find((x) => x.tag === TAG.BASENAMES);
      const di = ents.find((x) => x.tag === TAG.DIRINDEXES);
      if (dn && bn && di) {
        const dirs = strings(dn);
        const idx = [...e.header.ints(TAG.DIRINDEXES)];
        strings(bn).forEach((b, i) => files.add(dirs[idx[i]] + b));
      }
      pkgs.push({
        header: e.header.bytes,
        fileName: dec.decode(e.apt.filename),
        fileSize: e.apt.filesize ?? 0,
        md5: Buffer.from(e.apt.md5).toString("hex"),
        blake2b: Buffer.from(e.apt.blake2b).toString("hex"),
        name: dec.decode(e.package.name),
        sourceRpm: "",
      });
    }
    expect(real.length).toBeGreaterThan(10);
    const dirs = new Set(pkgs.map((p) => dec.decode(decodeEntries(p.header).find((x) => x.tag === TAG.CRPM_DIRECTORY)!.data.subarray(0, -1))));
    expect([...dirs]).toEqual(["RPMS.checkinstall"]);
    // the kept files are all useful already (ALT computed them over the whole branch)
    const made = srcPkglist(pkgs, { directory: "RPMS.checkinstall", keepOrder: true, depFiles: files, changelogSince: CHANGELOG_SINCE });
    const again = [...parseHeaderList(made.bytes)].map((e) => e.header.bytes);
    expect(again.length).toBe(real.length);
    for (let i = 0; i < real.length; i++) expect({ i, hex: Buffer.from(again[i]).toString("hex") }).toEqual({ i, hex: Buffer.from(real[i]).toString("hex") });
  });
});

describe("bad input: a clear error, nothing half-written", () => {
  const fails = async (opts: Partial<Parameters<typeof exportAptrpm>[1]>, re: RegExp) => {
    const out = opts.out ?? join(work, "bad");
    const err = await exportAptrpm(contextFor(db), { sets: ["sisyphus"], arch: "x86_64", out, ...opts }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(String(err.message)).toMatch(re);
    expect(existsSync(out)).toBe(false);
  };

  test("unknown branch, unknown date, absent arch directory or component", async () => {
    await fails({ sets: ["p42"] }, /no branch "p42" has been loaded/);
    await fails({ sets: ["sisyphus@2026-01-01"] }, /has no package set dated 2026-01-01/);
    await fails({ arch: "mips" }, new RegExp(`no binary packages in arch directory mips .*${archs[0]}`));
    await fails({ arch: archs[0], component: "nosuch" }, /no component nosuch in/);
  });

  test("a full disk: the error names the cause, the previous export stays in place, no temp dir", async () => {
    if (!hasTools) return console.warn("skipped: xz or bzip2 is not installed");
    await withFullDisk(16, async (out) => {
      const err = await exportAptrpm(contextFor(db), { sets: ["sisyphus"], arch: archs[archs.length - 1], out }).catch((e) => e);
      expect(err).toBeInstanceOf(InputError);
      expect(String(err.message)).toMatch(/no space left on device.*nothing was changed/i);
    });
  });

  test("an incomplete set is refused", async () => {
    await db.command(
      `INSERT INTO PackageSetName (pkgset_uuid, pkgset_puuid, pkgset_ruuid, pkgset_depth, pkgset_nodename, pkgset_date, pkgset_tag, pkgset_complete)
       VALUES (generateUUIDv4(), toUUID('00000000-0000-0000-0000-000000000000'), toUUID('11111111-2222-3333-4444-555555555555'), 0, 'sisyphus', toDateTime('2026-11-21 00:00:00', 'UTC'), 't', 0)`,
    );
    await fails({ sets: ["sisyphus@2026-11-21"] }, /is incomplete/);
  });

  test("a set whose packages lack the stored header is refused, naming them; package load --force restores it", async () => {
    if (!hasTools) return console.warn("skipped: xz or bzip2 is not installed");
    const p = snap.rpms.find((e) => e.arch === archs[0])!;
    const [row] = await db.query<{ h: bigint }>(`SELECT pkg_hash AS h FROM Packages WHERE pkg_filename = '${p.name}' LIMIT 1`);
    await db.command(`DELETE FROM PackageHeaderBlob WHERE pkg_hash = ${row.h}`);
    await fails({ arch: archs[0] }, new RegExp(`1 of \\d+ packages lack what apt-rpm needs.*${p.name.replace(/[.+]/g, "\\$&")}`));
    const r = await loadPackages(contextFor(db), { files: [p.path], force: true });
    expect(r.failures).toEqual([]);
    const out = join(work, "refilled");
    await exportAptrpm(contextFor(db), { sets: ["sisyphus"], arch: archs[0], out });
    const f = join(archs[0], "base", `pkglist.${p.component}`);
    expect(readFileSync(join(out, f)).equals(readFileSync(join(work, archs[0], f)))).toBe(true);
  });
});
