/**
 * The QCOW2 reader against `qemu-img convert -O raw` (the oracle) on images qemu-img and qemu-io
 * write: a GPT disk (sfdisk) with an ext4 partition (mkfs.ext4 -d) converted to QCOW2 v3 and
 * v2 (compat=0.10), compressed with deflate and zstd, with 4 KiB and 2 MiB clusters, with
 * extended L2 entries, with zero clusters and partially written subclusters; then the ext4
 * inside read through partitions + ext4. Refusals: backing file, encryption, unknown features,
 * L2 offsets beyond the file, a truncated file, a compressed cluster that inflates too far.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { deflateRawSync } from "node:zlib";
import { ImageError } from "../../src/image/errors.ts";
import { openExt4 } from "../../src/image/ext4.ts";
import { linuxPartitions, partitionSource } from "../../src/image/partitions.ts";
import { openQcow2, type Qcow2Source } from "../../src/image/qcow2.ts";
import { readTreeFile } from "../../src/image/tree.ts";
import { FileSource } from "../../src/rpmdb/source.ts";
import { MKFS, MemSource, QEMU_IMG, SFDISK, copyInto, failure, prng, hostFile, makeSourceTree, mkfs, partitionDisk, runSync, scratchDir } from "./_disk.ts";

const QEMU_IO = Bun.which("qemu-io");
const FUZZ = Number(process.env.ALTREPODB_IMAGE_FUZZ ?? 40);
const FUZZ_SEED = Number(process.env.ALTREPODB_FUZZ_SEED ?? 1);

const VARIANTS: [string, string[]][] = [
  ["v3", []],
  ["v2", ["-o", "compat=0.10"]],
  ["deflate", ["-c"]],
  ["zstd", ["-c", "-o", "compression_type=zstd"]],
  ["cluster-4k", ["-o", "cluster_size=4096"]],
  ["cluster-2m", ["-o", "cluster_size=2M"]],
  ["extended-l2", ["-o", "extended_l2=on,cluster_size=128k"]],
];

function readAll(q: Qcow2Source, step = 1 << 20): Uint8Array {
  const buf = new Uint8Array(q.size);
  for (let off = 0; off < q.size; off += step) q.readAt(buf.subarray(off, Math.min(q.size, off + step)), off);
  return buf;
}

function toRaw(qcow: string, raw: string): Uint8Array {
  runSync([QEMU_IMG!, "convert", "-f", "qcow2", "-O", "raw", qcow, raw]);
  return new Uint8Array(readFileSync(raw));
}

describe.skipIf(!QEMU_IMG || !MKFS || !SFDISK)("QCOW2 reader", () => {
  let dir: string;
  let src: string;
  let disk: string;
  beforeAll(() => {
    dir = scratchDir("qcow2");
    src = makeSourceTree(join(dir, "src"), { big: false });
    disk = join(dir, "disk.raw");
    const parts = partitionDisk(disk, 20, 'label: gpt\nstart=2048, size=4096, type=U, name="efi"\nsize=32768, type=L, name="root"\n');
    copyInto(disk, parts[1].start * 512, mkfs(join(dir, "root.img"), src, 16, ["-b", "4096"]));
    for (const [name, opts] of VARIANTS) runSync([QEMU_IMG!, "convert", "-f", "raw", "-O", "qcow2", ...opts, disk, join(dir, `${name}.qcow2`)]);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name] of VARIANTS) {
    test(`${name}: the guest disk byte for byte as qemu-img convert -O raw gives it`, () => {
      const q = openQcow2(new FileSource(join(dir, `${name}.qcow2`)), { l2CacheBytes: 64 * 1024 });
      expect(Buffer.compare(readAll(q, 300_007), toRaw(join(dir, `${name}.qcow2`), join(dir, `${name}.raw`)))).toBe(0);
      if (name === "v2") expect(q.header.version).toBe(2);
      if (name === "zstd") expect(q.header.compression).toBe("zstd");
      if (name === "extended-l2") expect(q.header.extendedL2).toBe(true);
    });
  }

  test("the ext4 partition inside a compressed QCOW2 reads as the source directory", async () => {
    const q = openQcow2(new FileSource(join(dir, "zstd.qcow2")));
    const root = linuxPartitions(q);
    expect(root.map((p) => p.name)).toEqual(["root"]);
    const fs = openExt4(partitionSource(q, root[0]));
    for (const p of ["/var/lib/rpm/Packages", "/holes", "/sparse", "/etc/os-release"]) expect(Buffer.compare(readTreeFile(fs, p), hostFile(src, p))).toBe(0);
    await fs.close();
  });

  test.skipIf(!QEMU_IO)("zero clusters and partly written subclusters (qemu-io write -z / -P) after an internal snapshot", () => {
    for (const name of ["v3", "extended-l2"]) {
      const p = join(dir, `${name}-io.qcow2`);
      copyFileSync(join(dir, `${name}.qcow2`), p);
      runSync([QEMU_IMG!, "snapshot", "-c", "before", p]); // an internal snapshot: the active L1 is read
      runSync([QEMU_IO!, "-f", "qcow2", "-c", "write -z 1M 1M", "-c", "write -P 0xab 3M 4k", "-c", "write -P 0xcd 5000k 12k", p]);
      const q = openQcow2(new FileSource(p));
      expect(Buffer.compare(readAll(q), toRaw(p, join(dir, `${name}-io.raw`)))).toBe(0);
    }
  });

  test(`${FUZZ} mutated headers and tables: the disk read or an ImageError, nothing else (ALTREPODB_IMAGE_FUZZ)`, () => {
    for (const name of ["v3", "deflate", "zstd", "extended-l2"]) {
      const data = new Uint8Array(readFileSync(join(dir, `${name}.qcow2`)));
      const dv = new DataView(data.buffer);
      const cs = 2 ** dv.getUint32(20);
      const l1 = Number(dv.getBigUint64(40));
      const l2 = Number(dv.getBigUint64(l1) & 0x00ff_ffff_ffff_fe00n);
      const areas: [number, number][] = [
        [0, 112],
        [l1, 64],
        [l2, Math.min(cs, 4096)],
      ];
      const rnd = prng(FUZZ_SEED + name.length);
      const buf = new Uint8Array(1 << 20);
      for (let i = 0; i < FUZZ; i++) {
        const saved: [number, number][] = [];
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) {
          const [from, len] = areas[Math.floor(rnd() * areas.length)];
          const at = from + Math.floor(rnd() * len);
          saved.push([at, data[at]]);
          data[at] = rnd() < 0.5 ? data[at] ^ (1 << Math.floor(rnd() * 8)) : Math.floor(rnd() * 256);
        }
        try {
          const q = openQcow2(new MemSource(data, `${name}-${i}`), { l2CacheBytes: 1 });
          for (let off = 0; off < Math.min(q.size, 20 << 20); off += buf.length) q.readAt(buf, off);
        } catch (err) {
          if (!(err instanceof ImageError)) throw new Error(`${name} mutation ${i}: ${(err as Error).stack}`);
        }
        for (const [at, v] of saved.reverse()) data[at] = v;
      }
    }
  }, 120_000 + FUZZ * 3000);

  describe("bad input: a clear ImageError naming the image", () => {
    function copy(name: string, as: string): string {
      const p = join(dir, as);
      copyFileSync(join(dir, `${name}.qcow2`), p);
      return p;
    }

    test("not a QCOW2; a backing file (never opened); encryption; unknown incompatible features", () => {
      const raw = failure(() => openQcow2(new FileSource(disk)));
      expect(raw.code).toBe("format");
      const over = join(dir, "over.qcow2");
      runSync([QEMU_IMG!, "create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", over]);
      const e = failure(() => openQcow2(new FileSource(over)));
      expect(e.message).toContain("backing file");
      expect(e.message).toContain("over.qcow2");
      const aes = join(dir, "aes.qcow2");
      runSync([QEMU_IMG!, "create", "-q", "-f", "qcow2", "--object", "secret,id=s0,data=abc", "-o", "encrypt.format=aes,encrypt.key-secret=s0", aes, "1M"]);
      expect(failure(() => openQcow2(new FileSource(aes))).message).toContain("encrypted");
      const odd = copy("v3", "odd.qcow2");
      const b = readFileSync(odd);
      b[79] |= 0x40; // incompatible feature bit 6
      writeFileSync(odd, b);
      expect(failure(() => openQcow2(new FileSource(odd))).message).toContain("unknown incompatible");
    });

    test("an L2 table offset beyond the file; a truncated file", () => {
      const p = copy("v3", "l2.qcow2");
      const b = readFileSync(p);
      const l1 = Number(b.readBigUInt64BE(40));
      b.writeBigUInt64BE((1n << 63n) | (1n << 40n), l1);
      writeFileSync(p, b);
      const q = openQcow2(new FileSource(p));
      const e = failure(() => q.readAt(new Uint8Array(4096), 0));
      expect(e.message).toContain("L2 table");
      expect(e.message).toContain("beyond the end");
      const cut = copy("v3", "cut.qcow2");
      truncateSync(cut, Math.floor(readFileSync(cut).length / 2));
      const qc = openQcow2(new FileSource(cut));
      expect(failure(() => readAll(qc)).message).toContain("beyond the end of the file");
    });

    test("a compressed cluster that inflates beyond the cluster size (deflate and zstd)", () => {
      for (const [name, big] of [
        ["deflate", deflateRawSync(new Uint8Array(256 * 1024))],
        ["zstd", Bun.zstdCompressSync(new Uint8Array(256 * 1024))],
      ] as const) {
        const p = copy(name, `bomb-${name}.qcow2`);
        const b = readFileSync(p);
        const cb = b.readUInt32BE(20);
        const l1 = Number(b.readBigUInt64BE(40));
        const l2 = Number(b.readBigUInt64BE(l1) & 0x00ff_ffff_ffff_fe00n);
        // the first compressed entry with room for the bomb
        const x = BigInt(62 - (cb - 8));
        let target = -1;
        for (let i = 0; i < 2 ** cb / 8; i++) {
          const e = b.readBigUInt64BE(l2 + i * 8);
          if (!(e & (1n << 62n))) continue;
          const desc = e & ((1n << 62n) - 1n);
          const off = Number(desc & ((1n << x) - 1n));
          if ((Number(desc >> x) + 1) * 512 - (off & 511) < big.length) continue;
          b.set(big, off);
          target = i;
          break;
        }
        expect(target).toBeGreaterThanOrEqual(0);
        writeFileSync(p, b);
        const q = openQcow2(new FileSource(p));
        const e = failure(() => q.readAt(new Uint8Array(1), target * 2 ** cb));
        expect(e.message).toContain("beyond the cluster size");
      }
    });
  });
});
