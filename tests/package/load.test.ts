/**
 * `package load` (reference package_loader, §3.11): single RPM files through the PackageStore.
 * Ours takes binaries too; their pkg_srcrpm_hash comes from a source in the same run or the DB.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { Db } from "../../src/db";
import { loadPackages } from "../../src/loaders/package";
import { cached, scratchDir } from "../fixtures/_util";
import { rpmbuild, simpleSpec } from "../fixtures/rpmbuild";
import { contextFor, migratedDb, pkgHashOf } from "../task/_task";

setDefaultTimeout(120_000);

const MAIN = join(import.meta.dir, "..", "..", "src", "cli", "main.ts");

let srpm: string;
let rpm: string;
beforeAll(async () => {
  const spec = simpleSpec({ name: "pkgload-demo", version: "3.1", buildArch: null, install: "mkdir -p %buildroot/usr/share/pkgload-demo\nprintf 'x\\n' > %buildroot/usr/share/pkgload-demo/data", files: "/usr/share/pkgload-demo" });
  const dir = await cached("package-load-demo-v1", async (tmp) => {
    await rpmbuild({ spec: spec.spec, specName: "pkgload-demo.spec", sources: spec.sources, target: "x86_64" }, tmp);
  });
  srpm = join(dir, "SRPMS", readdirSync(join(dir, "SRPMS"))[0]);
  const arch = readdirSync(join(dir, "RPMS"))[0];
  rpm = join(dir, "RPMS", arch, readdirSync(join(dir, "RPMS", arch))[0]);
}, 600_000);

async function row(db: Db, name: string): Promise<{ h: bigint; src: bigint; sourcerpm: string } | undefined> {
  const [r] = await db.query<{ h: bigint; src: bigint; sourcerpm: string }>(`SELECT pkg_hash AS h, pkg_srcrpm_hash AS src, pkg_sourcerpm AS sourcerpm FROM Packages WHERE pkg_filename = '${name}'`);
  return r;
}

describe("package load", () => {
  test("a source and its binary: rows, hashes, spec file; a second run finds both known", async () => {
    const db = await migratedDb("pkg");
    const r = await loadPackages(contextFor(db), { files: [rpm, srpm] });
    expect(r.complete).toBe(true);
    expect(r.packages).toEqual({ seen: 2, known: 0, parsed: 2, failed: 0 });
    const s = await row(db, basename(srpm));
    const b = await row(db, basename(rpm));
    expect(s).toEqual({ h: pkgHashOf(srpm), src: pkgHashOf(srpm), sourcerpm: basename(srpm) });
    expect(b).toEqual({ h: pkgHashOf(rpm), src: pkgHashOf(srpm), sourcerpm: basename(srpm) });
    expect((await db.query("SELECT pkg_name FROM Specfiles")).length).toBe(1);
    expect((await db.query("SELECT pkgh_mmh FROM PackageHash")).length).toBe(2);
    const again = await loadPackages(contextFor(db), { files: [srpm, rpm] });
    expect(again.packages).toEqual({ seen: 2, known: 2, parsed: 0, failed: 0 });
    const forced = await loadPackages(contextFor(db), { files: [srpm, rpm], force: true });
    expect(forced.complete).toBe(true);
    const [n] = await db.query<{ n: bigint; u: bigint }>("SELECT count() AS n, uniqExact(pkg_hash) AS u FROM Packages");
    expect([Number(n.n), Number(n.u)]).toEqual([2, 2]);
    await db.close();
  });

  test("binary packages are accepted (the reference refused them); the source hash comes from the DB", async () => {
    const db = await migratedDb("pkg");
    await loadPackages(contextFor(db), { files: [srpm] });
    const r = await loadPackages(contextFor(db), { files: [rpm] });
    expect(r.complete).toBe(true);
    expect((await row(db, basename(rpm)))?.src).toBe(pkgHashOf(srpm));
    await db.close();
  });

  test("a binary whose source is unknown: pkg_srcrpm_hash 0 and a note", async () => {
    const db = await migratedDb("pkg");
    const r = await loadPackages(contextFor(db), { files: [rpm] });
    expect(r.complete).toBe(true);
    expect((await row(db, basename(rpm)))?.src).toBe(0n);
    expect(r.warnings.map((w) => w.error).join()).toContain(basename(srpm));
    await db.close();
  });

  test("missing and truncated files are named; the others are loaded", async () => {
    const db = await migratedDb("pkg");
    const dir = scratchDir("pkg-bad");
    const truncated = join(dir, "broken-1.0-alt1.x86_64.rpm");
    writeFileSync(truncated, readFileSync(rpm).subarray(0, 500));
    const r = await loadPackages(contextFor(db), { files: [join(dir, "missing.rpm"), truncated, srpm] });
    expect(r.complete).toBe(false);
    expect(r.packages).toMatchObject({ seen: 3, parsed: 1, failed: 2 });
    expect(r.failures.map((f) => [basename(f.path), f.error.length > 0])).toEqual([
      ["missing.rpm", true],
      ["broken-1.0-alt1.x86_64.rpm", true],
    ]);
    expect(await row(db, basename(srpm))).toBeDefined();
    await db.close();
  });

  test("from the command line: exit 0, then 1 with a truncated file", () => {
    const dir = scratchDir("pkg-cli");
    const cfg = join(dir, "altrepodb.toml");
    writeFileSync(cfg, `[database.embedded]\npath = "${join(dir, "db")}"\n[load]\nworkers = 1\n`);
    const cli = (args: string[]) => {
      const r = Bun.spawnSync([process.execPath, MAIN, "-c", cfg, ...args], { stdout: "pipe", stderr: "pipe" });
      return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    };
    expect(cli(["db", "init"]).code).toBe(0);
    const ok = cli(["package", "load", srpm, rpm, "--json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ complete: true, packages: { parsed: 2 } });
    const known = cli(["package", "load", srpm]);
    expect(known.code).toBe(0);
    expect(known.stdout).toStartWith("known");
    const bad = join(dir, "cut.src.rpm");
    copyFileSync(srpm, bad);
    writeFileSync(bad, readFileSync(srpm).subarray(0, 200));
    const r = cli(["package", "load", bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`failed    - ${bad}: `);
    expect(r.stderr).toContain("1 of 1 file(s) not loaded");
  });
});
