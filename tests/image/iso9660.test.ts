/**
 * The userspace ISO9660 reader against images made at test time by genisoimage and xorriso from
 * a known directory: Rock Ridge (names, modes, times, symlinks, genisoimage's relocated deep
 * directories), Joliet, plain ISO9660 (oracle: isoinfo -f), a multi-extent file, and bad images.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isImageError } from "../../src/image/errors.ts";
import { isoVolumeInfo, openIso9660 } from "../../src/image/iso9660.ts";
import { readTreeFile } from "../../src/image/tree.ts";
import { FileSource } from "../../src/rpmdb/source.ts";
import { runSync, scratchDir } from "../fixtures/_util.ts";
import { bytes, differingFiles, errorCode as code, hostRows, makeSourceTree, treeRows } from "./_readers.ts";

const hasGenisoimage = Bun.which("genisoimage") !== null;
const hasXorriso = Bun.which("xorriso") !== null;
const hasIsoinfo = Bun.which("isoinfo") !== null;
if (!hasGenisoimage) console.warn("iso9660 tests skipped: genisoimage is not installed (apt-get install genisoimage)");
if (!hasXorriso) console.warn("xorriso iso9660 tests skipped: xorriso is not installed (apt-get install xorriso)");

let dir = "";
let src = "";
let src6 = "";
const opened: FileSource[] = [];
const source = (p: string) => {
  const s = new FileSource(p);
  opened.push(s);
  return s;
};

/** isoinfo's full path list (Joliet with -J), version suffixes and trailing dots stripped. */
function isoinfoPaths(iso: string, joliet: boolean): string[] {
  const out = new TextDecoder().decode(runSync(["isoinfo", ...(joliet ? ["-J"] : []), "-f", "-i", iso]).stdout);
  return out
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.replace(/;\d+$/, "").replace(/\.$/, ""))
    .sort();
}

beforeAll(() => {
  if (!hasGenisoimage) return;
  dir = scratchDir("iso9660");
  src = makeSourceTree(join(dir, "src") + (mkdirSync(join(dir, "src")), ""));
  mkdirSync(join(dir, "src6"));
  src6 = makeSourceTree(join(dir, "src6"), { deep: 6, longNames: false });
  runSync(["genisoimage", "-quiet", "-R", "-J", "-joliet-long", "-V", "ALT_TEST", "-publisher", "PUBLISHER", "-A", "APPID", "-o", join(dir, "rr.iso"), src]);
  runSync(["genisoimage", "-quiet", "-o", join(dir, "plain.iso"), src6]);
  runSync(["genisoimage", "-quiet", "-J", "-o", join(dir, "joliet.iso"), src6]);
  if (hasXorriso) runSync(["xorriso", "-outdev", join(dir, "xorriso.iso"), "-volid", "XO", "-joliet", "on", "-map", src, "/", "-commit"]);
}, 120_000);

afterAll(() => {
  for (const s of opened) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!hasGenisoimage)("iso9660 reader", () => {
  test("Rock Ridge (genisoimage -R -J): listing, modes, times, symlinks and bytes equal the source", () => {
    const tree = openIso9660(source(join(dir, "rr.iso")));
    const rows = treeRows(tree, true, "/", (p) => p === "/rr_moved");
    expect(rows).toEqual(hostRows(src));
    expect(differingFiles(tree, src, rows)).toEqual([]);
  });

  test.skipIf(!hasXorriso)("Rock Ridge (xorriso): listing, modes, times, symlinks and bytes equal the source", () => {
    const tree = openIso9660(source(join(dir, "xorriso.iso")));
    const rows = treeRows(tree);
    expect(rows).toEqual(hostRows(src));
    expect(differingFiles(tree, src, rows)).toEqual([]);
  });

  test("volume descriptor fields", () => {
    const info = isoVolumeInfo(source(join(dir, "rr.iso")));
    expect(info.volumeId).toBe("ALT_TEST");
    expect(info.publisherId).toBe("PUBLISHER");
    expect(info.applicationId).toBe("APPID");
    expect(info.jolietVolumeId).toBe("ALT_TEST");
    expect(info.rockRidge).toBe(true);
    expect(info.created).toBeInstanceOf(Date);
    expect(Math.abs(info.created!.getTime() - Date.now())).toBeLessThan(24 * 3600 * 1000);
  });

  test.skipIf(!hasIsoinfo)("plain ISO9660 names equal isoinfo's, bytes equal the source", () => {
    const tree = openIso9660(source(join(dir, "plain.iso")));
    const rows = treeRows(tree, false);
    expect(rows.map((r) => r.path)).toEqual(isoinfoPaths(join(dir, "plain.iso"), false));
    expect(readTreeFile(tree, "/DATA/BLOCKS.BIN")).toEqual(new Uint8Array(readFileSync(join(src6, "data/blocks.bin"))));
    expect(tree.stat("/ETC/OS_RELEA")?.size).toBe(26);
  });

  test.skipIf(!hasIsoinfo)("Joliet names equal isoinfo -J's and the source's (symlinks are not in Joliet)", () => {
    const path = join(dir, "joliet.iso");
    const tree = openIso9660(source(path));
    const rows = treeRows(tree, false);
    // isoinfo prints characters outside Latin-1 as "_"; the source is the oracle for those
    expect(rows.map((r) => r.path.replace(/[^\x00-\xff]/g, "_")).sort()).toEqual(isoinfoPaths(path, true));
    const host = hostRows(src6, false).filter((r) => r.type !== "symlink");
    expect(rows).toEqual(host);
    expect(differingFiles(tree, src6, rows)).toEqual([]);
  });

  test("names can be forced: Joliet and plain names of a Rock Ridge image", () => {
    const s = source(join(dir, "rr.iso"));
    expect(openIso9660(s, { names: "joliet" }).stat("/MixedCase.Name.tar.gz")?.type).toBe("file");
    expect(openIso9660(s, { names: "plain" }).stat("/EXEC.SH")?.size).toBe(18);
    expect(() => openIso9660(source(join(dir, "plain.iso")), { names: "rockridge" })).toThrow(/no Rock Ridge/);
  });

  test("symlinks are followed inside the tree only", () => {
    const tree = openIso9660(source(join(dir, "rr.iso")));
    expect(tree.stat("/abs-link")?.type).toBe("symlink");
    expect(new TextDecoder().decode(readTreeFile(tree, "/abs-link"))).toContain("ALT");
    expect(tree.stat("/dir-link/small.bin")?.size).toBe(5000);
    expect(readTreeFile(tree, "/rel-link")).toEqual(bytes(5000, 1));
    expect(tree.stat("/data/../etc/./os-release")?.size).toBe(26);
    expect(tree.stat("/../../etc/os-release")?.size).toBe(26);
    expect(tree.stat("/dangling")?.type).toBe("symlink");
    expect(() => tree.open("/dangling")).toThrow(/no such file/);
    expect(tree.stat("/nope")).toBeNull();
    expect(tree.stat("/one")).toMatchObject({ uid: process.getuid!(), gid: process.getgid!() });
    expect(tree.list("/dir-link").map((e) => e.path)).toContain("/dir-link/small.bin");
  });

  test("a multi-extent file reads as the concatenation of its extents", () => {
    const d = join(dir, "multi");
    mkdirSync(join(d, "src"), { recursive: true });
    const a = bytes(3000, 7);
    const b = bytes(5000, 8);
    writeFileSync(join(d, "src", "A1"), a);
    writeFileSync(join(d, "src", "A2"), b);
    writeFileSync(join(d, "src", "B"), "b");
    const iso = join(d, "m.iso");
    runSync(["genisoimage", "-quiet", "-o", iso, join(d, "src")]);
    // Turn records A1, A2 into two extents of one file A1: flag 0x80 on the first, rename the second.
    const img = new Uint8Array(readFileSync(iso));
    const text = Buffer.from(img).toString("latin1");
    const p1 = text.indexOf("A1.;1");
    const p2 = text.indexOf("A2.;1");
    expect(p1).toBeGreaterThan(0);
    expect(p2).toBeGreaterThan(p1);
    img[p1 - 33 + 25] |= 0x80;
    img[p2 + 1] = 0x31;
    writeFileSync(iso, img);
    const tree = openIso9660(source(iso));
    expect(tree.list("/").map((e) => [e.path, e.size])).toEqual([
      ["/A1", 8000],
      ["/B", 1],
    ]);
    const f = tree.open("/A1");
    const got = new Uint8Array(8000);
    expect(f.readAt(got.subarray(0, 2500), 0)).toBe(2500);
    expect(f.readAt(got.subarray(2500), 2500)).toBe(5500);
    expect(got).toEqual(new Uint8Array([...a, ...b]));
    const mid = new Uint8Array(10);
    expect(f.readAt(mid, 2995)).toBe(10);
    expect(mid).toEqual(got.subarray(2995, 3005));
    expect(f.readAt(mid, 7995)).toBe(5);
  });
});

// Opt-in: a real file over 4 GiB (xorriso splits it into extents of 4 GiB - 2 KiB); writes a 4 GiB image.
const big = process.env.ALTREPODB_BIG_IMAGES === "1";
describe.skipIf(!big || !hasXorriso)("iso9660 reader: a 4 GiB + 4 KiB file (ALTREPODB_BIG_IMAGES=1)", () => {
  test("multi-extent file written by xorriso", () => {
    const d = join(dir, "big");
    mkdirSync(join(d, "src"), { recursive: true });
    const size = 4 * 1024 ** 3 + 4096;
    const fd = openSync(join(d, "src", "huge"), "w");
    const tail = bytes(4096, 12);
    writeSync(fd, tail, 0, tail.length, size - 4096);
    writeSync(fd, tail, 0, 100, 4 * 1024 ** 3 - 2048 - 50);
    closeSync(fd);
    const iso = join(d, "big.iso");
    runSync(["xorriso", "-as", "mkisofs", "-quiet", "-iso-level", "3", "-R", "-o", iso, join(d, "src")]);
    try {
      const tree = openIso9660(source(iso));
      expect(tree.stat("/huge")?.size).toBe(size);
      const f = tree.open("/huge");
      const got = new Uint8Array(4096);
      expect(f.readAt(got, size - 4096)).toBe(4096);
      expect(got).toEqual(tail);
      const across = new Uint8Array(100);
      expect(f.readAt(across, 4 * 1024 ** 3 - 2048 - 50)).toBe(100);
      expect(across).toEqual(tail.subarray(0, 100));
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 600_000);
});

describe.skipIf(!hasGenisoimage)("iso9660 reader: bad images", () => {

  /** plain.iso with the DATA directory record's extent set to `block`. */
  function patchedDataDir(name: string, block: number): string {
    const img = new Uint8Array(readFileSync(join(dir, "plain.iso")));
    const text = Buffer.from(img).toString("latin1");
    const at = text.indexOf("\x04DATA") - 32; // name length 4, then the name
    expect(at).toBeGreaterThan(0);
    const v = new DataView(img.buffer);
    v.setUint32(at + 2, block, true);
    v.setUint32(at + 6, block, false);
    const out = join(dir, name);
    writeFileSync(out, img);
    return out;
  }

  test("not an image, too small, truncated", () => {
    const junk = join(dir, "junk.iso");
    writeFileSync(junk, bytes(40 * 2048, 9));
    expect(code(() => openIso9660(source(junk)))).toMatch(/^format: .*no CD001/);
    const tiny = join(dir, "tiny.iso");
    writeFileSync(tiny, "hello");
    expect(code(() => openIso9660(source(tiny)))).toMatch(/^format: .*too small/);
    const full = readFileSync(join(dir, "rr.iso"));
    const cut = join(dir, "cut.iso");
    writeFileSync(cut, full.subarray(0, Math.floor(full.length * 0.6)));
    const tree = openIso9660(source(cut));
    const errs = treeRows(tree, false)
      .filter((r) => r.type === "file")
      .map((r) => code(() => tree.open(r.path)))
      .filter((c) => c !== "no error");
    expect(errs.length).toBeGreaterThan(0);
    expect(errs[0]).toMatch(/^truncated: .*cut\.iso.*past the end/);
  });

  test("a directory loop and a directory outside the image are errors, not hangs", () => {
    const rootBlock = new DataView(readFileSync(join(dir, "plain.iso")).buffer.slice(16 * 2048 + 156 + 2, 16 * 2048 + 156 + 6)).getUint32(0, true);
    const loop = openIso9660(source(patchedDataDir("loop.iso", rootBlock)));
    expect(code(() => treeRows(loop, false))).toMatch(/^corrupt: .*directory loop/);
    const out = openIso9660(source(patchedDataDir("outside.iso", 0xffffff)));
    expect(code(() => out.list("/DATA"))).toMatch(/^corrupt: .*outside the image/);
  });
});
