/** `altrepodb rpmdb dump` run as a process (source tree, or the binary named by ALTREPODB_TEST_BINARY). */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CLI } from "../helpers/cli.ts";
import { CORPUS_RPMDB, expectedList } from "./_fixtures.ts";

function run(...args: string[]) {
  const r = Bun.spawnSync([...CLI, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

const jsonLines = (s: string) => s.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe("altrepodb rpmdb dump", () => {
  test("--json: one object per package, the fields of `rpm dump`, gpg-pubkey included", () => {
    const dir = join(CORPUS_RPMDB, "sqlite-rpm-org");
    const r = run("rpmdb", "dump", "--json", dir);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.out);
    expect(lines.map((l) => l.name)).toEqual(["foo", "hlinktest", "gpg-pubkey"]);
    for (const l of lines) {
      expect(l.path).toBe(join(dir, "rpmdb.sqlite"));
      for (const k of ["key", "epoch", "version", "release", "arch", "sha1header", "pkg_hash", "files", "requires", "provides", "changelog"]) expect(l).toHaveProperty(k);
    }
    expect(lines.map((l) => l.key)).toEqual([1, 2, 3]);
    expect((lines[1].files as unknown[]).length).toBeGreaterThan(0);
  }, 120_000);

  test("every database of the corpus: the packages of expected.tsv", () => {
    for (const name of ["bdb-el8-libuuid", "ndb-sle15-bci", "sqlite-rpm-org"]) {
      const dir = join(CORPUS_RPMDB, name);
      const r = run("rpmdb", "dump", "--json", dir);
      expect(r.code).toBe(0);
      const got = jsonLines(r.out).map((l) => [l.name, l.epoch ?? 0, l.version, l.release, l.arch, l.sha1header].join("\t"));
      expect(got.sort()).toEqual(expectedList(dir).sort());
    }
  }, 120_000);

  test("readable form, one block per package", () => {
    const r = run("rpmdb", "dump", join(CORPUS_RPMDB, "bdb-el8-libuuid", "Packages"));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^== .*Packages #1$/m);
    expect(r.out).toMatch(/^name:\s+libuuid$/m);
    expect(r.out).toMatch(/^files \(\d+\):$/m);
  }, 120_000);

  test("usage: no path, two paths → exit 2", () => {
    expect(run("rpmdb", "dump").code).toBe(2);
    const two = run("rpmdb", "dump", join(CORPUS_RPMDB, "bdb-el8-libuuid"), join(CORPUS_RPMDB, "ndb-sle15-bci"));
    expect(two.code).toBe(2);
    expect(two.err).toContain("unexpected argument");
  }, 120_000);

  test("a missing path: one line naming it, exit 1", () => {
    const r = run("rpmdb", "dump", "/nonexistent/var/lib/rpm");
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain("/nonexistent/var/lib/rpm: cannot open");
  }, 120_000);
});
