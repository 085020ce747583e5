/**
 * Merging package sets, first match wins, origin kept (pkgset merge, export with several sets):
 * the pure merge on lists, and two loaded sets — the edge-case snapshot as `sisyphus`, and a
 * "task" set holding a newer build of `deps` (built here) and an unchanged `alt-tags`.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { mergePackages, sourceNameOf, type MergeItem } from "../../src/export/merge";
import { exportRpmmd, mergeSets } from "../../src/loaders/export";
import { loadRepo } from "../../src/loaders/repo";
import { scratchDir } from "../fixtures/_util";
import { rpmbuild, simpleSpec } from "../fixtures/rpmbuild";
import { makeSnapshot } from "../fixtures/snapshot";
import { contextFor, edgeCaseFiles, migratedDb } from "../repo/_snapshot";
import { readRepo } from "./_repo";

const DATE = "2026-11-20";

describe("the pure merge", () => {
  const p = (name: string, version: string, o: Partial<MergeItem> = {}): MergeItem => ({ name, epoch: 0, version, release: "alt1", arch: "x86_64", source: false, sourceName: name, ...o });

  test("name: a source name in an earlier set hides all its packages in later sets", () => {
    const task = [p("foo", "2"), p("foo", "2", { source: true, arch: "src" })];
    const branch = [p("foo", "1"), p("foo-devel", "1", { sourceName: "foo" }), p("foo", "1", { source: true, arch: "src" }), p("bar", "1")];
    const got = mergePackages([{ origin: "task", packages: task }, { origin: "p10", packages: branch }], "name");
    expect(got.map((x) => [x.name, x.version, x.source, x.origin])).toEqual([
      ["bar", "1", false, "p10"],
      ["foo", "2", false, "task"],
      ["foo", "2", true, "task"],
    ]);
  });

  test("nvr: only the same NEVRA is hidden", () => {
    const a = [p("foo", "2"), p("bar", "1")];
    const b = [p("foo", "1"), p("bar", "1"), p("bar", "1", { arch: "noarch" })];
    const got = mergePackages([{ origin: "a", packages: a }, { origin: "b", packages: b }], "nvr");
    expect(got.map((x) => [x.name, x.version, x.arch, x.origin])).toEqual([
      ["bar", "1", "noarch", "b"],
      ["bar", "1", "x86_64", "a"],
      ["foo", "1", "x86_64", "b"],
      ["foo", "2", "x86_64", "a"],
    ]);
  });

  test("source names from source rpm file names", () => {
    expect(sourceNameOf("foo-bar-1.0-alt1.src.rpm")).toBe("foo-bar");
    expect(sourceNameOf("perl-Foo-Bar-0.01-alt1.1.src.rpm")).toBe("perl-Foo-Bar");
  });
});

let db: Db;
let work: string;

beforeAll(async () => {
  db = await migratedDb("export_merge");
  work = scratchDir("merge");
  const s = simpleSpec({ name: "deps", version: "2.0" });
  const built = await rpmbuild({ spec: s.spec, sources: s.sources, specName: "deps.spec" }, join(work, "build"));
  const edge = await edgeCaseFiles();
  const altTags = edge.filter((f) => /\/alt-tags-1\.0-alt1\.(src|noarch)\.rpm$/.test(f));
  const task = makeSnapshot(join(work, "task"), { packages: [...built.map((b) => b.file), ...altTags] });
  // a few packages are enough for the main set (a small load keeps the file fast)
  const main = makeSnapshot(join(work, "main"), { packages: edge.filter((f) => /\/(deps|files|alt-tags|arch-x86_64)-1\.0-alt1\.(src|noarch|x86_64)\.rpm$/.test(f)) });
  for (const [branch, snap] of [["Sisyphus", main], ["task", task]] as const) {
    const r = await loadRepo(contextFor(db), { branch, path: snap.root, date: DATE, tag: "t" });
    expect(r.complete).toBe(true);
  }
}, 600_000);

describe("loaded sets", () => {
  test("pkgset merge --method name: the task's deps (source and binary) hide sisyphus' deps; origins as given", async () => {
    const r = await mergeSets(contextFor(db), ["task", `sisyphus@${DATE}`], "name");
    const deps = r.packages.filter((p) => p.name === "deps");
    expect(deps.map((p) => [p.version, p.source, p.origin])).toEqual([
      ["2.0", false, "task"],
      ["2.0", true, "task"],
    ]);
    const alt = r.packages.filter((p) => p.name === "alt-tags");
    expect(alt.map((p) => [p.source, p.origin])).toEqual([
      [false, "task"],
      [true, "task"],
    ]);
    expect(r.packages.find((p) => p.name === "files")?.origin).toBe(`sisyphus@${DATE}`);
    expect(Object.keys(r.packages[0]).sort()).toEqual(["arch", "epoch", "name", "origin", "release", "source", "version"]);
  });

  test("pkgset merge --method nvr: both versions of deps, alt-tags once", async () => {
    const r = await mergeSets(contextFor(db), ["task", "sisyphus"], "nvr");
    expect(r.packages.filter((p) => p.name === "deps" && !p.source).map((p) => [p.version, p.origin])).toEqual([
      ["1.0", "sisyphus"],
      ["2.0", "task"],
    ]);
    expect(r.packages.filter((p) => p.name === "alt-tags").map((p) => p.origin)).toEqual(["task", "task"]);
  });

  test("export with several sets publishes the merge", async () => {
    const out = join(work, "overlay");
    const r = await exportRpmmd(contextFor(db), { sets: ["task", "sisyphus"], arch: "x86_64", out });
    const repo = readRepo(out);
    expect(repo.primary).toContain('<location href="noarch/RPMS.classic/deps-2.0-alt1.noarch.rpm"/>');
    expect(repo.primary).not.toContain("deps-1.0-alt1");
    expect(r.packages).toBe([...repo.primary.matchAll(/<package type="rpm">/g)].length);
  });
});
