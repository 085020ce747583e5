/**
 * Shared pieces of the iso9660 and squashfs reader tests: a source directory with the shapes the
 * readers must handle (deep dirs, long names, symlinks, empty / small / multi-block files, modes),
 * a walk of a FileTree and of a host directory into comparable rows, and a byte comparison.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, lutimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isImageError } from "../../src/image/errors.ts";
import type { FileTree } from "../../src/image/tree.ts";
import { FIXED_EPOCH } from "../fixtures/_util.ts";

/** Deterministic pseudo-random bytes (xorshift), half of them text-like so they compress. */
export function bytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i & 4096 ? 0x61 + ((x >>> 0) % 26) : x & 0xff;
  }
  return out;
}

export const LONG_NAME = "a-rather-long-file-name-" + "x".repeat(70) + ".txt";

/** Populate `dir` with the common shapes; returns it. */
export function makeSourceTree(dir: string, opts: { deep?: number; longNames?: boolean } = {}): string {
  const w = (p: string, data: Uint8Array | string, mode = 0o644) => {
    writeFileSync(join(dir, p), data);
    chmodSync(join(dir, p), mode);
  };
  mkdirSync(join(dir, "etc"), { recursive: true });
  w("etc/os-release", 'NAME="ALT"\nVERSION_ID=p10\n');
  w("empty", "");
  w("one", "1");
  w("exec.sh", "#!/bin/sh\necho hi\n", 0o755);
  w("secret", "s", 0o600);
  mkdirSync(join(dir, "data"));
  w("data/small.bin", bytes(5000, 1));
  w("data/blocks.bin", bytes(300 * 1024 + 17, 2));
  w("data/exact.bin", bytes(128 * 1024, 3));
  let deep = "d";
  const levels = opts.deep ?? 10;
  for (let i = 1; i < levels; i++) deep += `/l${i}`;
  mkdirSync(join(dir, deep), { recursive: true });
  w(`${deep}/bottom.txt`, "deep\n");
  if (opts.longNames !== false) w(LONG_NAME, "long\n");
  w("MixedCase.Name.tar.gz", "m");
  w("Пакеты-ALT.txt", "utf-8 name\n");
  symlinkSync("data/small.bin", join(dir, "rel-link"));
  symlinkSync("/etc/os-release", join(dir, "abs-link"));
  symlinkSync("data", join(dir, "dir-link"));
  symlinkSync("../" + "x".repeat(150), join(dir, "long-target"));
  symlinkSync("missing", join(dir, "dangling"));
  for (const p of walkHostPaths(dir)) lutimesSync(join(dir, p), FIXED_EPOCH, FIXED_EPOCH);
  return dir;
}

function walkHostPaths(root: string, rel = ""): string[] {
  const out: string[] = [];
  for (const n of readdirSync(join(root, rel))) {
    const p = rel ? `${rel}/${n}` : n;
    out.push(p);
    if (lstatSync(join(root, p)).isDirectory()) out.push(...walkHostPaths(root, p));
  }
  return out;
}

export interface Row {
  path: string;
  type: string;
  size: number;
  mode?: number;
  mtime?: number;
  target?: string;
}

/** Every entry of a host directory, sorted by path. */
export function hostRows(root: string, withMeta = true): Row[] {
  return walkHostPaths(root)
    .map((p) => {
      const st = lstatSync(join(root, p));
      const type = st.isDirectory() ? "dir" : st.isFile() ? "file" : st.isSymbolicLink() ? "symlink" : "other";
      const r: Row = { path: "/" + p, type, size: type === "file" ? st.size : 0 };
      if (withMeta) {
        r.mode = st.mode;
        r.mtime = Math.floor(st.mtimeMs / 1000);
      }
      if (type === "symlink") r.target = readlinkSync(join(root, p));
      return r;
    })
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Every entry of a tree below `dir`, sorted by path (dirs recursed, symlinks not followed). */
export function treeRows(tree: FileTree, withMeta = true, dir = "/", skip: (p: string) => boolean = () => false): Row[] {
  const out: Row[] = [];
  const walk = (d: string) => {
    for (const e of tree.list(d)) {
      if (skip(e.path)) continue;
      const r: Row = { path: e.path, type: e.type, size: e.size };
      if (withMeta) {
        r.mode = e.mode;
        r.mtime = e.mtime;
      }
      if (e.type === "symlink") r.target = e.target;
      out.push(r);
      if (e.type === "dir") walk(e.path);
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Paths of regular files whose bytes read through the tree differ from the host copy. */
export function differingFiles(tree: FileTree, root: string, rows: Row[]): string[] {
  const bad: string[] = [];
  for (const r of rows) {
    if (r.type !== "file") continue;
    const want = readFileSync(join(root, r.path));
    const f = tree.open(r.path);
    try {
      const got = new Uint8Array(f.size);
      // read in odd-sized pieces to cross block boundaries
      for (let pos = 0; pos < got.length; ) {
        const n = f.readAt(got.subarray(pos, Math.min(got.length, pos + 70001)), pos);
        if (n <= 0) break;
        pos += n;
      }
      if (f.size !== want.length || !Buffer.from(got).equals(want)) bad.push(r.path);
    } finally {
      f.close();
    }
  }
  return bad;
}

/** "code: message" of the ImageError `fn` throws, "no error" when it throws none (other errors pass through). */
export function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isImageError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}
