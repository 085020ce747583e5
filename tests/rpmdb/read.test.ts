/**
 * src/rpmdb against librpm: the real databases of the corpus (expected.tsv and, where Debian's rpm
 * reads the format, `rpm -qa` itself) and Berkeley DB files written with db5.3_load from real
 * installed headers — both byte orders, small pages (long overflow chains), big pages (values on
 * the bucket pages), page checksums, thousands of records.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type DumpedPackage, dumpPackage, readPackage, text } from "../../src/rpm/index.ts";
import { openRpmdb, readRpmdb, type RpmdbRecord } from "../../src/rpmdb/index.ts";
import { type Blob, CORPUS_RPMDB, corpusRpms, expectedList, hasDbLoad, hasRpm, installedDb, installedHeaders, librpmList, scratchDir, writeBdb } from "./_fixtures.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

function line(r: RpmdbRecord): string {
  const p = r.package!;
  return [text(p.name), String(p.epoch ?? 0), text(p.version), text(p.release), text(p.arch), hex(p.sha1header)].join("\t");
}

async function ours(path: string): Promise<{ lines: string[]; records: RpmdbRecord[]; count: number; format: string }> {
  const db = openRpmdb(path);
  const records: RpmdbRecord[] = [];
  try {
    for await (const r of db.records()) records.push(r);
  } finally {
    db.close();
  }
  for (const r of records) if (r.error) throw r.error;
  return { lines: records.map(line), records, count: db.count, format: db.format };
}

const sorted = (a: string[]) => [...a].sort();

describe("the real databases of the corpus", () => {
  for (const name of readdirSync(CORPUS_RPMDB)) {
    test(`${name}: every package of expected.tsv (librpm's answer)`, async () => {
      const dir = join(CORPUS_RPMDB, name);
      const r = await ours(dir);
      expect(sorted(r.lines)).toEqual(sorted(expectedList(dir)));
      expect(r.count).toBe(r.lines.length);
      expect(r.format).toBe(name.split("-")[0]);
    }, 120_000);
  }

  test.skipIf(!hasRpm)("Berkeley DB and sqlite: the same list in the same order as `rpm -qa`", async () => {
    const bdb = join(CORPUS_RPMDB, "bdb-el8-libuuid", "Packages");
    expect((await ours(bdb)).lines).toEqual(librpmList(bdb, "bdb_ro"));
    const sq = join(CORPUS_RPMDB, "sqlite-rpm-org", "rpmdb.sqlite");
    const r = await ours(sq);
    expect(r.lines).toEqual(librpmList(sq, "sqlite"));
    expect(r.lines.some((l) => l.startsWith("gpg-pubkey\t"))).toBe(true);
  }, 120_000);

  test("readRpmdb opens, yields the header bytes and the parsed package, and closes", async () => {
    const names: string[] = [];
    for await (const r of readRpmdb(join(CORPUS_RPMDB, "sqlite-rpm-org"))) {
      expect(r.header.length).toBeGreaterThan(16);
      expect(r.package?.header.bytes).toEqual(r.header);
      names.push(text(r.package!.name));
    }
    expect(names).toEqual(["foo", "hlinktest", "gpg-pubkey"]);
  }, 120_000);
});

describe.skipIf(!hasDbLoad || !hasRpm)("Berkeley DB written by db5.3_load from real installed headers", () => {
  let blobs: Blob[];
  const dirs: string[] = [];
  const scratch = () => {
    const d = scratchDir("rpmdb-bdb");
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  beforeAll(async () => {
    blobs = await installedHeaders();
  }, 300_000);

  const variants = [
    { name: "little-endian, 4 KiB pages, 40 copies (thousands of records)", copies: 40, opts: { pageSize: 4096 } },
    { name: "big-endian, 512-byte pages (long overflow chains)", copies: 3, opts: { pageSize: 512, bigEndian: true } },
    { name: "64 KiB pages with checksums (values on the bucket pages)", copies: 3, opts: { pageSize: 65536, checksum: true } },
    { name: "big-endian, 64 KiB pages", copies: 2, opts: { pageSize: 65536, bigEndian: true } },
  ];

  for (const v of variants) {
    test(v.name, async () => {
      expect(blobs.length).toBeGreaterThan(40);
      const all = Array.from({ length: v.copies }, () => blobs.map((b) => b.blob)).flat();
      const dir = scratch();
      const file = writeBdb(dir, all, v.opts);
      const r = await ours(file);
      expect(r.count).toBe(all.length);
      // librpm's bdb_ro cannot read page checksums: its answer for the same database without them
      // (same hash order) is the oracle then
      const oracle = v.opts.checksum ? writeBdb(join(dir, "twin"), all, { ...v.opts, checksum: false }) : file;
      expect(r.lines).toEqual(librpmList(oracle, "bdb_ro"));
      // every record byte-exact: key k holds blob k-1
      for (const rec of r.records) expect(hex(rec.header)).toBe(hex(all[rec.key - 1]));
      expect(new Set(r.records.map((x) => x.key)).size).toBe(all.length);
      // both kinds of values occur: on the bucket page and in overflow pages
      expect(r.records.some((x) => x.where.includes("overflow"))).toBe(true);
      if (v.opts.pageSize === 65536) expect(r.records.some((x) => !x.where.includes("overflow"))).toBe(true);
    }, 120_000);
  }

  test("an installed header dumps like its .rpm file: the same pkg_hash, files, dependencies and changelog", async () => {
    const fromFiles = new Map<string, DumpedPackage>();
    for (const f of corpusRpms()) {
      try {
        const d = dumpPackage(readPackage(f));
        fromFiles.set(`${d.name} ${d.sha1header} ${d.sigmd5}`, d);
      } catch {
        // unreadable corpus files are not installed either
      }
    }
    const file = writeBdb(scratch(), blobs.map((b) => b.blob));
    let n = 0;
    for await (const r of readRpmdb(file)) {
      const d = dumpPackage(r.package!);
      const o = fromFiles.get(`${d.name} ${d.sha1header} ${d.sigmd5}`);
      expect(o).toBeDefined();
      n++;
      // install-time differences only: the file's own path/size, and tags librpm adds on install
      for (const k of ["pkg_hash", "name", "epoch", "version", "release", "arch", "buildtime", "sha1header", "sigmd5", "files", "changelog"]) {
        expect(d[k]).toEqual(o![k]);
      }
      // a legacy (v3) package file gets its NAME = EVR provide appended again by librpm 4.18 even
      // when it has one (src/rpm); its installed header was converted, so it does not
      const uniq = (l: unknown) => [...new Map((l as { name: string; flags: number; version: string }[]).map((p) => [`${p.name} ${p.flags} ${p.version}`, p])).values()];
      expect(uniq(d.provides)).toEqual(uniq(o!.provides));
    }
    expect(n).toBe(blobs.length);
  }, 120_000);

  test("hash versions 8 (Berkeley DB 4.4/4.5) and 10 (6.x) read like version 9, as librpm reads them", async () => {
    for (const version of [8, 10]) {
      const file = writeBdb(scratch(), blobs.map((b) => b.blob));
      const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
      new DataView(bytes.buffer).setUint32(16, version, true);
      writeFileSync(file, bytes);
      const r = await ours(file);
      expect(r.lines).toEqual(librpmList(file, "bdb_ro"));
    }
  }, 120_000);

  test("a database without rpm's key-0 counter", async () => {
    const file = writeBdb(scratch(), blobs.map((b) => b.blob), { counter: false });
    const r = await ours(file);
    expect(r.count).toBe(blobs.length);
    expect(r.lines).toEqual(librpmList(file, "bdb_ro"));
  }, 120_000);

  test("an installed sqlite database equals librpm, and a directory with both formats opens the sqlite one", async () => {
    const dir = scratch();
    copyFileSync(join(await installedDb(), "rpmdb.sqlite"), join(dir, "rpmdb.sqlite"));
    writeBdb(dir, [blobs[0].blob]);
    const r = await ours(dir);
    expect(r.format).toBe("sqlite");
    expect(r.lines).toEqual(librpmList(join(dir, "rpmdb.sqlite"), "sqlite"));
  }, 120_000);
});
