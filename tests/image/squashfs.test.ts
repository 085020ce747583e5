/**
 * The userspace squashfs reader against images made at test time by mksquashfs from a known
 * directory, for every compressor squashfs-tools writes (gzip, xz with the x86 BCJ filter, zstd,
 * lzma, lz4; lzo refused), with and without fragments; oracles: `unsquashfs -lln` for the listing
 * and the source directory (and `unsquashfs -d` for xz) for the bytes. Then corrupt images.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { isImageError } from "../../src/image/errors.ts";
import { openIso9660 } from "../../src/image/iso9660.ts";
import { openSquashfs, SquashfsTree } from "../../src/image/squashfs.ts";
import { readTreeFile } from "../../src/image/tree.ts";
import { FileSource } from "../../src/rpmdb/source.ts";
import { runSync, scratchDir } from "../fixtures/_util.ts";
import { bytes, differingFiles, errorCode as code, hostRows, makeSourceTree, treeRows, type Row } from "./_readers.ts";

const hasMksquashfs = Bun.which("mksquashfs") !== null && Bun.which("unsquashfs") !== null;
if (!hasMksquashfs) console.warn("squashfs tests skipped: mksquashfs/unsquashfs are not installed (apt-get install squashfs-tools)");

const SPARSE_SIZE = 1024 * 1024 + 3;
let dir = "";
let src = "";
const opened: FileSource[] = [];
const source = (p: string) => {
  const s = new FileSource(p);
  opened.push(s);
  return s;
};
const image = (name: string) => join(dir, `${name}.sqfs`);

function mksquashfs(from: string, name: string, args: string[]): string {
  runSync(["mksquashfs", from, image(name), "-noappend", "-quiet", "-no-progress", "-processors", "1", ...args]);
  return image(name);
}

/** unsquashfs -lln as rows (paths below /, modes from the permission string). */
function unsquashfsRows(img: string): Row[] {
  const text = new TextDecoder().decode(runSync(["unsquashfs", "-lln", img]).stdout);
  const rows: Row[] = [];
  const types: Record<string, [string, number]> = { "-": ["file", 0o100000], d: ["dir", 0o040000], l: ["symlink", 0o120000], c: ["other", 0o020000], b: ["other", 0o060000], p: ["other", 0o010000], s: ["other", 0o140000] };
  for (const line of text.split("\n")) {
    const m = /^(\S)(\S{9}) \d+\/\d+\s+(\d+|\d+,\s*\d+) (\d{4}-\d\d-\d\d \d\d:\d\d) squashfs-root(\/.*?)(?: -> (.*))?$/.exec(line);
    if (!m) continue;
    const [, t, perm, size, , path, target] = m;
    let mode = types[t][1];
    const bits = [0o400, 0o200, 0o100, 0o40, 0o20, 0o10, 0o4, 0o2, 0o1];
    for (let i = 0; i < 9; i++) if (perm[i] !== "-") mode |= bits[i];
    const r: Row = { path, type: types[t][0], size: t === "-" ? Number(size) : 0, mode };
    if (t === "l") r.target = target;
    rows.push(r);
  }
  return rows.sort((a, b) => (a.path < b.path ? -1 : 1));
}

beforeAll(() => {
  if (!hasMksquashfs) return;
  dir = scratchDir("squashfs");
  src = join(dir, "src");
  mkdirSync(src);
  makeSourceTree(src);
  // a sparse file (zero blocks in the middle), a hard link, a fifo, a real x86 binary, a big directory
  const fd = openSync(join(src, "sparse"), "w");
  writeSync(fd, bytes(1000, 4), 0, 1000, 0);
  writeSync(fd, bytes(3, 5), 0, 3, SPARSE_SIZE - 3);
  closeSync(fd);
  linkSync(join(src, "data", "small.bin"), join(src, "hardlink"));
  runSync(["mkfifo", join(src, "fifo")]);
  for (const elf of ["/usr/bin/xz", "/bin/ls"]) if (existsSync(elf)) copyFileSync(elf, join(src, "elf-binary"));
  mkdirSync(join(src, "many"));
  for (let i = 0; i < 700; i++) writeFileSync(join(src, "many", `file-number-${String(i).padStart(4, "0")}.rpm`), `${i}\n`);
  const dev = ["-p", "chr c 644 12 34 1 3"];
  mksquashfs(src, "gzip", ["-comp", "gzip", ...dev]);
  mksquashfs(src, "gzip-nofrag", ["-comp", "gzip", "-no-fragments", "-b", "4096"]);
  mksquashfs(src, "xz", ["-comp", "xz", "-Xbcj", "x86", ...dev]);
  mksquashfs(src, "zstd", ["-comp", "zstd", "-always-use-fragments"]);
  mksquashfs(src, "lzma", ["-comp", "lzma"]);
  mksquashfs(src, "lz4", ["-comp", "lz4", "-noI"]);
  mksquashfs(join(src, "etc"), "lzo", ["-comp", "lzo"]);
}, 120_000);

afterAll(() => {
  for (const s of opened) s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const noMeta = (rows: Row[]) => rows.map(({ mtime: _m, ...r }) => r);

describe.skipIf(!hasMksquashfs)("squashfs reader", () => {
  for (const name of ["gzip", "gzip-nofrag", "xz", "zstd", "lzma", "lz4"]) {
    test(`${name}: listing equals unsquashfs -lln and the source, bytes equal the source`, () => {
      const tree = openSquashfs(source(image(name)));
      const rows = treeRows(tree);
      expect(noMeta(rows)).toEqual(unsquashfsRows(image(name)));
      const host = hostRows(src);
      expect(rows.filter((r) => r.path !== "/chr")).toEqual(host);
      expect(differingFiles(tree, src, rows)).toEqual([]);
    });
  }

  test("xz: bytes equal unsquashfs -d's extraction; compressor ids are the ones asked for", () => {
    const out = join(dir, "xz-extract");
    runSync(["unsquashfs", "-no-progress", "-d", out, image("xz")]);
    const tree = openSquashfs(source(image("xz")));
    expect(differingFiles(tree, out, treeRows(tree).filter((r) => r.path !== "/fifo" && r.path !== "/chr"))).toEqual([]);
    const ids = ["gzip", "lzma", "lzo", "xz", "lz4", "zstd"].map((n) => (n === "lzo" ? 3 : (openSquashfs(source(image(n))) as SquashfsTree).sb.compressor));
    expect(ids).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("sparse file, hard link, fifo and device, big directory, owners", () => {
    const tree = openSquashfs(source(image("gzip"))) as SquashfsTree;
    const f = tree.open("/sparse");
    expect(f.size).toBe(SPARSE_SIZE);
    const mid = new Uint8Array(4096);
    mid.fill(7);
    expect(f.readAt(mid, 500_000)).toBe(4096);
    expect(mid.every((b) => b === 0)).toBe(true);
    expect(readTreeFile(tree, "/hardlink")).toEqual(bytes(5000, 1));
    expect(tree.stat("/fifo")).toMatchObject({ type: "other", mode: 0o010644 });
    expect(tree.stat("/chr")).toMatchObject({ type: "other", mode: 0o020644 });
    expect(tree.list("/many").length).toBe(700);
    expect(tree.stat("/many/file-number-0699.rpm")?.size).toBe(4);
    expect(tree.owner("/chr")).toEqual({ uid: 12, gid: 34 });
    expect(tree.stat("/chr")).toMatchObject({ uid: 12, gid: 34, rdev: (1 << 8) | 3 });
    expect(tree.stat("/one")).toMatchObject({ uid: process.getuid!(), gid: process.getgid!() });
    expect(tree.stat("/dir-link/small.bin")?.size).toBe(5000);
    expect(new TextDecoder().decode(readTreeFile(tree, "/abs-link"))).toContain("ALT");
    expect(f.readAt(new Uint8Array(10), SPARSE_SIZE)).toBe(0);
  });

  test.skipIf(Bun.which("genisoimage") === null)("a squashfs layer read in place inside an ISO", () => {
    const live = join(dir, "iso-src", "LiveOS");
    mkdirSync(live, { recursive: true });
    copyFileSync(image("xz"), join(live, "squashfs.img"));
    const iso = join(dir, "live.iso");
    runSync(["genisoimage", "-quiet", "-R", "-o", iso, join(dir, "iso-src")]);
    const layer = openIso9660(source(iso)).open("/LiveOS/squashfs.img");
    const tree = openSquashfs(layer);
    expect(tree.name).toBe(`squashfs ${iso}:/LiveOS/squashfs.img`);
    const rows = treeRows(tree);
    expect(rows).toEqual(treeRows(openSquashfs(source(image("xz")))));
    expect(differingFiles(tree, src, rows)).toEqual([]);
  });

  test("lzo: a clear unsupported-compressor error", () => {
    let err: unknown;
    try {
      openSquashfs(source(image("lzo")));
    } catch (e) {
      err = e;
    }
    expect(isImageError(err) && err.code).toBe("unsupported");
    expect(String(err)).toMatch(/lzo\.sqfs: unsupported compressor lzo/);
  });
});

describe.skipIf(!hasMksquashfs)("squashfs reader: bad images", () => {
  const patched = (from: string, name: string, patch: (img: Uint8Array, v: DataView) => void): string => {
    const img = new Uint8Array(readFileSync(image(from)));
    patch(img, new DataView(img.buffer));
    const p = join(dir, `${name}.sqfs`);
    writeFileSync(p, img);
    return p;
  };

  test("bad magic, truncated image, other version", () => {
    const junk = join(dir, "junk.sqfs");
    writeFileSync(junk, bytes(8192, 3));
    expect(code(() => openSquashfs(source(junk)))).toMatch(/^format: .*bad magic/);
    const full = readFileSync(image("xz"));
    const cut = join(dir, "cut.sqfs");
    writeFileSync(cut, full.subarray(0, full.length >> 1));
    expect(code(() => openSquashfs(source(cut)))).toMatch(/^truncated: .*cut\.sqfs: image is \d+ bytes, the superblock says/);
    const v3 = patched("gzip", "v3", (_b, v) => v.setUint16(28, 3, true));
    expect(code(() => openSquashfs(source(v3)))).toMatch(/^format: .*version 3\.0/);
  });

  test("root inode outside the inode table", () => {
    const p = patched("gzip", "badroot", (_b, v) => v.setBigUint64(32, 0xffff_0000_0010n, true));
    expect(code(() => openSquashfs(source(p)))).toMatch(/^corrupt: .*(outside|does not decompress|bad length)/);
  });

  test("a data block that does not decompress: an error naming the file; other files still read", () => {
    // data blocks come first in mksquashfs images: garble the start of the first one
    const p = patched("xz", "garbled", (b) => b.fill(0x55, 200, 400));
    const tree = openSquashfs(source(p));
    const rows = treeRows(tree, false);
    const results = rows.filter((r) => r.type === "file" && r.size > 0).map((r) => code(() => readTreeFile(tree, r.path)));
    const bad = results.filter((c) => c !== "no error");
    expect(bad.length).toBeGreaterThan(0);
    expect(bad[0]).toMatch(/^corrupt: .*garbled\.sqfs:\/.*does not decompress \(xz\)/);
    expect(results.length - bad.length).toBeGreaterThan(10);
  });

  test("a directory entry pointing at the root (a loop), and a file claiming 2^50 bytes", () => {
    // lz4 image has uncompressed inodes (-noI); the directory table is compressed, so build a small
    // image with uncompressed metadata for the loop.
    const small = join(dir, "small-src");
    mkdirSync(join(small, "d"), { recursive: true });
    writeFileSync(join(small, "d", "f"), "f");
    const img = mksquashfs(small, "small", ["-noI", "-noD", "-noF"]);
    const buf = new Uint8Array(readFileSync(img));
    const v = new DataView(buf.buffer);
    const rootOffset = Number(v.getBigUint64(32, true) & 0xffffn);
    const dirTable = Number(v.getBigUint64(72, true));
    // root listing entry for "d": offset u16, inode_offset s16, type u16 = 1, name_size u16 = 0, "d"
    let at = -1;
    for (let i = dirTable; i + 9 <= buf.length; i++)
      if (buf[i + 4] === 1 && buf[i + 5] === 0 && buf[i + 6] === 0 && buf[i + 7] === 0 && buf[i + 8] === 0x64) {
        at = i;
        break;
      }
    expect(at).toBeGreaterThan(0);
    v.setUint16(at, rootOffset, true);
    const loop = join(dir, "loop.sqfs");
    writeFileSync(loop, buf);
    const tree = openSquashfs(source(loop));
    expect(code(() => treeRows(tree, false))).toMatch(/^corrupt: .*directory loop/);

    // extended file inode of /sparse (lz4 image, uncompressed inodes): its u64 size set to 2^50
    const huge = patched("lz4", "huge", (b, dv) => {
      const inodes = Number(dv.getBigUint64(64, true));
      const end = Number(dv.getBigUint64(72, true));
      let hits = 0;
      for (let i = inodes; i + 8 <= end; i++)
        if (dv.getBigUint64(i, true) === BigInt(SPARSE_SIZE) && dv.getUint16(i - 24, true) === 9) {
          dv.setBigUint64(i, 2n ** 50n, true);
          hits++;
        }
      expect(hits).toBe(1);
    });
    const t2 = openSquashfs(source(huge));
    expect(t2.stat("/sparse")?.size).toBe(2 ** 50);
    expect(code(() => t2.open("/sparse"))).toMatch(/^limit: .*huge\.sqfs:\/sparse: file claims 1125899906842624 bytes/);
    expect(readTreeFile(t2, "/data/small.bin")).toEqual(bytes(5000, 1));
  });
});
