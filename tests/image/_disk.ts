/**
 * Disk fixtures for the partition, ext4, QCOW2 and xz-file tests and the bench, made at test
 * time with the real tools: a source directory (files of many sizes, a sparse file, symlinks fast
 * and slow, a big directory that mkfs turns into an htree), `mkfs.ext4 -d` on a plain file (no loop
 * mount, no root), `sfdisk` on a plain file for the partition table, the filesystem copied into
 * its partition by positioned writes.
 */
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { expect } from "bun:test";
import { ImageError } from "../../src/image/errors.ts";
import { runSync, scratchDir } from "../fixtures/_util.ts";

export { runSync, scratchDir };

export const MKFS = Bun.which("mkfs.ext4") ?? (Bun.which("/usr/sbin/mkfs.ext4") ? "/usr/sbin/mkfs.ext4" : null);
export const SFDISK = Bun.which("sfdisk") ?? (Bun.which("/usr/sbin/sfdisk") ? "/usr/sbin/sfdisk" : null);
export const QEMU_IMG = Bun.which("qemu-img");
export const DEBUGFS = Bun.which("debugfs") ?? (Bun.which("/usr/sbin/debugfs") ? "/usr/sbin/debugfs" : null);

/** Deterministic pseudo-random bytes (xorshift), so content differs from file to file. */
export function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** A source tree exercising every structure the reader supports. */
export function makeSourceTree(dir: string, opts: { big?: boolean } = {}): string {
  mkdirSync(join(dir, "etc"), { recursive: true });
  mkdirSync(join(dir, "var/lib/rpm"), { recursive: true });
  mkdirSync(join(dir, "usr/share/many"), { recursive: true });
  mkdirSync(join(dir, "empty"), { recursive: true });
  writeFileSync(join(dir, "etc/os-release"), 'NAME="ALT"\nVERSION_ID=p10\n');
  writeFileSync(join(dir, "etc/empty"), "");
  writeFileSync(join(dir, "tiny"), "x");
  writeFileSync(join(dir, "var/lib/rpm/Packages"), bytes(300_000, 1));
  writeFileSync(join(dir, "five-thousand"), bytes(5000, 2));
  if (opts.big !== false) writeFileSync(join(dir, "usr/big.bin"), bytes(3 * 1024 * 1024 + 17, 3));
  // a sparse file: data, a 2 MiB hole, data, a hole at the end
  const fd = openSync(join(dir, "sparse"), "w");
  writeSync(fd, bytes(10_000, 4), 0, 10_000, 0);
  writeSync(fd, bytes(5000, 5), 0, 5000, 10_000 + 2 * 1024 * 1024);
  closeSync(fd);
  runSync(["truncate", "-s", String(4 * 1024 * 1024), join(dir, "sparse")]);
  // 400 pieces of 4 KiB with 4 KiB holes between: 400 extents, an extent tree of depth 1 (4 KiB
  // blocks) or 2 (1 KiB blocks), and double indirect blocks in a block map
  const hfd = openSync(join(dir, "holes"), "w");
  for (let i = 0; i < 400; i++) writeSync(hfd, bytes(4096, 100 + i), 0, 4096, i * 8192);
  closeSync(hfd);
  for (let i = 0; i < 400; i++) writeFileSync(join(dir, "usr/share/many", `file-with-a-longish-name-${i}.txt`), `file ${i}\n`);
  symlinkSync("os-release", join(dir, "etc/fast-link"));
  symlinkSync("/" + "long-directory-name/".repeat(5) + "target-of-a-slow-symlink", join(dir, "slow-link"));
  symlinkSync("/etc/os-release", join(dir, "abs-link"));
  symlinkSync("../var/lib/rpm", join(dir, "etc/rpmdir"));
  symlinkSync("../../../../etc", join(dir, "usr/share/escape"));
  symlinkSync("loop-b", join(dir, "loop-a"));
  symlinkSync("loop-a", join(dir, "loop-b"));
  runSync(["mkfifo", join(dir, "fifo")]);
  return dir;
}

export interface SrcEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  mode: number;
  target?: string;
}

/** Every entry of a host directory as the tree interface would show it. */
export function walkHost(root: string, rel = ""): SrcEntry[] {
  const out: SrcEntry[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const p = `${rel}/${name}`;
    const st = lstatSync(join(root, p));
    const type = st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
    const e: SrcEntry = { path: p, type, size: type === "file" ? st.size : 0, mode: st.mode };
    if (type === "symlink") e.target = readlinkSync(join(root, p));
    out.push(e);
    if (type === "dir") out.push(...walkHost(root, p));
  }
  return out;
}

export function hostFile(root: string, p: string): Uint8Array {
  return new Uint8Array(readFileSync(join(root, p)));
}

/** `mkfs.ext4 -d dir` on a plain file of `sizeMiB`, with extra mkfs options (e.g. ["-t", "ext2"]). */
export function mkfs(image: string, dir: string, sizeMiB: number, extra: string[] = []): string {
  runSync(["truncate", "-s", `${sizeMiB}M`, image]);
  runSync([MKFS!, "-q", "-F", "-E", "root_owner=0:0", ...extra, "-d", dir, image]);
  return image;
}

/** Copy `src` into `dst` at byte `at` with positioned writes (1 MiB at a time). */
export function copyInto(dst: string, at: number, src: string): void {
  const data = readFileSync(src);
  const fd = openSync(dst, "r+");
  try {
    for (let off = 0; off < data.length; off += 1 << 20) {
      const n = Math.min(1 << 20, data.length - off);
      writeSync(fd, data, off, n, at + off);
    }
  } finally {
    closeSync(fd);
  }
}

/** A raw disk of `sizeMiB` with the sfdisk `script` applied; returns sfdisk's own JSON view. */
export function partitionDisk(disk: string, sizeMiB: number, script: string): { node: string; start: number; size: number; type: string; name?: string }[] {
  runSync(["truncate", "-s", `${sizeMiB}M`, disk]);
  runSync([SFDISK!, "-q", "--no-reread", "--no-tell-kernel", disk], { stdin: new TextEncoder().encode(script) });
  const j = JSON.parse(new TextDecoder().decode(runSync([SFDISK!, "--json", disk]).stdout));
  return j.partitiontable.partitions;
}

/** A ByteSource over bytes in memory (mutation tests change them in place). */
export class MemSource {
  constructor(
    readonly data: Uint8Array,
    readonly path: string,
  ) {}
  get size(): number {
    return this.data.length;
  }
  readAt(dst: Uint8Array, pos: number): number {
    if (pos >= this.data.length) return 0;
    const n = Math.min(dst.length, this.data.length - pos);
    dst.set(this.data.subarray(pos, pos + n));
    return n;
  }
}

/** A small deterministic PRNG for mutation tests. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/** The ImageError `fn` throws (any other error fails the test). */
export function failure(fn: () => unknown): ImageError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ImageError);
    return e as ImageError;
  }
  throw new Error("no error");
}
