/**
 * Compressed raw disks (`.img.xz`, `.img.gz`, `.img.zst`) made with the real xz, gzip and zstd
 * from a GPT + ext4 disk: decompressed once into an unlinked sparse temp file, compared byte for
 * byte with the raw disk; holes stay holes; nothing is ever left in the temp dir, also when xz
 * fails midway or the process gets SIGTERM while decompressing (and xz is not left running).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, mkdirSync, appendFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ImageError } from "../../src/image/errors.ts";
import { openExt4 } from "../../src/image/ext4.ts";
import { linuxPartitions, partitionSource } from "../../src/image/partitions.ts";
import { readTreeFile } from "../../src/image/tree.ts";
import { openXzFile } from "../../src/image/xz-file.ts";
import { MKFS, SFDISK, copyInto, mkfs, partitionDisk, runSync, scratchDir } from "./_disk.ts";

const TOOLS = ["xz", "gzip", "zstd"].every((t) => Bun.which(t) !== null);

async function failure(p: Promise<unknown>): Promise<ImageError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return e as ImageError;
  }
  throw new Error("no error");
}

describe.skipIf(!TOOLS || !MKFS || !SFDISK)("compressed raw disks", () => {
  let dir: string;
  let tmp: string;
  let disk: string;
  let raw: Uint8Array;
  beforeAll(() => {
    dir = scratchDir("xzfile");
    tmp = join(dir, "tmp");
    mkdirSync(tmp);
    const src = join(dir, "src");
    mkdirSync(join(src, "etc"), { recursive: true });
    writeFileSync(join(src, "etc/os-release"), "ID=altlinux\nVERSION_ID=p10\n");
    disk = join(dir, "disk.img");
    const parts = partitionDisk(disk, 24, 'label: gpt\nstart=2048, size=40000, type=L, name="root"\n');
    copyInto(disk, parts[0].start * 512, mkfs(join(dir, "root.img"), src, 16));
    raw = new Uint8Array(readFileSync(disk));
    runSync(["xz", "-k", "-0", "-T1", disk]);
    runSync(["gzip", "-k", "-1", disk]);
    runSync(["zstd", "-q", "-1", disk, "-o", `${disk}.zst`]);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [ext, kind] of [
    [".xz", "xz"],
    [".gz", "gzip"],
    [".zst", "zstd"],
    ["", "none"],
  ] as const) {
    test(`disk.img${ext}: the disk byte for byte, sparse, nothing left in the temp dir`, async () => {
      const d = await openXzFile(disk + ext, { tmpDir: tmp });
      try {
        expect(d.compression).toBe(kind);
        expect(readdirSync(tmp)).toEqual([]);
        expect(d.source.size).toBe(raw.length);
        const got = new Uint8Array(raw.length);
        expect(d.source.readAt(got, 0)).toBe(raw.length);
        expect(Buffer.compare(got, raw)).toBe(0);
        if (kind !== "none") expect(d.allocated()).toBeLessThan(raw.length / 2);
        const root = linuxPartitions(d.source)[0];
        const fs = openExt4(partitionSource(d.source, root));
        expect(new TextDecoder().decode(readTreeFile(fs, "/etc/os-release"))).toContain("ID=altlinux");
      } finally {
        d.close();
      }
      expect(readdirSync(tmp)).toEqual([]);
    });
  }

  test("xz failing midway (truncated, corrupt): its stderr in an ImageError naming the file; nothing left", async () => {
    const xz = readFileSync(`${disk}.xz`);
    const cut = join(dir, "cut.img.xz");
    writeFileSync(cut, xz.subarray(0, Math.floor(xz.length / 2)));
    const e = await failure(openXzFile(cut, { tmpDir: tmp }));
    expect(e.message).toContain("cut.img.xz");
    expect(e.message).toContain("xz failed");
    expect(e.message.toLowerCase()).toContain("unexpected end of input");
    const bad = join(dir, "bad.img.xz");
    const b = Buffer.from(xz);
    for (let i = 200; i < 260; i++) b[i] ^= 0x5a;
    writeFileSync(bad, b);
    expect((await failure(openXzFile(bad, { tmpDir: tmp }))).message).toContain("bad.img.xz");
    const gz = readFileSync(`${disk}.gz`);
    const cutGz = join(dir, "cut.img.gz");
    writeFileSync(cutGz, gz.subarray(0, gz.length - 100));
    expect((await failure(openXzFile(cutGz, { tmpDir: tmp }))).message).toContain("cut.img.gz");
    const zst = readFileSync(`${disk}.zst`);
    const cutZst = join(dir, "cut.img.zst");
    writeFileSync(cutZst, zst.subarray(0, zst.length - 100));
    expect((await failure(openXzFile(cutZst, { tmpDir: tmp }))).message).toContain("cut.img.zst");
    expect(readdirSync(tmp)).toEqual([]);
  });

  test("SIGTERM while decompressing leaves nothing in the temp dir", async () => {
    // 64 concatenated xz streams of 16 MiB of zeros: 1 GiB to decompress, seconds of xz
    const zeros = join(dir, "zeros");
    writeFileSync(zeros, new Uint8Array(16 << 20));
    runSync(["xz", "-0", "-T1", zeros]);
    const one = readFileSync(`${zeros}.xz`);
    const big = join(dir, "big.img.xz");
    for (let i = 0; i < 64; i++) appendFileSync(big, one);
    const script = join(dir, "child.ts");
    writeFileSync(
      script,
      `import { openXzFile } from ${JSON.stringify(resolve(import.meta.dir, "../../src/image/xz-file.ts"))};\n` +
        `console.log("go");\nconst d = await openXzFile(${JSON.stringify(big)}, { tmpDir: ${JSON.stringify(tmp)} });\nconsole.log("done", d.source.size);\n`,
    );
    const child = Bun.spawn([process.execPath, script], { stdout: "pipe", stderr: "pipe" });
    const reader = child.stdout.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("go");
    await Bun.sleep(150);
    child.kill("SIGTERM");
    expect(await child.exited).not.toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    // and no xz is left reading the file (it writes a file, so no broken pipe would stop it)
    const readers = () =>
      readdirSync("/proc").filter((p) => {
        try {
          return /^\d+$/.test(p) && readlinkSync(`/proc/${p}/fd/0`) === big;
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 5 && readers().length > 0; i++) await Bun.sleep(100);
    expect(readers()).toEqual([]);
  }, 60_000);
});
