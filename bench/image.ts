#!/usr/bin/env bun
/**
 * `image load` of a generated ISO and QCOW2 of ≥ 2 GB (an incompressible filler file next to the
 * fixture rootfs and its rpm database), as a ratio to the physical floor measured in the same
 * run: reading the same file once with `md5sum`, `sha256sum` and `gost12sum` in parallel. Plus
 * peak RSS (GNU time). Both sides read a warm page cache (the file was just written).
 *
 *   bun bench/image.ts [--gb 2] [--open-with auto|userspace|fuse] [--bin dist/altrepodb]
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildImageFixtures } from "../tests/fixtures/image";
import { makeSnapshot } from "../tests/fixtures/snapshot";
import { runSync } from "../tests/fixtures/_util";
import { ROOT, freshWorkDir, altrepodbCommand } from "./_util.ts";

const { values } = parseArgs({ options: { gb: { type: "string", default: "2" }, "open-with": { type: "string", default: "auto" }, bin: { type: "string" } } });
const bytes = Math.round(Number(values.gb) * 1024 ** 3);
const root = ROOT;
const work = freshWorkDir("bench-image");
const bin = altrepodbCommand(values.bin);
const sbin = (t: string) => Bun.which(t) ?? `/usr/sbin/${t}`;

interface Timed {
  seconds: number;
  maxRssMb: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

async function timed(argvs: string[][]): Promise<Timed> {
  const t0 = performance.now();
  const procs = argvs.map((argv) => Bun.spawn(["/usr/bin/time", "-f", "@@rss %M", ...argv], { stdout: "pipe", stderr: "pipe" }));
  const outs = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text(), err: await new Response(p.stderr).text() })));
  const seconds = (performance.now() - t0) / 1000;
  const rss = Math.max(...outs.map((o) => Number(/@@rss (\d+)/.exec(o.err)?.[1] ?? NaN) / 1024));
  const bad = outs.find((o) => o.code !== 0);
  return { seconds, maxRssMb: rss, code: bad ? bad.code : 0, stdout: outs.map((o) => o.out).join(""), stderr: outs.map((o) => o.err).join("") };
}

console.log(`building ${values.gb} GB images in ${work} …`);
const f = await buildImageFixtures();
const filler = join(work, "filler.bin");
runSync(["dd", "if=/dev/urandom", `of=${filler}`, "bs=4M", `count=${Math.ceil(bytes / (4 << 20))}`, "status=none"]);
const rootfs = join(work, "rootfs");
runSync(["cp", "-a", f.rootfs, rootfs]);
runSync(["ln", filler, join(rootfs, "usr/share/filler.bin")]);

// ISO: a live layer (squashfs, data uncompressed) holding the rootfs and the filler
const stage = join(work, "iso");
mkdirSync(stage);
writeFileSync(join(work, "x"), "");
runSync(["mksquashfs", rootfs, join(stage, "live"), "-noappend", "-all-root", "-quiet", "-no-progress", "-noD"]);
const iso = join(work, "big.iso");
runSync(["genisoimage", "-quiet", "-R", "-J", "-allow-limited-size", "-o", iso, stage]);
rmSync(stage, { recursive: true, force: true });

// QCOW2: an MBR disk whose partition at 1 MiB is an ext4 made from the rootfs
const raw = join(work, "big.img");
const fsBytes = bytes + 256 * 1024 * 1024;
runSync(["truncate", "-s", String(fsBytes + 2 * 1024 * 1024), raw]);
runSync([sbin("sfdisk"), "-q", raw], { stdin: new TextEncoder().encode(`label: dos\nstart=2048, size=${fsBytes / 512}, type=83\n`) });
runSync([sbin("mkfs.ext4"), "-q", "-F", "-E", "offset=1048576", "-d", rootfs, raw, `${fsBytes / 1024}k`]);
const qcow = join(work, "big.qcow2");
runSync(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow]);
rmSync(raw);
rmSync(filler);
rmSync(rootfs, { recursive: true, force: true });

const cfg = join(work, "altrepodb.toml");
writeFileSync(cfg, `[database.embedded]\npath = "${join(work, "db")}"\n[log]\nlevel = "warn"\n`);
if ((await timed([[...bin, "-c", cfg, "db", "init"]])).code !== 0) throw new Error("db init failed");
const snap = makeSnapshot(join(work, "snapshot"), { packages: f.packages });
const base = await timed([[...bin, "-c", cfg, "repo", "load", "p10", snap.root, "--date", "2026-11-01"]]);
if (base.code !== 0) throw new Error(`repo load failed: ${base.stderr}`);

const flags = ["--branch", "p10", "--edition", "alt-workstation", "--version", "10.0", "--release", "release", "--variant", "live", "--flavor", "", "--platform", "", "--arch", "x86_64", "--date", "2026-11-20", "--url", "http://ftp.altlinux.org/bench"];
console.log(`| image | size | floor: md5sum+sha256sum+gost12sum in parallel | image load (--open-with ${values["open-with"]}) | ratio | peak RSS |`);
console.log("|---|---|---|---|---|---|");
for (const [name, file] of [
  ["ISO", iso],
  ["QCOW2", qcow],
] as const) {
  const size = Bun.file(file).size;
  const floor = await timed([["md5sum", file], ["sha256sum", file], ["gost12sum", file]]);
  const load = await timed([[...bin, "-c", cfg, "image", "load", file, ...flags, "--open-with", values["open-with"]!, "--json"]]);
  const gb = (size / 1024 ** 3).toFixed(2);
  if (load.code !== 0) {
    console.log(`| ${name} | ${gb} GB | ${floor.seconds.toFixed(1)} s | not measured: ${load.stderr.trim().split("\n").filter((l) => !l.startsWith("@@rss") && !l.startsWith("Command exited")).pop()} | | |`);
    continue;
  }
  const opened = JSON.parse(load.stdout).opened_with;
  console.log(`| ${name} | ${gb} GB | ${floor.seconds.toFixed(1)} s | ${load.seconds.toFixed(1)} s (${opened}) | ${(load.seconds / floor.seconds).toFixed(2)}× | ${load.maxRssMb.toFixed(0)} MB |`);
}
rmSync(work, { recursive: true, force: true });
