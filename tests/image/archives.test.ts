/**
 * The archive readers alone (no database): tar dialects made by GNU tar (GNU long names, pax
 * headers, hard links), a `docker save` tarball, an OCI layout directory; paths stay inside.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openOci } from "../../src/image/oci";
import { openTar } from "../../src/image/tar";
import { readTreeFile } from "../../src/image/tree";
import { FileSource } from "../../src/rpmdb/source";
import { runSync, scratchDir } from "../fixtures/_util";

const hasTar = Bun.which("tar") !== null;
let dir: string;
let rootfs: string;
const LONG = `opt/${"very-long-directory-name-".repeat(8)}end`;

beforeAll(() => {
  if (!hasTar) return;
  dir = scratchDir("img-archives");
  rootfs = join(dir, "root");
  mkdirSync(join(rootfs, "var/lib/rpm"), { recursive: true });
  mkdirSync(join(rootfs, "etc"), { recursive: true });
  mkdirSync(join(rootfs, LONG), { recursive: true });
  writeFileSync(join(rootfs, LONG, "os-release"), "ID=altlinux\nVERSION_ID=11\n");
  // etc/os-release → a long path, Packages a hard link of a file elsewhere
  symlinkSync(`/${LONG}/os-release`, join(rootfs, "etc/os-release"));
  writeFileSync(join(rootfs, "var/lib/rpm/Packages"), "not really a database\n");
  runSync(["ln", join(rootfs, "var/lib/rpm/Packages"), join(rootfs, "var/lib/rpm/Packages.bak")]);
});

async function tree(file: string) {
  const src = new FileSource(file);
  try {
    return await openTar(src);
  } finally {
    src.close();
  }
}

describe.skipIf(!hasTar)("tar dialects", () => {
  for (const format of ["gnu", "pax", "ustar"] as const) {
    test(`GNU tar --format=${format}: long names, symlinks to long paths, hard links`, async () => {
      const file = join(dir, `${format}.tar`);
      const r = runSync(["tar", `--format=${format}`, "-C", rootfs, "-cf", file, "."], { allowFail: true });
      if (format === "ustar" && r.code !== 0) return; // ustar cannot hold the 200-byte name: tar says so
      expect(r.code).toBe(0);
      const t = await tree(file);
      try {
        expect(new TextDecoder().decode(readTreeFile(t, "/etc/os-release"))).toContain("VERSION_ID=11");
        expect(new TextDecoder().decode(readTreeFile(t, "/var/lib/rpm/Packages"))).toBe("not really a database\n");
        expect(new TextDecoder().decode(readTreeFile(t, "/var/lib/rpm/Packages.bak"))).toBe("not really a database\n");
        expect(t.stat("/etc/os-release")?.target).toBe(`/${LONG}/os-release`);
        expect(t.stat("/usr/bin/hello")).toBeNull();
      } finally {
        await t.close();
      }
    });
  }
});

describe.skipIf(!hasTar)("container images", () => {
  test("a docker-save tarball: manifest.json, layers applied from the top, a whiteout", async () => {
    const d = join(dir, "docker");
    mkdirSync(join(d, "l1"), { recursive: true });
    mkdirSync(join(d, "l2"), { recursive: true });
    const l1 = join(dir, "l1root");
    mkdirSync(join(l1, "var/lib/rpm"), { recursive: true });
    mkdirSync(join(l1, "usr/lib"), { recursive: true });
    writeFileSync(join(l1, "var/lib/rpm/Packages"), "lower\n");
    writeFileSync(join(l1, "var/lib/rpm/rpmdb.sqlite"), "stale\n");
    writeFileSync(join(l1, "usr/lib/os-release"), "VERSION_ID=9\n");
    const l2 = join(dir, "l2root");
    mkdirSync(join(l2, "var/lib/rpm"), { recursive: true });
    mkdirSync(join(l2, "etc"), { recursive: true });
    writeFileSync(join(l2, "var/lib/rpm/.wh.rpmdb.sqlite"), "");
    writeFileSync(join(l2, "etc/os-release"), "VERSION_ID=10\n");
    runSync(["tar", "-C", l1, "-cf", join(d, "l1/layer.tar"), "."]);
    runSync(["tar", "-C", l2, "-cf", join(d, "l2/layer.tar"), "."]);
    writeFileSync(join(d, "manifest.json"), JSON.stringify([{ Config: "c.json", RepoTags: ["alt:p10"], Layers: ["l1/layer.tar", "l2/layer.tar"] }]));
    const file = join(dir, "docker.tar");
    runSync(["tar", "-C", d, "-cf", file, "manifest.json", "l1", "l2"]);
    const { tree: t, layers, layersRead } = await openOci(file);
    try {
      expect([layers, layersRead]).toEqual([2, 2]);
      expect(t.stat("/var/lib/rpm/rpmdb.sqlite")).toBeNull();
      expect(new TextDecoder().decode(readTreeFile(t, "/var/lib/rpm/Packages"))).toBe("lower\n");
      expect(new TextDecoder().decode(readTreeFile(t, "/etc/os-release"))).toBe("VERSION_ID=10\n");
    } finally {
      await t.close();
    }
  });

  test("an OCI layout directory; the top layer alone is read when it holds everything", async () => {
    const layout = join(dir, "oci");
    mkdirSync(join(layout, "blobs/sha256"), { recursive: true });
    const blob = (b: Uint8Array) => {
      const h = new Bun.CryptoHasher("sha256").update(b).digest("hex");
      writeFileSync(join(layout, "blobs/sha256", h), b);
      return { digest: `sha256:${h}`, size: b.length };
    };
    const top = join(dir, "top");
    mkdirSync(join(top, "var/lib/rpm"), { recursive: true });
    mkdirSync(join(top, "etc"), { recursive: true });
    writeFileSync(join(top, "var/lib/rpm/Packages"), "top\n");
    writeFileSync(join(top, "etc/os-release"), "ID=altlinux\n");
    runSync(["tar", "-C", top, "-czf", join(dir, "top.tar.gz"), "."]);
    const garbage = blob(new TextEncoder().encode("this lower layer is never read"));
    const t1 = blob(readFileSync(join(dir, "top.tar.gz")));
    const m = blob(new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, layers: [garbage, t1] })));
    writeFileSync(join(layout, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [m] }));
    const { tree: t, layersRead } = await openOci(layout);
    try {
      expect(layersRead).toBe(1);
      expect(new TextDecoder().decode(readTreeFile(t, "/var/lib/rpm/Packages"))).toBe("top\n");
    } finally {
      await t.close();
    }
  });
});
