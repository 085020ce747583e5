#!/usr/bin/env bun
/**
 * The userspace image readers (src/image/squashfs.ts, src/image/iso9660.ts) reading every file
 * of a generated tree — MD5 of each, as the image loader does for a layer's orphaned files —
 * against the system tools on the same image in the same run: `unsquashfs -d` (extraction to a
 * scratch dir), `bsdtar -x` for the ISO, and `cat image > /dev/null` (one sequential read, the
 * floor). Squashfs with xz (-Xbcj x86, as ALT's live images) and gzip; an ISO with Rock Ridge.
 *
 *   bun bench/image-readers.ts [--mb 200] [--runs 1]
 *
 * Each reading runs in its own process under GNU time: wall seconds, CPU seconds (user + system,
 * which a loaded machine does not inflate) and peak RSS. Ratios are ours / tool.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openIso9660 } from "../src/image/iso9660.ts";
import { openSquashfs } from "../src/image/squashfs.ts";
import type { FileTree } from "../src/image/tree.ts";
import { FileSource } from "../src/rpmdb/source.ts";
import { freshWorkDir } from "./_util.ts";

const { values } = parseArgs({
  options: {
    mb: { type: "string", default: "200" },
    runs: { type: "string", default: "1" },
    read: { type: "string" },
    kind: { type: "string" },
    "no-md5": { type: "boolean", default: false },
  },
});

/** Child mode: read every file of one image, print files, bytes and an MD5 of all MD5s. */
if (values.read) {
  const src = new FileSource(values.read);
  const tree: FileTree = values.kind === "iso" ? openIso9660(src) : openSquashfs(src);
  const buf = new Uint8Array(1 << 20);
  let files = 0;
  let bytes = 0;
  const all = createHash("md5");
  const walk = (dir: string) => {
    for (const e of tree.list(dir)) {
      if (e.type === "dir") walk(e.path);
      else if (e.type === "file") {
        const f = tree.open(e.path);
        const h = createHash("md5");
        for (let pos = 0; pos < f.size; ) {
          const n = f.readAt(buf, pos);
          if (n <= 0) break;
          if (!values["no-md5"]) h.update(buf.subarray(0, n));
          pos += n;
        }
        f.close();
        all.update(h.digest());
        files++;
        bytes += f.size;
      }
    }
  };
  walk("/");
  console.log(JSON.stringify({ files, bytes, md5: all.digest("hex") }));
  process.exit(0);
}

const work = freshWorkDir("bench-image-readers");

/** A tree of about `mb` MiB: small text files, mid-size mixed files, a few big ones, real ELF binaries. */
function generate(dir: string, mb: number): void {
  let left = mb * 1024 * 1024;
  let seed = 12345;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const words = "package version release arch noarch x86_64 libfoo libbar usr share doc lib64 python3 perl ruby".split(" ");
  const content = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    let i = 0;
    while (i < n) {
      if (rnd() % 16 === 0) {
        const k = Math.min(n - i, 64 + (rnd() % 512));
        for (let j = 0; j < k; j++) out[i + j] = rnd() & 0xff;
        i += k;
      } else {
        const w = words[rnd() % words.length] + (rnd() % 3 === 0 ? "\n" : " ");
        for (let j = 0; j < w.length && i < n; j++) out[i++] = w.charCodeAt(j);
      }
    }
    return out;
  };
  const elves = ["/usr/bin/xz", "/usr/bin/bash", "/usr/bin/tar", "/usr/bin/python3"].filter(existsSync).map((p) => readFileSync(p));
  let d = 0;
  let i = 0;
  while (left > 0) {
    if (i % 200 === 0) mkdirSync(join(dir, `d${++d}`), { recursive: true });
    const pick = rnd() % 100;
    let data: Uint8Array;
    if (pick < 3 && elves.length) data = elves[rnd() % elves.length];
    else if (pick < 5) data = content(2 * 1024 * 1024 + (rnd() % (8 * 1024 * 1024)));
    else if (pick < 30) data = content(64 * 1024 + (rnd() % (512 * 1024)));
    else data = content(rnd() % (16 * 1024));
    writeFileSync(join(dir, `d${d}`, `f${i++}`), data);
    left -= data.length;
  }
}

interface Timed {
  seconds: number;
  cpu: number;
  rssMb: number;
  out: string;
}

function timed(argv: string[], runs = Number(values.runs)): Timed {
  let best: Timed | undefined;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const p = Bun.spawnSync(["/usr/bin/time", "-f", "@@rss %M %U %S", ...argv], { stdout: "pipe", stderr: "pipe" });
    const seconds = (performance.now() - t0) / 1000;
    const err = p.stderr.toString();
    if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed:\n${err.slice(-2000)}`);
    const m = /@@rss (\d+) ([\d.]+) ([\d.]+)/.exec(err)!;
    const t = { seconds, cpu: Number(m[2]) + Number(m[3]), rssMb: Number(m[1]) / 1024, out: p.stdout.toString() };
    if (!best || t.seconds < best.seconds) best = t;
  }
  return best!;
}

const sh = (script: string, ...args: string[]) => ["sh", "-c", script, "sh", ...args];
const fmt = (t: Timed) => `${t.seconds.toFixed(2)} s wall, ${t.cpu.toFixed(2)} s CPU, ${t.rssMb.toFixed(0)} MB RSS`;

const src = join(work, "src");
mkdirSync(src);
console.log(`generating ~${values.mb} MiB …`);
generate(src, Number(values.mb));
const images = [
  { name: "squashfs xz -Xbcj x86", kind: "squashfs", file: join(work, "xz.sqfs"), make: ["mksquashfs", src, join(work, "xz.sqfs"), "-comp", "xz", "-Xbcj", "x86", "-noappend", "-quiet", "-no-progress"] },
  { name: "squashfs gzip", kind: "squashfs", file: join(work, "gzip.sqfs"), make: ["mksquashfs", src, join(work, "gzip.sqfs"), "-comp", "gzip", "-noappend", "-quiet", "-no-progress"] },
  { name: "iso9660 Rock Ridge", kind: "iso", file: join(work, "rr.iso"), make: ["genisoimage", "-quiet", "-R", "-o", join(work, "rr.iso"), src] },
];
const me = [process.execPath, import.meta.path];
console.log(`| image | size | ours: read + MD5 of every file | ours: read only | tool | ours (read only) / tool | cat | ours / cat |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const img of images) {
  Bun.spawnSync(img.make, { stdout: "ignore", stderr: "inherit" });
  const size = Bun.file(img.file).size;
  const ours = timed([...me, "--read", img.file, "--kind", img.kind]);
  const bare = timed([...me, "--read", img.file, "--kind", img.kind, "--no-md5"]);
  const out = join(work, "extract");
  rmSync(out, { recursive: true, force: true });
  const tool =
    img.kind === "iso"
      ? timed(sh('mkdir -p "$2" && bsdtar -xf "$1" -C "$2"', img.file, out))
      : timed(sh('rm -rf "$2" && unsquashfs -no-progress -q -d "$2" "$1" >/dev/null', img.file, out));
  rmSync(out, { recursive: true, force: true });
  const cat = timed(sh('cat "$1" > /dev/null', img.file));
  const info = JSON.parse(ours.out) as { files: number; bytes: number };
  console.log(
    `| ${img.name} (${info.files} files, ${(info.bytes / 1048576).toFixed(0)} MiB) | ${(size / 1048576).toFixed(0)} MiB | ${fmt(ours)} | ${fmt(bare)} | ${img.kind === "iso" ? "bsdtar -x" : "unsquashfs -d"}: ${fmt(tool)} | ${(bare.seconds / tool.seconds).toFixed(2)}× wall, ${(bare.cpu / tool.cpu).toFixed(2)}× CPU | ${cat.seconds.toFixed(2)} s | ${(ours.seconds / cat.seconds).toFixed(1)}× |`,
  );
}
rmSync(work, { recursive: true, force: true });
