/**
 * `altrepodb repo load` as a user runs it: a separate process with its own embedded database.
 * Killed with SIGKILL at the worst moments, then run again: the end state has every row once.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { cli, newConfig as newConfig_, query } from "../helpers/cli";
import { slowOr } from "../helpers/slow";
import type { SnapshotResult } from "../fixtures/snapshot";
import { edgeSnapshot } from "./_snapshot";

const newConfig = () => newConfig_("cli");

/** No row twice, and exactly the snapshot's packages. */
function expectExactlyOnce(config: string, snap: SnapshotResult): void {
  const total = snap.srpms.length + snap.rpms.length;
  const [p] = query(config, "SELECT count() AS n, uniqExact(pkg_hash) AS u FROM Packages");
  expect(Number(p.n)).toBe(total);
  expect(Number(p.u)).toBe(total);
  const [f] = query(config, "SELECT count() AS n, uniqExact(pkg_hash, file_hashname) AS u FROM Files");
  expect(Number(f.n)).toBe(Number(f.u));
  const [d] = query(config, "SELECT count() AS n, uniqExact(pkg_hash, dp_name, dp_version, dp_flag, dp_type) AS u FROM Depends");
  expect(Number(d.n)).toBe(Number(d.u));
  const [h] = query(config, "SELECT count() AS n, uniqExact(pkgh_mmh) AS u FROM PackageHash");
  expect([Number(h.n), Number(h.u)]).toEqual([total, total]);
  const [b] = query(config, "SELECT count() AS n, uniqExact(pkg_hash) AS u FROM PackageHeaderBlob");
  expect([Number(b.n), Number(b.u)]).toEqual([total, total]);
  const [s] = query(config, "SELECT count() AS n, uniqExact(pkgset_uuid, pkg_hash) AS u FROM PackageSet");
  expect(Number(s.n)).toBe(Number(s.u));
  const roots = query(config, "SELECT pkgset_complete AS c FROM PackageSetName WHERE pkgset_depth = 0");
  expect(roots).toEqual([{ c: 1 }]);
}

let snap: SnapshotResult;
beforeAll(async () => {
  snap = await edgeSnapshot();
}, 600_000);

describe("repo load from the command line", () => {
  test("db init, load, summary as JSON, refusal of a second load", () => {
    const cfg = newConfig();
    expect(cli(cfg, ["db", "init"]).code).toBe(0);
    const r = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ branch: "p10", complete: true, packages: { seen: snap.srpms.length + snap.rpms.length, failed: 0 } });
    const again = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already loaded (use --force to replace it)");
    expect(cli(cfg, ["repo", "verify", "p10", snap.root]).code).toBe(0);
  });

  test("usage and input errors have clear messages and exit codes", () => {
    const cfg = newConfig();
    const noDate = cli(cfg, ["repo", "load", "p10", snap.root]);
    expect(noDate.code).toBe(2);
    expect(noDate.stderr).toContain("--date");
    const badPath = cli(cfg, ["repo", "load", "p10", "/nonexistent/snapshot", "--date", "2026-11-20"]);
    expect(badPath.code).toBe(1);
    expect(badPath.stderr).toContain("/nonexistent/snapshot: not a directory");
    expect(badPath.stderr).not.toContain("    at ");
  });

  // every kill point with ALTREPODB_SLOW_TESTS=1; by default one in the package rows, one in the package set
  const points = ["journal-started", "after-Files_insert", "after-Packages", "after-PackageHeaderBlob", "rows-written", "pkgset-after-PackageSet", "before-root"];
  for (const point of slowOr(points, ["after-Files_insert", "pkgset-after-PackageSet"])) {
    test(`killed with SIGKILL at ${point}, run again: every row exactly once`, () => {
      const cfg = newConfig();
      expect(cli(cfg, ["db", "init"]).code).toBe(0);
      const killed = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"], { ALTREPODB_CRASH_AT: point });
      expect(killed.signal).toBe("SIGKILL");
      const rerun = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"]);
      expect(rerun.stderr).not.toContain("ERROR");
      expect(rerun.code).toBe(0);
      expectExactlyOnce(cfg, snap);
    });
  }

  test("killed while copying an unchanged snapshot's package set, run again: every row once", () => {
    const cfg = newConfig();
    expect(cli(cfg, ["db", "init"]).code).toBe(0);
    expect(cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"]).code).toBe(0);
    const killed = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-21"], { ALTREPODB_CRASH_AT: "clone-members" });
    expect(killed.signal).toBe("SIGKILL");
    const rerun = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-21"]);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain("package set was copied");
    const [s] = query(cfg, "SELECT count() AS n, uniqExact(pkgset_uuid, pkg_hash) AS u FROM PackageSet");
    expect(Number(s.n)).toBe(Number(s.u));
    expect(Number(s.n)).toBe(2 * (snap.srpms.length + snap.rpms.length));
    const roots = query(cfg, "SELECT toString(toDate(pkgset_date)) AS d, pkgset_complete AS c FROM PackageSetName WHERE pkgset_depth = 0 ORDER BY d");
    expect(roots).toEqual([{ d: "2026-11-20", c: 1 }, { d: "2026-11-21", c: 1 }]);
  });
});
