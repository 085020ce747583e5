/** `altrepodb pkgset merge` and `altrepodb export rpm-md` as a user runs them (own process and database). */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../fixtures/_util";
import { makeSnapshot } from "../fixtures/snapshot";
import { cli, newConfig } from "../helpers/cli";
import { edgeCaseFiles } from "../repo/_snapshot";

// each test runs the CLI as a process; a busy machine makes that slow
setDefaultTimeout(300_000);

let cfg: string;
let work: string;

beforeAll(async () => {
  cfg = newConfig("export-cli", true);
  work = scratchDir("export-cli");
  const edge = await edgeCaseFiles();
  const snap = makeSnapshot(join(work, "snap"), { packages: edge.filter((f) => /\/(deps|files|arch-x86_64)-1\.0-alt1\.(src|noarch|x86_64)\.rpm$/.test(f)) });
  const r = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"]);
  expect(r.code).toBe(0);
}, 600_000);

describe("export and pkgset from the command line", () => {
  test("pkgset merge --json prints {packages: [{name, epoch, version, release, arch, source, origin}]}, sources included", () => {
    const r = cli(cfg, ["pkgset", "merge", "p10", "p10@2026-11-20", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(["packages"]);
    expect(j.packages).toContainEqual({ name: "deps", epoch: 0, version: "1.0", release: "alt1", arch: "noarch", source: false, origin: "p10" });
    expect(j.packages.filter((p: { source: boolean }) => p.source).length).toBe(3);
    expect(j.packages.every((p: { origin: string }) => p.origin === "p10")).toBe(true);
  });

  test("export rpm-md --json: the report with snake_case keys", () => {
    const out = join(work, "repo");
    const r = cli(cfg, ["export", "rpm-md", "p10", "--arch", "x86_64", "--out", out, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.packages).toBe(3);
    expect(j.sets).toEqual([{ set: "p10", date: "2026-11-20" }]);
    expect(j.files.map((f: { open_checksum: string }) => f.open_checksum.length)).toEqual([64, 64, 64]);
    expect(existsSync(join(out, "repodata", "repomd.xml"))).toBe(true);
  });

  test("export apt-rpm --json: the report with snake_case keys, the lists under <out>/<arch>/base", () => {
    const out = join(work, "apt");
    const r = cli(cfg, ["export", "apt-rpm", "p10", "--arch", "noarch", "--out", out, "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sets).toEqual([{ set: "p10", date: "2026-11-20" }]);
    expect(j.components).toEqual([{ component: "classic", packages: 2, sources: 2 }]);
    expect(j.files.map((f: { path: string }) => f.path)).toContain("noarch/base/pkglist.classic.xz");
    expect(existsSync(join(out, "noarch", "base", "release"))).toBe(true);
    const absent = cli(cfg, ["export", "apt-rpm", "p10", "--arch", "mips", "--out", join(work, "y")]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toContain("no binary packages in arch directory mips");
    expect(existsSync(join(work, "y"))).toBe(false);
  });

  test("bad input: exit 1 with one line naming the set, nothing written; bad option: exit 2", () => {
    const unknown = cli(cfg, ["export", "rpm-md", "p11", "--arch", "x86_64", "--out", join(work, "x")]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toEqual([expect.stringContaining('package set p11: no branch "p11" has been loaded')]);
    expect(existsSync(join(work, "x"))).toBe(false);
    expect(cli(cfg, ["pkgset", "merge", "p10", "--method", "newest"]).code).toBe(2);
  });
});
