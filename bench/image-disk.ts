#!/usr/bin/env bun
/**
 * Reading every file of an ext4 filesystem inside a GPT disk, raw and QCOW2, with our userspace
 * readers (src/image: partitions → ext4, qcow2), as ratios to the system tools measured in the
 * same run: `cat` of the raw disk (the floor: the bytes read once), `debugfs rdump` of the raw
 * disk's partition, and `qemu-img convert -O raw` + `debugfs rdump` for the QCOW2; plus peak RSS.
 *
 *   bun bench/image-disk.ts [--mib 200] [--runs 2] [--compressed] [--xz]
 *
 * With --xz the raw disk is also compressed (`xz -0 -T2`, not timed) and opened as an `.img.xz`
 * (decompressed once into an unlinked sparse temp file), against `xz -dc` to /dev/null.
 *
 * The fixture (generated, not committed, in .tmp/bench-image-disk): ~--mib MiB of files (sizes
 * 1 KiB–4 MiB, pseudo-random content, about a thousand per 200 MiB) put into a partition with
 * `mkfs.ext4 -d`, the disk partitioned by sfdisk, converted with `qemu-img convert -O qcow2`
 * (`-c` with --compressed). Each measurement is a whole process under GNU time (wall, CPU, peak
 * RSS); the best of --runs is kept. Caches are warm for every contender alike.
 */
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openExt4 } from "../src/image/ext4.ts";
import { linuxPartitions, partitionSource } from "../src/image/partitions.ts";
import { openQcow2 } from "../src/image/qcow2.ts";
import type { FileTree } from "../src/image/tree.ts";
import { openXzFile } from "../src/image/xz-file.ts";
import { FileSource } from "../src/rpmdb/source.ts";
import { freshWorkDir } from "./_util.ts";

const { values } = parseArgs({
  options: {
    mib: { type: "string", default: "200" },
    runs: { type: "string", default: "2" },
    compressed: { type: "boolean", default: false },
    xz: { type: "boolean", default: false },
    read: { type: "string" }, // child mode: raw|qcow2
    file: { type: "string" },
  },
});

/** Child mode: read every regular file of the first ext partition, 1 MiB at a time. */
if (values.read) {
  const base = values.read === "xz" ? (await openXzFile(values.file!)).source : new FileSource(values.file!);
  const disk = values.read === "qcow2" ? openQcow2(base) : base;
  const part = linuxPartitions(disk)[0];
  const fs = openExt4(partitionSource(disk, part));
  const buf = new Uint8Array(1 << 20);
  let files = 0;
  let bytes = 0;
  const walk = (tree: FileTree, dir: string) => {
    for (const e of tree.list(dir)) {
      if (e.type === "dir") walk(tree, e.path);
      else if (e.type === "file") {
        const f = tree.open(e.path);
        for (let off = 0; off < f.size; off += buf.length) bytes += f.readAt(buf, off);
        f.close();
        files++;
      }
    }
  };
  walk(fs, "/");
  console.log(JSON.stringify({ files, bytes }));
  process.exit(0);
}

const MKFS = Bun.which("mkfs.ext4") ?? "/usr/sbin/mkfs.ext4";
const SFDISK = Bun.which("sfdisk") ?? "/usr/sbin/sfdisk";
const DEBUGFS = Bun.which("debugfs") ?? "/usr/sbin/debugfs";
const QEMU_IMG = Bun.which("qemu-img") ?? "qemu-img";
const work = freshWorkDir("bench-image-disk");

function run(argv: string[], stdin?: string): void {
  const r = Bun.spawnSync(argv, { stdin: stdin ? new TextEncoder().encode(stdin) : "ignore", stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${r.exitCode}: ${r.stderr.toString()}`);
}

// ---- fixture
const mib = Number(values.mib);
const src = join(work, "src");
const block = new Uint8Array(4 << 20);
crypto.getRandomValues(block.subarray(0, 65536));
for (let off = 65536; off < block.length; off += 65536) block.copyWithin(off, 0, 65536);
let total = 0;
let i = 0;
while (total < mib * 1024 * 1024) {
  const d = join(src, `d${i % 50}`);
  mkdirSync(d, { recursive: true });
  const size = i % 50 === 0 ? 4 << 20 : 1024 * (1 + ((i * 7919) % 256));
  const fd = openSync(join(d, `f${i}`), "w");
  const head = new TextEncoder().encode(`file ${i}\n`);
  writeSync(fd, head);
  writeSync(fd, block, 0, size - head.length);
  closeSync(fd);
  total += size;
  i++;
}
const fsMiB = Math.ceil(mib * 1.25) + 32;
const part = join(work, "part.img");
run(["truncate", "-s", `${fsMiB}M`, part]);
run([MKFS, "-q", "-F", "-b", "4096", "-d", src, part]);
const raw = join(work, "disk.raw");
run(["truncate", "-s", `${fsMiB + 2}M`, raw]);
run([SFDISK, "-q", raw], `label: gpt\nstart=2048, size=${fsMiB * 2048}, type=L\n`);
run(["dd", `if=${part}`, `of=${raw}`, "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]);
const qcow = join(work, "disk.qcow2");
run([QEMU_IMG, "convert", "-f", "raw", "-O", "qcow2", ...(values.compressed ? ["-c"] : []), raw, qcow]);
rmSync(part);
rmSync(src, { recursive: true });

// ---- measurements
interface Timed {
  seconds: number;
  cpu: number;
  rssMb: number;
}

function timed(argv: string[]): Timed {
  const t0 = performance.now();
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "@@rss %M %U %S", ...argv], { stdout: "ignore", stderr: "pipe" });
  const seconds = (performance.now() - t0) / 1000;
  const err = r.stderr.toString();
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${r.exitCode}: ${err}`);
  const m = /@@rss (\d+) ([\d.]+) ([\d.]+)/.exec(err)!;
  return { seconds, cpu: Number(m[2]) + Number(m[3]), rssMb: Number(m[1]) / 1024 };
}

function sum(a: Timed, b: Timed): Timed {
  return { seconds: a.seconds + b.seconds, cpu: a.cpu + b.cpu, rssMb: Math.max(a.rssMb, b.rssMb) };
}

function best(f: () => Timed): Timed {
  let out: Timed | undefined;
  for (let r = 0; r < Number(values.runs); r++) {
    const t = f();
    if (!out || t.seconds < out.seconds) out = t;
  }
  return out!;
}

const self = import.meta.path;
const out = join(work, "rdump");
const rdump = (img: string) => () => {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out);
  return timed([DEBUGFS, "-R", `rdump / ${out}`, `${img}?offset=${1 << 20}`]);
};
const rawBack = join(work, "back.raw");
const results: [string, Timed][] = [
  ["cat disk.raw (floor)", best(() => timed(["cat", raw]))],
  ["debugfs rdump (raw)", best(rdump(raw))],
  ["ours: raw → partitions → ext4, every file", best(() => timed([process.execPath, self, "--read", "raw", "--file", raw]))],
  [
    "qemu-img convert -O raw + debugfs rdump",
    best(() => {
      rmSync(rawBack, { force: true });
      return sum(timed([QEMU_IMG, "convert", "-f", "qcow2", "-O", "raw", qcow, rawBack]), rdump(rawBack)());
    }),
  ],
  ["ours: qcow2 → partitions → ext4, every file", best(() => timed([process.execPath, self, "--read", "qcow2", "--file", qcow]))],
];
if (values.xz) {
  run(["xz", "-k", "-0", "-T2", raw]);
  results.push(["xz -dc disk.raw.xz", best(() => timed(["xz", "-dc", `${raw}.xz`]))]);
  results.push(["ours: .img.xz → temp → ext4, every file", best(() => timed([process.execPath, self, "--read", "xz", "--file", `${raw}.xz`]))]);
}
rmSync(out, { recursive: true, force: true });
rmSync(rawBack, { force: true });

const floor = results[0][1].seconds;
console.log(`ext4 with ${i} files, ${(total / 1048576).toFixed(0)} MiB, in a ${fsMiB + 2} MiB GPT disk; qcow2${values.compressed ? " (compressed)" : ""}`);
for (const [name, t] of results)
  console.log(`${name.padEnd(46)} ${t.seconds.toFixed(2).padStart(7)} s  cpu ${t.cpu.toFixed(2).padStart(6)} s  ×cat ${(t.seconds / floor).toFixed(2).padStart(6)}  peak RSS ${t.rssMb.toFixed(0)} MB`);
const ratio = (a: number, b: number) => (results[a][1].seconds / results[b][1].seconds).toFixed(2);
console.log(`ours / debugfs rdump (raw): ${ratio(2, 1)}   ours / qemu-img convert + rdump (qcow2): ${ratio(4, 3)}${values.xz ? `   ours / xz -dc (.img.xz): ${ratio(6, 5)}` : ""}`);
rmSync(work, { recursive: true, force: true });
