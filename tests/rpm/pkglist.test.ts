/**
 * apt-rpm header lists: the real ALT p10 pkglist, lists written by the fixture generator (xz in
 * several streams, bz2, plain; pkglist and srclist), and corrupt lists. librpm's
 * readHeaderListFromFile is the oracle for the header values.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { toHex } from "../../src/hash/index.ts";
import { type AptEntry, dumpAptEntry, parseHeaderList, readHeaderList, RpmError, text } from "../../src/rpm/index.ts";
import { writePkglist, writeSrclist } from "../fixtures/aptlist.ts";
import { buildEdgeCasePackages } from "../fixtures/rpms.ts";
import { hasCorpus, P10_PKGLIST, P10_RELEASE, scratchDir } from "./_corpus.ts";
import { diffPackage, oracleAvailable, runOracle } from "./compare.ts";

const dir = scratchDir("pkglist");
beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string): Promise<AptEntry[]> {
  const out: AptEntry[] = [];
  for await (const e of readHeaderList(path)) out.push(e);
  return out;
}

function xz(args: string[], input: Uint8Array): Uint8Array {
  const r = spawnSync("xz", args, { input, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`xz failed: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}

function md5(b: Uint8Array): string {
  return createHash("md5").update(b).digest("hex");
}

type Deps = { names: string[]; flags: number[]; versions: string[] };

/**
 * librpm 4.18 treats a header without an immutable region as legacy and appends the rpm-3
 * self-provide "NAME = [E:]V-R" (even when it is already there). The reference read lists with
 * its own parser, without that retrofit, and so do we: drop exactly that last provide.
 */
function withoutLegacyProvide(h: Record<string, unknown>): Record<string, unknown> {
  const p = h.provides as Deps;
  const n = p.names.length - 1;
  const evr = `${h.epoch === null ? "" : `${h.epoch}:`}${h.version}-${h.release}`;
  if (n < 0 || p.names[n] !== h.name || p.flags[n] !== 8 || p.versions[n] !== evr || h.sourcepackage) return h;
  return { ...h, provides: { names: p.names.slice(0, n), flags: p.flags.slice(0, n), versions: p.versions.slice(0, n) } };
}

/** Compare list entries with python3-rpm's readHeaderListFromFile on the uncompressed list. */
function expectOracleAgrees(entries: AptEntry[], rawPath: string, allowed: string[] = []): void {
  const lib = runOracle([rawPath], ["--list"]).get(rawPath);
  const headers = lib?.headers as Record<string, unknown>[];
  expect(headers.length).toBe(entries.length);
  entries.forEach((e, i) => {
    const theirs = e.package.isSource ? headers[i] : withoutLegacyProvide(headers[i]);
    const diffs = diffPackage(dumpAptEntry(e), theirs).filter((d) => !allowed.some((a) => d.startsWith(`${a}:`)));
    expect(diffs).toEqual([]);
  });
}

describe.skipIf(!hasCorpus)("the real ALT p10 pkglist (checkinstall component)", () => {
  let entries: AptEntry[] = [];
  let raw: Uint8Array;
  const rawPath = join(dir, "pkglist.checkinstall");
  beforeAll(async () => {
    entries = await readAll(P10_PKGLIST);
    raw = xz(["-dc"], new Uint8Array(readFileSync(P10_PKGLIST)));
    writeFileSync(rawPath, raw);
  });

  test("14 headers, back to back, covering the whole decompressed list", () => {
    expect(entries.length).toBe(14);
    expect(entries[0].offset).toBe(0);
    const last = entries[13];
    expect(last.offset + last.header.bytes.length).toBe(raw.length);
  });

  test("its MD5 and size match the base/release line of real p10", () => {
    expect(raw.length).toBe(240792);
    expect(md5(raw)).toBe("2a302598dcead80c989aa1c2fb2b7219");
    // the corpus release file is the component release; the global release line is quoted in
    // the reference (test-material.md §2.3) and in the corpus README
    expect(readFileSync(P10_RELEASE, "utf8")).toContain("Component: checkinstall");
  });

  test("apt tags: file name, size, MD5, BLAKE2b, directory", () => {
    for (const e of entries) {
      expect(text(e.apt.filename)).toMatch(/-checkinstall-.*\.x86_64\.rpm$/);
      expect(e.apt.filesize).toBeGreaterThan(0);
      expect(e.apt.md5.length).toBe(16);
      expect(e.apt.blake2b.length).toBe(64);
      expect(text(e.apt.directory)).toBe("RPMS.checkinstall");
      expect(e.package.isSource).toBe(false);
    }
    expect(text(entries[0].apt.filename)).toBe("control++-checkinstall-0.21.0-alt1.x86_64.rpm");
    expect(entries[0].apt.filesize).toBe(15917);
    expect(toHex(entries[0].apt.md5)).toBe("5178f9c4636ac15a5bdf64403ef3676e");
    expect(text(entries[0].package.disttag)).toBe("p10+294969.200.3.1");
  });

  test.skipIf(!oracleAvailable())("every header agrees with librpm's readHeaderListFromFile", () => {
    expectOracleAgrees(entries, rawPath);
  });

  test("the plain (uncompressed) list and the in-memory parser give the same entries", async () => {
    const plain = await readAll(rawPath);
    const mem = [...parseHeaderList(raw, rawPath)];
    expect(plain.map((e) => e.offset)).toEqual(entries.map((e) => e.offset));
    expect(mem.map((e) => dumpAptEntry(e))).toEqual(plain.map((e) => dumpAptEntry(e)));
  });

  test("several concatenated xz streams (genbasedir's big lists) are read as one list", async () => {
    const cut = entries[7].offset;
    const two = new Uint8Array([...xz(["-c"], raw.subarray(0, cut)), ...xz(["-c"], raw.subarray(cut))]);
    const f = join(dir, "two-streams.xz");
    writeFileSync(f, two);
    const got = await readAll(f);
    expect(got.map((e) => text(e.package.name))).toEqual(entries.map((e) => text(e.package.name)));
  });

  test("a corrupt entry in the middle is an RpmError at its offset (the reference silently truncated the list)", async () => {
    const bad = raw.slice();
    const off = entries[5].offset;
    bad[off] = 0x00; // header magic of entry 5
    const f = join(dir, "corrupt-middle.xz");
    writeFileSync(f, xz(["-c"], bad));
    const seen: number[] = [];
    let err: unknown;
    try {
      for await (const e of readHeaderList(f)) seen.push(e.offset);
    } catch (e) {
      err = e;
    }
    expect(seen.length).toBe(5);
    expect(err).toBeInstanceOf(RpmError);
    expect((err as RpmError).code).toBe("magic");
    expect((err as RpmError).offset).toBe(off);
  });

  test("a list cut inside a header is an RpmError truncated", async () => {
    const f = join(dir, "cut.xz");
    writeFileSync(f, xz(["-c"], raw.subarray(0, entries[3].offset + 500)));
    const err = await readAll(f).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
    expect(err.code).toBe("truncated");
  });

  test("a damaged xz stream is an RpmError compression", async () => {
    const comp = new Uint8Array(readFileSync(P10_PKGLIST));
    comp[comp.length >> 1] ^= 0xff;
    const f = join(dir, "damaged.xz");
    writeFileSync(f, comp);
    const err = await readAll(f).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
    expect(err.code).toBe("compression");
  });

  test("an empty file is an empty list; garbage is an RpmError", async () => {
    const empty = join(dir, "empty");
    writeFileSync(empty, "");
    expect(await readAll(empty)).toEqual([]);
    const junk = join(dir, "junk");
    writeFileSync(junk, "not a list at all");
    const err = await readAll(junk).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
  });
});

describe("lists written by the fixture generator", async () => {
  const m = await buildEdgeCasePackages();
  const bins = m.packages.filter((p) => !p.isSource).map((p) => p.file);
  const srcs = m.packages.filter((p) => p.isSource).map((p) => p.file);
  const out = scratchDir("pkglist-fixtures");
  mkdirSync(out, { recursive: true });
  const pl = writePkglist(bins, join(out, "pkglist.classic.xz"), { directory: "RPMS.classic", xzStreams: 2, alsoWrite: ["raw", "bz2"] });
  const sl = writeSrclist(srcs, join(out, "srclist.classic.xz"), { directory: "../SRPMS.classic", binaries: bins, alsoWrite: ["raw"] });
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  for (const variant of ["pkglist.classic.xz", "pkglist.classic.bz2", "pkglist.classic"]) {
    test(`${variant}: every entry with its apt tags`, async () => {
      const got = await readAll(join(out, variant));
      expect(got.length).toBe(pl.packages.length);
      got.forEach((e, i) => {
        const want = pl.packages[i];
        expect(text(e.apt.filename)).toBe(want.filename);
        expect(toHex(e.apt.md5)).toBe(want.md5);
        expect(toHex(e.apt.blake2b)).toBe(want.blake2b);
        expect(e.apt.filesize).toBe(want.size);
        expect(text(e.apt.directory)).toBe("RPMS.classic");
        expect(text(e.package.name)).toBe(want.name);
      });
    });
  }

  test("srclist: sources, with CRPMTAG_BINARY", async () => {
    const got = await readAll(join(out, "srclist.classic.xz"));
    expect(got.length).toBe(sl.packages.length);
    for (const e of got) {
      expect(e.package.isSource).toBe(true);
      expect(text(e.apt.directory)).toBe("../SRPMS.classic");
    }
    const multi = got.find((e) => text(e.apt.filename) === "multi-sub-1.0-alt1.src.rpm");
    expect(multi?.apt.binary.map(text).sort()).toEqual(["multi-data", "multi-sub", "multi-sub-devel", "multi-sub-doc"]);
  });

  test.skipIf(!oracleAvailable())("pkglist and srclist agree with librpm", async () => {
    expectOracleAgrees(await readAll(join(out, "pkglist.classic")), join(out, "pkglist.classic"));
    // librpm has no SOURCEPACKAGE for list headers; we call a header without SOURCERPM a source
    expectOracleAgrees(await readAll(join(out, "srclist.classic")), join(out, "srclist.classic"), ["sourcepackage"]);
  });

  test("file names of the package model are the list's stripped file list", async () => {
    const got = await readAll(join(out, "pkglist.classic"));
    const withFiles = got.filter((e) => e.package.files.count > 0);
    expect(withFiles.length).toBeGreaterThan(0);
    for (const e of withFiles) for (const n of e.package.files.names) expect(text(n).startsWith("/")).toBe(true);
    expect(basename(out)).toContain("pkglist-fixtures");
  });
});
