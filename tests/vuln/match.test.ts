/**
 * vuln map load + vuln match on a database holding a package set: hand-computed PackagesCveMatch
 * and PackagesVulnerabilityStatus rows; reruns write nothing; a record that stops covering a
 * package turns its status closed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { insertRows, type Db } from "../../src/db";
import { loadCpeMap, loadVulnerabilities, matchVulnerabilities } from "../../src/loaders/vuln";
import { scratchDir } from "../fixtures/_util";
import { CLI } from "../helpers/cli";
import { contextFor, migratedDb } from "../helpers/context";
import { cveItem, feedDoc } from "./_nvd";

const RUUID = "11111111-1111-1111-1111-111111111111";
const SRPM = "22222222-2222-2222-2222-222222222222";

async function packageSet(db: Db, branch: string, pkgs: { hash: bigint; name: string; version: string }[]): Promise<void> {
  await insertRows(
    db,
    "Packages",
    pkgs.map((p) => ({ pkg_hash: p.hash, pkg_name: p.name, pkg_version: p.version, pkg_release: "alt1", pkg_sourcepackage: 1, pkg_arch: "x86_64" })),
    ["pkg_hash", "pkg_name", "pkg_version", "pkg_release", "pkg_sourcepackage", "pkg_arch"],
  );
  await insertRows(db, "PackageSet", pkgs.map((p) => ({ pkgset_uuid: SRPM, pkg_hash: p.hash })));
  const node = (uuid: string, depth: number, name: string) => ({
    pkgset_uuid: uuid,
    pkgset_puuid: depth ? RUUID : "00000000-0000-0000-0000-000000000000",
    pkgset_ruuid: RUUID,
    pkgset_depth: depth,
    pkgset_nodename: name,
    pkgset_date: Date.UTC(2026, 10, 20) / 1000,
    pkgset_tag: "",
    pkgset_complete: 1,
    "pkgset_kv.k": [],
    "pkgset_kv.v": [],
  });
  await insertRows(db, "PackageSetName", [node(SRPM, 1, "srpm"), node(RUUID, 0, branch)]);
}

describe("vuln match", () => {
  let db: Db;
  let dir: string;
  beforeAll(async () => {
    db = await migratedDb("vuln_match");
    dir = scratchDir("vuln-match");
    await packageSet(db, "p10", [
      { hash: 101n, name: "nettle", version: "3.9" }, // in [3.0, 3.9.1): vulnerable to 0001
      { hash: 102n, name: "libnettle8-compat", version: "3.4" }, // via Repology project "nettle"
      { hash: 103n, name: "openssl3", version: "3.1.4" }, // exactly 3.1.4 in 0002
      { hash: 104n, name: "zlib", version: "1.3" }, // no CPE at all
    ]);
    // Repology: libnettle8-compat is project "nettle" in alt_p10; openssl3 is project "openssl"
    await insertRows(
      db,
      "PackagesNameConversion",
      [
        { pkg_name: "libnettle8-compat", pnc_state: "active", pnc_result: "nettle", pnc_type: "alt_p10", pnc_source: "repology" },
        { pkg_name: "openssl3", pnc_state: "active", pnc_result: "openssl", pnc_type: "alt_p10", pnc_source: "repology" },
      ],
      ["pkg_name", "pnc_state", "pnc_result", "pnc_type", "pnc_source"],
    );
    writeFileSync(
      join(dir, "map.tsv"),
      "# project\tcpe\nnettle\tcpe:2.3:a:nettle_project:nettle:*:*:*:*:*:*:*:*\nopenssl\tcpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*\nbroken line without tab\nzlib\tnot-a-cpe\n",
    );
    writeFileSync(
      join(dir, "nvd.json"),
      feedDoc([
        cveItem({ id: "CVE-2024-0001", matches: [{ criteria: "cpe:2.3:a:nettle_project:nettle:*:*:*:*:*:*:*:*", startIncl: "3.0", endExcl: "3.9.1" }] }),
        cveItem({ id: "CVE-2024-0002", matches: [{ criteria: "cpe:2.3:a:openssl:openssl:3.1.4:*:*:*:*:*:*:*" }, { criteria: "cpe:2.3:a:openssl:openssl:3.1.5:*:*:*:*:*:*:*" }] }),
        cveItem({ id: "CVE-2024-0003", status: "Rejected", matches: [{ criteria: "cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*" }] }),
        cveItem({ id: "CVE-2024-0004", matches: [{ criteria: "cpe:2.3:a:nettle_project:nettle_tools:*:*:*:*:*:*:*:*" }] }), // another product
      ]),
    );
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  }, 60_000);

  const matches = async () =>
    (
      await db.query<{ pkg_name: string; vuln_id: string; cpm_cpe: string; v: number }>(
        "SELECT pkg_name, vuln_id, cpm_cpe, argMax(is_vulnerable, ts) AS v FROM PackagesCveMatch GROUP BY key_hash, pkg_name, vuln_id, cpm_cpe ORDER BY pkg_name, vuln_id, cpm_cpe",
      )
    ).map((r) => [r.pkg_name, r.vuln_id, r.cpm_cpe.split(":")[5], Number(r.v)]);
  const open = async () =>
    (
      await db.query<{ pkg_name: string; vuln_id: string }>(
        `SELECT pkg_name, vuln_id FROM PackagesVulnerabilityStatus GROUP BY pkg_hash, pkg_name, pkgset_name, vuln_id
         HAVING has(groupArray(is_vulnerable), 1) AND NOT has(groupArray(is_fixed), 1) ORDER BY pkg_name, vuln_id`,
      )
    ).map((r) => `${r.pkg_name} ${r.vuln_id}`);
  const total = async (t: string) => Number((await db.query<{ n: number }>(`SELECT count() AS n FROM ${t}`))[0]!.n);

  test("map load: good pairs active, bad lines reported; a rerun writes nothing", async () => {
    const ctx = contextFor(db);
    const r = await loadCpeMap(ctx, { file: join(dir, "map.tsv") });
    expect(r).toMatchObject({ pairs: 2, activated: 2, complete: false });
    expect(r.rejected.map((x) => x.path)).toEqual([`${join(dir, "map.tsv")}:4`, `${join(dir, "map.tsv")}:5`]);
    const again = await loadCpeMap(ctx, { file: join(dir, "map.tsv") });
    expect(again).toMatchObject({ activated: 0, unchanged: 2 });
    expect(await total("PackagesNameConversion WHERE pnc_type = 'cpe'")).toBe(2);
  });

  test("match: exactly the expected rows; a rerun adds none", async () => {
    const ctx = contextFor(db);
    await loadVulnerabilities(ctx, { source: "nvd", from: join(dir, "nvd.json") });
    // one package per chunk gives the same answers as one chunk
    const dry = await matchVulnerabilities(ctx, { branch: "p10", dryRun: true, chunkCandidates: 1 });
    expect(dry.branches).toEqual([expect.objectContaining({ matches: 4, vulnerable: 3, written_matches: 4, written_status: 3 })]);
    expect(await total("PackagesCveMatch")).toBe(0);
    const r = await matchVulnerabilities(ctx, { branch: "p10" });
    expect(r.branches).toEqual([
      expect.objectContaining({ branch: "p10", packages: 4, mapped_packages: 3, matches: 4, vulnerable: 3, written_matches: 4, written_status: 3 }),
    ]);
    expect(await matches()).toEqual([
      ["libnettle8-compat", "CVE-2024-0001", "*", 1],
      ["nettle", "CVE-2024-0001", "*", 1],
      ["openssl3", "CVE-2024-0002", "3.1.4", 1],
      ["openssl3", "CVE-2024-0002", "3.1.5", 0],
    ]);
    expect(await open()).toEqual(["libnettle8-compat CVE-2024-0001", "nettle CVE-2024-0001", "openssl3 CVE-2024-0002"]);
    const rows = await total("PackagesCveMatch");
    const status = await total("PackagesVulnerabilityStatus");
    const again = await matchVulnerabilities(ctx, {});
    expect(again.branches[0]).toMatchObject({ written_matches: 0, written_status: 0 });
    expect((await matchVulnerabilities(ctx, { chunkCandidates: 1 })).branches[0]).toMatchObject({ matches: 4, written_matches: 0, written_status: 0 });
    expect(await total("PackagesCveMatch")).toBe(rows);
    expect(await total("PackagesVulnerabilityStatus")).toBe(status);
  });

  test("a new record version that no longer covers 3.9 closes nettle's status", async () => {
    const ctx = contextFor(db);
    writeFileSync(
      join(dir, "nvd2.json"),
      feedDoc([cveItem({ id: "CVE-2024-0001", modified: "2024-06-01T00:00:00.000", matches: [{ criteria: "cpe:2.3:a:nettle_project:nettle:*:*:*:*:*:*:*:*", startIncl: "3.0", endExcl: "3.5" }] })]),
    );
    await loadVulnerabilities(ctx, { source: "nvd", from: join(dir, "nvd2.json") });
    const r = await matchVulnerabilities(ctx, { branch: "p10" });
    expect(r.branches[0]).toMatchObject({ vulnerable: 2 });
    expect(await open()).toEqual(["libnettle8-compat CVE-2024-0001", "openssl3 CVE-2024-0002"]);
  });

  test("an unknown branch is an input error", async () => {
    await expect(matchVulnerabilities(contextFor(db), { branch: "nosuch" })).rejects.toThrow("branch nosuch has no complete package set");
  });
});

describe("altrepodb vuln (CLI)", () => {
  const run = (args: string[]) => {
    const r = Bun.spawnSync([...CLI, ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, ALTREPODB_DB_PATH: join(scratchDir("vuln-cli"), "db") } });
    return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  test("a bad --since is a usage error naming the option", () => {
    const r = run(["vuln", "load", "nvd", "--source", "/nonexistent", "--since", "last week"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--since");
  });
  test("an unknown source kind is a usage error", () => {
    expect(run(["vuln", "load", "nosuch"]).code).toBe(2);
  });
});
