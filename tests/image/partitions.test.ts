/**
 * Partition tables written by util-linux `sfdisk` on plain files, read back and compared with
 * `sfdisk --json` (the oracle): GPT with names, MBR with an extended partition and logical
 * partitions, a GPT moved to 4096-byte sectors, a bad primary GPT header (backup used), both
 * bad, a truncated disk, a bare filesystem, and picking the ext partitions.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ImageError } from "../../src/image/errors.ts";
import { linuxPartitions, partitionSource, readPartitions } from "../../src/image/partitions.ts";
import { openExt4 } from "../../src/image/ext4.ts";
import { readTreeFile } from "../../src/image/tree.ts";
import { FileSource } from "../../src/rpmdb/source.ts";
import { MKFS, MemSource, SFDISK, copyInto, failure, prng, mkfs, partitionDisk, scratchDir } from "./_disk.ts";

const GPT_SCRIPT = 'label: gpt\nstart=2048, size=4096, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="EFI System"\nsize=8192, type=L, name="root"\n size=2048, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, name="swap"\n';
const MBR_SCRIPT = "label: dos\nstart=2048, size=4096, type=83, bootable\nsize=20480, type=5\nsize=2048, type=c\nsize=4096, type=83\nsize=2048, type=82\nsize=8192, type=83\n";

const FUZZ_SEED = Number(process.env.ALTREPODB_FUZZ_SEED ?? 1);

function crc32(b: Uint8Array): number {
  return Bun.hash.crc32(b) >>> 0;
}

describe.skipIf(!SFDISK || !MKFS)("partition tables", () => {
  let dir: string;
  let gpt: string;
  let mbr: string;
  let gptWant: { start: number; size: number; type: string; name?: string }[];
  let mbrWant: { node: string; start: number; size: number; type: string }[];
  beforeAll(() => {
    dir = scratchDir("parts");
    gpt = join(dir, "gpt.img");
    gptWant = partitionDisk(gpt, 16, GPT_SCRIPT);
    mbr = join(dir, "mbr.img");
    mbrWant = partitionDisk(mbr, 32, MBR_SCRIPT);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("GPT: every partition as sfdisk --json shows it", () => {
    const got = readPartitions(new FileSource(gpt));
    expect(got.map((p) => ({ start: p.start / 512, size: p.size / 512, type: p.type.toUpperCase(), name: p.name }))).toEqual(
      gptWant.map((p) => ({ start: p.start, size: p.size, type: p.type, name: p.name ?? "" })),
    );
    expect(got.map((p) => p.index)).toEqual([1, 2, 3]);
    expect(got.every((p) => p.scheme === "gpt")).toBe(true);
  });

  test("MBR with an extended partition: primaries 1–4, logical partitions from 5", () => {
    const got = readPartitions(new FileSource(mbr));
    const want = mbrWant.filter((p) => p.type !== "5");
    expect(got.map((p) => ({ index: p.index, start: p.start / 512, size: p.size / 512, type: p.type.replace(/^0x0?/, "") }))).toEqual(
      want.map((p) => ({ index: Number(/(\d+)$/.exec(p.node)![1]), start: p.start, size: p.size, type: p.type })),
    );
    expect(got.some((p) => p.index >= 5)).toBe(true);
  });

  test("GPT on 4096-byte sectors (sfdisk's GPT rewritten with LBAs / 8)", () => {
    const b = readFileSync(gpt);
    const out = new Uint8Array(b.length);
    out.set(b.subarray(0, 512)); // protective MBR
    const hdr = Buffer.from(b.subarray(512, 512 + 92));
    const entries = b.subarray(1024, 1024 + 128 * 128);
    const conv = Buffer.from(entries);
    for (let i = 0; i < 128; i++) {
      const e = i * 128;
      if (conv.readBigUInt64LE(e + 32) === 0n) continue;
      conv.writeBigUInt64LE(conv.readBigUInt64LE(e + 32) / 8n, e + 32);
      conv.writeBigUInt64LE((conv.readBigUInt64LE(e + 40) + 1n) / 8n - 1n, e + 40);
    }
    hdr.writeBigUInt64LE(2n, 72); // entries right after the header sector
    hdr.writeUInt32LE(crc32(conv), 88);
    hdr.writeUInt32LE(0, 16);
    hdr.writeUInt32LE(crc32(hdr), 16);
    out.set(hdr, 4096);
    out.set(conv, 8192);
    const p = join(dir, "gpt4k.img");
    writeFileSync(p, out);
    const got = readPartitions(new FileSource(p));
    expect(got.map((x) => [x.start, x.size, x.name])).toEqual(gptWant.map((x) => [x.start * 512, x.size * 512, x.name ?? ""]));
  });

  test("a bad primary GPT header CRC falls back to the backup; both bad is a clear error", () => {
    const p = join(dir, "badcrc.img");
    copyFileSync(gpt, p);
    const b = readFileSync(p);
    b[512 + 16] ^= 0xff;
    writeFileSync(p, b);
    expect(readPartitions(new FileSource(p)).map((x) => x.name)).toEqual(["EFI System", "root", "swap"]);
    b[b.length - 512 + 16] ^= 0xff;
    writeFileSync(p, b);
    const e = failure(() => readPartitions(new FileSource(p)));
    expect(e.message).toContain("badcrc.img");
    expect(e.message).toContain("CRC");
  });

  test("mutated MBR, GPT headers and entries: partitions or an ImageError, nothing else", () => {
    for (const [name, disk] of [
      ["gpt", gpt],
      ["mbr", mbr],
    ] as const) {
      const data = new Uint8Array(readFileSync(disk));
      const areas: [number, number][] = [
        [0, 1024 + 128 * 128],
        [data.length - 33 * 512, 33 * 512],
      ];
      // the extended boot records of the MBR disk
      if (name === "mbr") for (const p of mbrWant) areas.push([(p.start - 2048 + (p.type === "5" ? 2048 : 0)) * 512, 512]);
      const rnd = prng(FUZZ_SEED);
      for (let i = 0; i < 300; i++) {
        const saved: [number, number][] = [];
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
          const [from, len] = areas[Math.floor(rnd() * areas.length)];
          const at = Math.max(0, from) + Math.floor(rnd() * len);
          if (at >= data.length) continue;
          saved.push([at, data[at]]);
          data[at] = rnd() < 0.5 ? data[at] ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
        }
        try {
          readPartitions(new MemSource(data, `${name}-${i}`));
        } catch (err) {
          if (!(err instanceof ImageError)) throw new Error(`${name} mutation ${i}: ${(err as Error).stack}`);
        }
        for (const [at, v] of saved.reverse()) data[at] = v;
      }
    }
  });

  test("a truncated disk names the partition that runs off its end", () => {
    const p = join(dir, "cut.img");
    copyFileSync(mbr, p);
    truncateSync(p, 8 * 1024 * 1024);
    const e = failure(() => readPartitions(new FileSource(p)));
    expect(e.code).toBe("truncated");
    expect(e.message).toContain("partition");
  });

  test("a bare filesystem is one partition; the ext partitions of a disk are found by their magic", () => {
    const src = join(dir, "src");
    mkdirSync(join(src, "etc"), { recursive: true });
    writeFileSync(join(src, "etc/os-release"), "ID=altlinux\n");
    const fs = mkfs(join(dir, "fs.img"), src, 4);
    expect(readPartitions(new FileSource(fs))).toEqual([{ index: 1, start: 0, size: 4 * 1024 * 1024, type: "none", name: "", scheme: "none" }]);
    const disk = join(dir, "disk.img");
    copyFileSync(gpt, disk);
    const root = gptWant[1];
    copyInto(disk, root.start * 512, fs);
    const src2 = new FileSource(disk);
    const linux = linuxPartitions(src2);
    expect(linux.map((x) => x.name)).toEqual(["root"]);
    const tree = openExt4(partitionSource(src2, linux[0]));
    expect(new TextDecoder().decode(readTreeFile(tree, "/etc/os-release"))).toBe("ID=altlinux\n");
    const junk = join(dir, "junk.img");
    writeFileSync(junk, new Uint8Array(1 << 20));
    expect(readPartitions(new FileSource(junk))).toEqual([]);
  });
});
