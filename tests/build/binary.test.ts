/**
 * The compiled executable (dist/altrepodb, made by build.ts before the tests) works on its own:
 * copied alone into an empty directory it answers --help/--version, and with libchdb named by
 * the environment it creates a database and loads a snapshot (parser workers, spec extraction
 * with every payload compressor are inside the binary).
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { libchdbCandidates } from "../../src/db/embedded/libchdb";
import { scratchDir } from "../fixtures/_util";
import { edgeSnapshot } from "../repo/_snapshot";
import type { SnapshotResult } from "../fixtures/snapshot";

const BIN = join(import.meta.dir, "..", "..", "dist", "altrepodb");
const LIBCHDB = libchdbCandidates().find((p) => existsSync(p))!;

/** Runs in the binary's own (otherwise empty) directory, so nothing of the source tree is near. */
function run(bin: string, args: string[], env: Record<string, string> = {}) {
  const r = Bun.spawnSync([bin, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env }, cwd: dirname(bin), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

let alone: string;
let snap: SnapshotResult;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`bun build.ts\` first (.ci/test does)`);
  const dir = scratchDir("alone");
  alone = join(dir, "altrepodb");
  copyFileSync(BIN, alone);
  snap = await edgeSnapshot();
}, 600_000);

describe("the compiled binary", () => {
  test("--version names the version and the git revision", () => {
    const r = run(alone, ["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^altrepodb \d+\.\d+\.\d+ \([0-9a-f]{12}(-dirty)?\)\n$/);
  });

  test("--help lists the commands", () => {
    const r = run(alone, ["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["db", "sql", "config", "repo", "rpm"]) expect(r.stdout).toContain(c);
  });

  test("without libchdb the error says where it looked and how to get it", () => {
    const r = run(alone, ["db", "init"], { XDG_DATA_HOME: scratchDir("xdg") });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("libchdb.so not found");
    expect(r.stderr).toContain("npm install @chdb/lib-linux-x64-gnu");
  });

  test("db init, sql and repo load with libchdb named by the environment", () => {
    const env = { ALTREPODB_LIBCHDB: LIBCHDB, XDG_DATA_HOME: scratchDir("xdg") };
    expect(run(alone, ["db", "init"], env).code).toBe(0);
    const tables = run(alone, ["sql", "SELECT count() FROM system.tables WHERE database = currentDatabase()"], env);
    expect(tables.code).toBe(0);
    expect(Number(tables.stdout.trim())).toBeGreaterThan(50);
    const load = run(alone, ["repo", "load", "p10", snap.root, "--date", "2026-11-20", "--json"], env);
    expect(load.stderr).not.toContain("ERROR");
    expect(load.code).toBe(0);
    const report = JSON.parse(load.stdout);
    expect(report.packages.failed).toBe(0);
    expect(report.rows.Specfiles_insert).toBe(snap.srpms.length);
  });

  test("output through a slow pipe is complete; a typo of an option is a usage error", () => {
    const env = { ALTREPODB_LIBCHDB: LIBCHDB, XDG_DATA_HOME: scratchDir("xdg") };
    const r = Bun.spawnSync(["bash", "-c", '"$@" | (sleep 1; wc -l)', "piped", alone, "sql", "SELECT number FROM numbers(200000)"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root", ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(r.stdout.toString()).toBe("200000\n");
    const typo = run(alone, ["repo", "load", "p10", snap.root, "--date", "2026-11-20", "--dryrun"], env);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe("");
    expect(typo.stderr).toContain("unknown option --dryrun (did you mean --dry-run?)");
  });
});
