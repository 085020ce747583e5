/**
 * createrepo_c's per-package rules on packages built for them (rpmbuild at test time), loaded
 * with loadPackages and written from the database, against createrepo_c 0.17 on the same file:
 * equal changelog times across the 10-entry limit, self-provided requires, libc.so.6 requires,
 * requires of the package's own /etc and bin/ files, duplicates, pre/post requires, explicit
 * Epoch: 0, ghost and special file names, characters XML escapes. Plus the pure rules alone.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { depsOf, forceUtf8, newestChangelog, escAttr, filelistsFragment, otherFragment, primaryFragment, type RpmmdDep } from "../../src/export/rpmmd";
import { loadPackages } from "../../src/loaders/package";
import { readRpmmdRows } from "../../src/loaders/export/rpmmd-rows";
import { pkgHash, readPackage } from "../../src/rpm";
import { scratchDir } from "../fixtures/_util";
import { renderChangelog, rpmbuild, simpleSpec } from "../fixtures/rpmbuild";
import { contextFor, migratedDb } from "../helpers/context";
import { hasCreaterepo, packagesOf, readRepo, CREATEREPO } from "./_repo";

const DAYS = ["2024-01-01", "2024-01-01", "2024-01-01", "2023-06-01", "2023-06-01", "2023-01-01", "2022-01-01", "2021-01-01", "2021-01-01", "2020-01-01", "2020-01-01", "2019-01-01"];

function spec() {
  return simpleSpec({
    name: "rules",
    epoch: 0,
    summary: "Rules & <checks> \"quoted\"",
    preamble: [
      "Provides: selfprov = 1.0",
      "Provides: other-prov",
      "Provides: q(a&b<c>)",
      "Requires: selfprov = 1.0",
      "Requires: other-prov",
      "Requires: other-prov >= 2",
      "Requires: libc.so.6(GLIBC_2.3)",
      "Requires: libc.so.6(GLIBC_2.17)",
      "Requires: libc.so.6(GLIBC_PRIVATE)",
      "Requires: libc.so.6()",
      "Requires: /etc/rules/rules.conf",
      "Requires: /usr/bin/rules-tool",
      "Requires: /usr/share/rules/data.txt",
      "Requires: plain",
      "Requires: plain",
      "Requires(pre): plain",
      "Requires(post): plain",
      "Requires(postun): plain",
      "Recommends: rec >= 1:2.0-alt3",
      "Conflicts: bad = 0:1-1",
    ],
    install: [
      "mkdir -p %buildroot/etc/rules %buildroot/usr/bin %buildroot/usr/share/rules %buildroot/var/cache/rules",
      "echo conf > %buildroot/etc/rules/rules.conf",
      "printf '#!/bin/sh\\n' > %buildroot/usr/bin/rules-tool && chmod 755 %buildroot/usr/bin/rules-tool",
      "echo data > %buildroot/usr/share/rules/data.txt",
      "echo amp > '%buildroot/usr/share/rules/a&b<c>.txt'",
    ].join("\n"),
    files: [
      "/etc/rules",
      "/usr/bin/rules-tool",
      "/usr/share/rules",
      "%ghost %dir /var/cache/rules",
      "%ghost /var/cache/rules/state",
    ].join("\n"),
    changelog: renderChangelog(DAYS.map((date, i) => ({ date, who: "Ivan Petrov <ivan@altlinux.org>", evr: `1.${DAYS.length - i}-alt1`, lines: [`entry ${i} & <more>`] }))),
  });
}

let db: Db;
let file: string;
let dir: string;

beforeAll(async () => {
  dir = scratchDir("rules");
  const s = spec();
  const built = await rpmbuild({ spec: s.spec, sources: s.sources, specName: "rules.spec", mode: "-bb" }, dir);
  file = built.find((b) => !b.isSource)!.file;
  db = await migratedDb("export_rules");
  const r = await loadPackages(contextFor(db), { files: [file] });
  expect(r.failures).toEqual([]);
}, 600_000);

describe("one package against createrepo_c", () => {
  test("primary, filelists and other fragments are byte-equal", async () => {
    if (!hasCreaterepo) return console.warn("skipped: /usr/bin/createrepo_c is not installed");
    const out = join(dir, "cr");
    mkdirSync(out, { recursive: true });
    const r = Bun.spawnSync([CREATEREPO, "--no-database", "-o", out, join(dir, "RPMS")], { stdout: "pipe", stderr: "pipe", timeout: 120_000 });
    expect({ code: r.exitCode, err: r.stderr.toString() }).toEqual({ code: 0, err: expect.any(String) });
    const theirs = readRepo(out);
    const h = pkgHash(readPackage(file));
    const [row] = await readRpmmdRows(db, [{ pkgHash: h, name: "rules", arch: "noarch", epoch: 0, version: "1.0", release: "alt1", href: "noarch/rules-1.0-alt1.noarch.rpm" }], `(${h})`);
    expect(primaryFragment(row)).toBe([...packagesOf(theirs.primary).values()][0]);
    expect(filelistsFragment(row)).toBe([...packagesOf(theirs.filelists).values()][0]);
    expect(otherFragment(row)).toBe([...packagesOf(theirs.other).values()][0]);
  });
});

describe("the rules alone", () => {
  const dep = (name: string, flags = 0, version = "", kind: RpmmdDep["kind"] = "require"): RpmmdDep => ({ kind, name, flags, version });

  test("equal changelog times are moved apart, oldest first, newest 10 only", () => {
    const all = [300, 200, 200, 200, 100, 90, 80, 70, 60, 50, 40, 30].map((date, i) => ({ author: "a", date, text: String(i) }));
    const got = newestChangelog(all);
    expect(got.map((c) => [c.text, c.date])).toEqual([
      ["9", 50], ["8", 60], ["7", 70], ["6", 80], ["5", 90], ["4", 100], ["3", 200], ["2", 201], ["1", 202], ["0", 300],
    ]);
  });

  test("requires: rpmlib, self-provided, own primary files, duplicates, libc, bad epoch", () => {
    const deps = [
      dep("p", 8, "1.0", "provide"),
      dep("rpmlib(PayloadIsXz)", 16777226, "5.2-1"),
      dep("p", 8, "1.0"),
      dep("p", 12, "1.0"),
      dep("/etc/x"),
      dep("/usr/share/x"),
      dep("x"),
      dep("x"),
      dep("x", 512),
      dep("x"),
      dep("libc.so.6(GLIBC_2.3)(64bit)"),
      dep("libc.so.6(GLIBC_2.17)(64bit)"),
      dep("y", 12, "set:abc"),
    ];
    const files = new Set(["/etc/x", "/usr/share/x"]);
    expect(depsOf(deps, "require", files).map((d) => [d.name, d.flags, d.pre])).toEqual([
      ["p", "GE", false],
      ["/usr/share/x", null, false],
      ["x", null, false],
      ["x", null, true],
      ["x", null, false],
      ["libc.so.6(GLIBC_2.17)(64bit)", null, false],
    ]);
  });

  test("non-UTF-8 text and attribute escaping", () => {
    expect(forceUtf8(new Uint8Array([0x41, 0xa3, 0xd6, 0x80]))).toBe("A\u00d6");
    expect(forceUtf8(Buffer.from("ёжик"))).toBe("ёжик");
    expect(escAttr('a&b<c>"d"\té')).toBe("a&amp;b&lt;c&gt;&quot;d&quot;&#9;&#xE9;");
  });
});
