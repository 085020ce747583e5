/**
 * `altrepodb image load` as a user runs it: a separate process with its own embedded database,
 * the fixture packages loaded first with `repo load`. The oracle is librpm itself: `rpm -qa
 * --dbpath` on the same rpm database the image carries.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseImageType } from "../../src/image/open";
import type { ImageFixtures } from "../fixtures/image";
import { makeSnapshot } from "../fixtures/snapshot";
import { scratchDir } from "../fixtures/_util";
import { chmodSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { CLI, cli, newConfig, query } from "../helpers/cli";
import { librpmList } from "../rpmdb/_fixtures";
import { FUSE_OK, imageFixtures, whyNoImages } from "./_setup";

const why = whyNoImages();
let f: ImageFixtures;
let cfg: string;

const FLAGS = ["--branch", "p10", "--edition", "alt-workstation", "--version", "10.0.0", "--release", "release", "--variant", "install", "--flavor", "", "--platform", "", "--arch", "x86_64", "--url", "http://ftp.altlinux.org/fixture.iso"];
const imageLoad = (file: string, ...more: string[]) => cli(cfg, ["image", "load", file, ...FLAGS, ...more]);

beforeAll(async () => {
  if (why) return;
  f = await imageFixtures();
  cfg = newConfig("img_cli", true);
  const snap = makeSnapshot(scratchDir("img-cli-snap"), { packages: f.packages });
  const r = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-01"]);
  if (r.code !== 0) throw new Error(r.stderr);
}, 600_000);

function membersOf(tag: string, node: string): string[] {
  return query(
    cfg,
    `SELECT pkg_name AS n, pkg_version AS v, pkg_release AS r FROM Packages WHERE pkg_hash IN
       (SELECT pkg_hash FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_tag = '${tag}' AND pkgset_nodename = '${node}'))`,
  )
    .map((x) => `${x.n}\t${x.v}\t${x.r}`)
    .sort();
}

describe.skipIf(!!why)(`image load from the command line${why ? ` (skipped: ${why})` : ""}`, () => {
  test("a rootfs tar: exactly the packages librpm reads from its database; a second load is refused, --force replaces", () => {
    const r = imageLoad(f.tar, "--date", "2026-11-20", "--json");
    expect(r.stderr).not.toContain("ERROR");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ type: "tar", opened_with: "userspace", complete: true, dry_run: false, missing: [], failures: [] });
    expect(report.tag).toBe("p10:alt-workstation:::release.10.0.0:x86_64:install:tar");
    const oracle = librpmList(join(f.rootfs, "var/lib/rpm/Packages"), "bdb_ro")
      .map((l) => l.split("\t"))
      .map((p) => `${p[0]}\t${p[2]}\t${p[3]}`)
      .sort();
    expect(membersOf(report.tag, "rpms")).toEqual(oracle);
    const again = imageLoad(f.tar, "--date", "2026-11-20");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("is already loaded (use --force to replace it)");
    expect(imageLoad(f.tar, "--date", "2026-11-20", "--force").code).toBe(0);
    expect(Number(query(cfg, `SELECT count() AS n FROM PackageSetName WHERE pkgset_tag = '${report.tag}' AND pkgset_depth = 0`)[0].n)).toBe(1);
  }, 120_000);

  test.skipIf(!FUSE_OK)("an ISO with --open-with fuse: RPMS dirs and squashfs layers", () => {
    const r = imageLoad(f.iso, "--date", "2026-11-20", "--open-with", "fuse", "--json");
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.opened_with).toBe("fuse");
    expect(report.nodes.map((n: { name: string; packages: number }) => `${n.name}:${n.packages}`)).toEqual(["rpms:5", `live:${f.expected.length}`, "altinst:1"]);
    expect(query(cfg, `SELECT img_type AS t FROM ImagePackageSetName WHERE img_tag = '${report.tag}'`)).toEqual([{ t: "iso" }]);
  }, 120_000);

  test("usage errors exit 2 naming the flag; --type qcow2 is qcow", () => {
    const edition = imageLoad(f.tar, "--date", "2026-11-20", "--edition", "alt-desktop");
    expect(edition.code).toBe(2);
    expect(edition.stderr).toContain('--edition must be alt-server, alt-server-v');
    const type = imageLoad(f.tar, "--date", "2026-11-20", "--type", "vhd");
    expect(type.code).toBe(2);
    expect(type.stderr).toContain("--type must be iso, img, qcow, qcow2, tar or oci");
    const version = imageLoad(f.tar, "--date", "2026-11-20", "--version", "10.x");
    expect(version.code).toBe(2);
    const noUrl = cli(cfg, ["image", "load", f.tar, "--branch", "p10", "--date", "2026-11-20"]);
    expect(noUrl.code).toBe(2);
    expect(parseImageType("qcow2")).toBe("qcow");
  });

  test("not an image: exit 1, one line naming the file, no stack trace", () => {
    const r = imageLoad(join(f.dir, "expected.tsv"), "--date", "2026-11-20");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${join(f.dir, "expected.tsv")}: not an image`);
    expect(r.stderr).not.toContain("    at ");
  });

  test.skipIf(!FUSE_OK)("SIGTERM while a layer's mount hangs: exit 130, the ISO unmounted, no temp dir left", async () => {
    const bin = scratchDir("img-sigterm");
    writeFileSync(join(bin, "squashfuse"), "#!/bin/sh\nexec sleep 120\n");
    chmodSync(join(bin, "squashfuse"), 0o755);
    const mounts = () => readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes("/altrepodb-fuseiso-"));
    const temps = () => readdirSync(tmpdir()).filter((n) => /^altrepodb-(fuseiso|squashfuse)-/.test(n));
    const before = { mounts: new Set(mounts()), temps: new Set(temps()) };
    const p = Bun.spawn([...CLI, "-c", cfg, "image", "load", f.iso, ...FLAGS, "--date", "2026-11-29", "--open-with", "fuse"], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
      stdout: "pipe",
      stderr: "pipe",
    });
    const t0 = Date.now();
    while (!mounts().some((m) => !before.mounts.has(m)) && Date.now() - t0 < 60_000) await Bun.sleep(100);
    expect(mounts().some((m) => !before.mounts.has(m))).toBe(true); // the ISO is mounted, squashfuse hangs
    await Bun.sleep(300);
    p.kill("SIGTERM");
    expect(await p.exited).toBe(130);
    expect(mounts().filter((m) => !before.mounts.has(m))).toEqual([]);
    expect(temps().filter((n) => !before.temps.has(n))).toEqual([]);
    expect(Number(query(cfg, "SELECT count() AS n FROM PackageSetName WHERE pkgset_date = '2026-11-29 00:00:00'")[0].n)).toBe(0);
  }, 120_000);
});
