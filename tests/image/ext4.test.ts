/**
 * The ext2/3/4 reader against the directory `mkfs.ext4 -d` was given (entry by entry, byte by
 * byte) in the layouts mkfs makes: ext4 with 4 KiB blocks, ext2 (block maps with indirect
 * blocks), extents off, meta_bg descriptors, 128-byte inodes, 1 KiB and 64 KiB blocks, inline data,
 * metadata_csum without flex_bg, htree directories (e2fsck -D). debugfs is the oracle for what the fixtures contain (extent depths, inode
 * positions used to corrupt images) and for the one case where mke2fs itself stores a size other
 * than the source's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "../../src/image/errors.ts";
import { openExt4 } from "../../src/image/ext4.ts";
import { readTreeFile, type FileTree } from "../../src/image/tree.ts";
import { FileSource } from "../../src/rpmdb/source.ts";
import { DEBUGFS, MKFS, MemSource, failure, hostFile, prng, makeSourceTree, mkfs, runSync, scratchDir, walkHost } from "./_disk.ts";

const VARIANTS: [string, string[]][] = [
  ["ext4", ["-b", "4096"]],
  ["ext2", ["-t", "ext2"]],
  ["meta-bg", ["-b", "1024", "-g", "1024", "-O", "meta_bg,^resize_inode"]], // 32 groups: two descriptor blocks, the second in group 16
  ["no-extents", ["-O", "^extent,^64bit"]],
  ["inode-128", ["-I", "128"]],
  ["block-1k", ["-b", "1024"]],
  ["block-64k", ["-b", "65536"]],
  ["inline-data", ["-O", "inline_data"]],
  ["csum-no-flex", ["-O", "metadata_csum,^flex_bg"]],
  ["htree", ["-b", "4096"]], // then `e2fsck -fyD`: mke2fs -d writes linear directories, e2fsck -D indexes them
];
const FUZZ = Number(process.env.ALTREPODB_IMAGE_FUZZ ?? 40);
const FUZZ_SEED = Number(process.env.ALTREPODB_FUZZ_SEED ?? 1);
const E2FSCK = Bun.which("e2fsck") ?? (Bun.which("/usr/sbin/e2fsck") ? "/usr/sbin/e2fsck" : null);

function debugfs(img: string, cmd: string): string {
  return new TextDecoder().decode(runSync([DEBUGFS!, "-R", cmd, img]).stdout);
}

function walk(fs: FileTree, dir = "/"): string[] {
  return fs.list(dir).flatMap((e) => (e.type === "dir" ? [e.path, ...walk(fs, e.path)] : [e.path]));
}

describe.skipIf(!MKFS || !DEBUGFS)("ext4 reader", () => {
  let dir: string;
  let src: string;
  const images = new Map<string, string>();
  beforeAll(() => {
    dir = scratchDir("ext4");
    src = makeSourceTree(join(dir, "src"));
    for (const [name, opts] of VARIANTS) images.set(name, mkfs(join(dir, `${name}.img`), src, name === "block-64k" ? 64 : 32, opts));
    if (E2FSCK) runSync([E2FSCK, "-fyD", images.get("htree")!], { allowFail: true });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name] of VARIANTS) {
    test(`${name}: every entry and every byte as in the source directory`, () => {
      const img = images.get(name)!;
      const fs = openExt4(new FileSource(img));
      const want = walkHost(src);
      expect(walk(fs).filter((p) => p !== "/lost+found").sort()).toEqual(want.map((e) => e.path).sort());
      for (const e of want) {
        const s = fs.stat(e.path)!;
        let size = e.size;
        // mke2fs -d with inline_data drops a trailing hole from the size; debugfs shows what it stored
        if (name === "inline-data" && e.path === "/sparse") size = Number(/Size: (\d+)/.exec(debugfs(img, "stat /sparse"))![1]);
        expect({ path: s.path, type: s.type, size: s.size, mode: s.mode, target: s.target }).toEqual({ ...e, size, target: e.target });
        if (e.type === "file") {
          const got = readTreeFile(fs, e.path);
          const host = hostFile(src, e.path);
          expect(Buffer.compare(got, host.subarray(0, size))).toBe(0);
        }
      }
    });
  }

  test("the fixtures hold extent trees of depth 1 and 2, double indirect blocks and an htree directory", () => {
    const depth = (img: string) => Math.max(...[...debugfs(img, "ex /holes").matchAll(/^\s*(\d+)\/\s*(\d+)/gm)].map((m) => Number(m[2])));
    expect(depth(images.get("ext4")!)).toBe(1);
    expect(depth(images.get("block-1k")!)).toBe(2);
    expect(debugfs(images.get("ext2")!, "stat /holes")).toContain("(DIND)");
    if (E2FSCK) expect(debugfs(images.get("htree")!, "htree /usr/share/many")).toContain("Root node dump");
    expect(debugfs(images.get("meta-bg")!, "stats")).toMatch(/features:.*meta_bg/);
    expect(debugfs(images.get("meta-bg")!, "stats")).toMatch(/Block count:\s+32768/);
  });

  test("symlinks resolve inside the tree: relative, absolute, through directories, '..' stops at the root", async () => {
    const fs = openExt4(new FileSource(images.get("ext4")!));
    expect(fs.stat("/etc/rpmdir/Packages")?.size).toBe(300_000);
    expect(new TextDecoder().decode(readTreeFile(fs, "/abs-link"))).toContain("ALT");
    expect(new TextDecoder().decode(readTreeFile(fs, "/etc/fast-link"))).toContain("ALT");
    expect(fs.stat("/usr/share/escape/os-release")?.type).toBe("file");
    expect(fs.stat("/slow-link")?.target).toBe("/" + "long-directory-name/".repeat(5) + "target-of-a-slow-symlink");
    expect(fs.stat("/nope")).toBeNull();
    expect(fs.stat("/slow-link/x")).toBeNull();
    expect(failure(() => fs.open("/etc")).message).toContain("/etc");
    const loop = failure(() => fs.open("/loop-a"));
    expect(loop.code).toBe("loop");
    expect(loop.message).toContain("/loop-a");
    expect(fs.stat("/loop-a")?.target).toBe("loop-b"); // stat does not follow the last component
    // partial reads at odd offsets across holes
    const f = fs.open("/sparse");
    const buf = new Uint8Array(20_000);
    expect(f.readAt(buf, 5000)).toBe(20_000);
    const host = hostFile(src, "/sparse");
    expect(Buffer.compare(buf, host.subarray(5000, 25_000))).toBe(0);
    expect(f.readAt(buf, host.length - 100)).toBe(100);
    f.close();
    await fs.close();
  });

  test(`${FUZZ} mutated filesystems: every entry read or an ImageError, nothing else (ALTREPODB_IMAGE_FUZZ)`, () => {
    for (const name of ["ext4", "ext2", "inline-data"]) {
      const data = new Uint8Array(readFileSync(images.get(name)!));
      const blockSize = name === "ext4" || name === "inline-data" ? 4096 : 1024;
      // metadata lives in the first blocks (superblock, descriptors, bitmaps, inode tables) and
      // in the directory and extent blocks mkfs writes first
      const area = Math.min(data.length, 800 * blockSize);
      const rnd = prng(FUZZ_SEED + name.length);
      const buf = new Uint8Array(4096);
      for (let i = 0; i < FUZZ; i++) {
        const saved: [number, number][] = [];
        for (let k = 0; k < 1 + Math.floor(rnd() * 8); k++) {
          const at = Math.floor(rnd() * area);
          saved.push([at, data[at]]);
          data[at] = rnd() < 0.5 ? data[at] ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
        }
        try {
          const fs = openExt4(new MemSource(data, `${name}-${i}`));
          const visit = (dir: string, depth: number) => {
            if (depth > 8) return;
            for (const e of fs.list(dir)) {
              try {
                if (e.type === "dir") visit(e.path, depth + 1);
                else if (e.type === "file") fs.open(e.path).readAt(buf, 0);
              } catch (err) {
                if (!(err instanceof ImageError)) throw err;
              }
            }
          };
          visit("/", 0);
        } catch (err) {
          if (!(err instanceof ImageError)) throw new Error(`${name} mutation ${i}: ${(err as Error).stack}`);
        }
        for (const [at, v] of saved.reverse()) data[at] = v;
      }
    }
  }, 120_000 + FUZZ * 3000);

  describe("bad input: a clear ImageError naming the image and the inner path", () => {
    /** An in-memory copy of a fixture, named for messages (positions are taken from the original with debugfs). */
    const originals = new Map<string, Uint8Array>();
    function copy(name: string, as: string): MemSource {
      if (!originals.has(name)) originals.set(name, new Uint8Array(readFileSync(images.get(name)!)));
      return new MemSource(originals.get(name)!.slice(), as);
    }
    function inodePos(img: string, path: string): number {
      const blockSize = Number(/Block size:\s+(\d+)/.exec(debugfs(img, "stats"))![1]);
      const m = /located at block (\d+), offset 0x([0-9a-f]+)/.exec(debugfs(img, `imap ${path}`))!;
      return Number(m[1]) * blockSize + parseInt(m[2], 16);
    }
    function patch(img: MemSource, pos: number, bytes: number[]): void {
      img.data.set(bytes, pos);
    }
    const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

    test("not a filesystem; a truncated image", () => {
      const junk = join(dir, "junk.img");
      writeFileSync(junk, new Uint8Array(64 * 1024));
      expect(failure(() => openExt4(new FileSource(junk))).code).toBe("format");
      const whole = copy("ext4", "cut.img");
      const e = failure(() => openExt4(new MemSource(whole.data.subarray(0, 16 * 1024 * 1024), "cut.img")));
      expect(e.code).toBe("truncated");
      expect(e.message).toContain("cut.img");
    });

    test("an extent pointing beyond the device", () => {
      const img = copy("ext4", "beyond.img");
      patch(img, inodePos(images.get("ext4")!, "/five-thousand") + 0x28 + 12 + 8, u32(0xfffff000));
      const fs = openExt4(img);
      const e = failure(() => fs.open("/five-thousand"));
      expect(e.message).toContain("/five-thousand");
      expect(e.message).toContain("beyond");
      expect(readTreeFile(fs, "/tiny").length).toBe(1); // the rest still reads
    });

    test("an extent tree deeper than 5, and one that comes back to a block", () => {
      const img = copy("ext4", "deep.img");
      patch(img, inodePos(images.get("ext4")!, "/five-thousand") + 0x28 + 6, [7, 0]);
      expect(failure(() => openExt4(img).open("/five-thousand")).message).toContain("depth 7");
      const loop = copy("ext4", "loop.img");
      const at = inodePos(images.get("ext4")!, "/holes") + 0x28;
      const b = Buffer.from(loop.data.buffer, loop.data.byteOffset, loop.data.length);
      expect(b.readUInt16LE(at + 6)).toBe(1); // depth 1, one index entry
      b.writeUInt16LE(2, at + 2);
      b.copy(b, at + 24, at + 12, at + 24); // a second index entry naming the same leaf
      b.writeUInt32LE(100, at + 24);
      const e = failure(() => openExt4(loop).open("/holes"));
      expect(e.code).toBe("loop");
      expect(e.message).toContain("/holes");
    });

    test("a directory entry naming an inode beyond the inode count; a block map beyond the device", () => {
      const img = copy("ext4", "inode.img");
      const root = Number(debugfs(images.get("ext4")!, "blocks /").trim().split(/\s+/)[0]);
      const b = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.length);
      const at = b.indexOf(Buffer.from("five-thousand"), root * 4096);
      b.writeUInt32LE(0x7ffffff0, at - 8);
      const fs = openExt4(img);
      const e = failure(() => fs.stat("/five-thousand"));
      expect(e.message).toContain("/five-thousand");
      expect(e.message).toContain("outside");
      const ext2 = copy("ext2", "map.img");
      patch(ext2, inodePos(images.get("ext2")!, "/five-thousand") + 0x28, u32(0x7fffffff));
      expect(failure(() => openExt4(ext2).open("/five-thousand")).message).toContain("beyond");
    });
  });
});
