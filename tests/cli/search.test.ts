/** `altrepodb search rebuild` as a user runs it (the FileSearch contents are tests/repo/filesearch.test.ts). */
import { beforeAll, expect, test } from "bun:test";
import { cli, newConfig } from "../helpers/cli";

let cfg: string;
beforeAll(() => {
  cfg = newConfig("search_cli", true);
}, 300_000);

test("search rebuild: nothing to do on an empty database; --json prints one report per branch", () => {
  const r = cli(cfg, ["search", "rebuild"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe("no branch has a package set\n");
  const j = cli(cfg, ["search", "rebuild", "--branch", "P11", "--incremental", "--json"]);
  expect(j.code).toBe(0);
  expect(JSON.parse(j.stdout)).toEqual([{ branch: "p11", ruuid: "", date: "", mode: "empty", packages: 0, added: 0, removed: 0, rows_inserted: 0, rows_deleted: 0, seconds: expect.any(Number) }]);
}, 120_000);

test("search rebuild: a branch name that is not plain is a usage error", () => {
  const r = cli(cfg, ["search", "rebuild", "--branch", "p11|x"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("--branch: branch name \"p11|x\" is not a plain name");
}, 120_000);
