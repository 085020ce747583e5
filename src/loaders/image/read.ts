/**
 * What the loader reads from an opened image: the installed packages of an rpm database inside a
 * tree (exactly the records librpm's `rpm -qa` lists, read by src/rpmdb), os-release of the image
 * itself (never the host's), and, for an ISO, `.disk/` and the RPMs of its `ALTLinux/RPMS.*`
 * directories.
 */
import { readTreeFile, type FileTree } from "../../image/tree";
import { ImageError } from "../../image/errors";
import { rpmdbFileIn } from "../../image/open";
import { openRpmdbSource } from "../../rpmdb";
import { isRpmError, parsePackageBytes, buildPackageFromFile, pkgArch, pkgHash, text, type RpmPackage } from "../../rpm";
import type { FailedItem } from "../context";

export interface ImagePackage {
  hash: bigint;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  disttag: string;
  isSource: boolean;
  buildtime: number;
}

export function imagePackage(p: RpmPackage): ImagePackage {
  return {
    hash: pkgHash(p),
    name: text(p.name),
    epoch: p.epoch ?? 0,
    version: text(p.version),
    release: text(p.release),
    arch: text(pkgArch(p)),
    disttag: text(p.disttag),
    isSource: p.isSource,
    buildtime: p.buildtime ?? 0,
  };
}

export const nevra = (p: ImagePackage) => `${p.name}-${p.epoch ? `${p.epoch}:` : ""}${p.version}-${p.release}.${p.arch}`;

export interface InstalledPackages {
  /** The database file inside the image. */
  db: string;
  format: string;
  packages: ImagePackage[];
}

/** The packages of the tree's rpm database, or null when it has none; a bad record is a failure, the rest is read. */
export async function installedPackages(tree: FileTree, failures: FailedItem[]): Promise<InstalledPackages | null> {
  const dbFile = rpmdbFileIn(tree);
  if (!dbFile) return null;
  const f = tree.open(dbFile);
  try {
    const db = openRpmdbSource(f);
    const packages: ImagePackage[] = [];
    try {
      for await (const r of db.records()) {
        if (r.error || !r.package) {
          failures.push({ path: `${tree.name}: ${dbFile}: ${r.where}`, error: r.error?.message ?? "not a package" });
          continue;
        }
        try {
          packages.push(imagePackage(r.package));
        } catch (e) {
          if (!isRpmError(e)) throw e;
          failures.push({ path: `${tree.name}: ${dbFile}: ${r.where}`, error: e.message });
        }
      }
    } finally {
      db.close();
    }
    return { db: dbFile, format: db.format, packages };
  } finally {
    f.close();
  }
}

/** os-release of the image (etc/, then usr/lib/; symlinks resolved inside the image), or "". */
export function osRelease(tree: FileTree): string {
  for (const p of ["/etc/os-release", "/usr/lib/os-release"]) {
    try {
      if (!tree.stat(p)) continue;
      return new TextDecoder().decode(readTreeFile(tree, p, 1024 * 1024));
    } catch (e) {
      if (e instanceof ImageError && e.code === "missing") continue;
      throw e;
    }
  }
  return "";
}

/** `.disk/{arch,date,info,commit}` of an ISO (each "" when absent; no .disk at all is fine). */
export function diskInfo(tree: FileTree): { arch: string; date: string; info: string; commit: string } {
  const out = { arch: "", date: "", info: "", commit: "" };
  for (const k of Object.keys(out) as (keyof typeof out)[]) {
    const e = tree.stat(`/.disk/${k}`);
    if (!e || e.type === "dir") continue;
    try {
      out[k] = new TextDecoder().decode(readTreeFile(tree, `/.disk/${k}`, 1024 * 1024)).replace(/\n+$/, "");
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
    }
  }
  return out;
}

/** The header of an .rpm inside a tree (only the bytes up to the end of its main header are read). */
function readRpmHeader(tree: FileTree, path: string): RpmPackage {
  const f = tree.open(path);
  try {
    for (const want of [256 * 1024, 64 * 1024 * 1024]) {
      const buf = new Uint8Array(Math.min(f.size, want));
      const n = f.readAt(buf, 0);
      try {
        return buildPackageFromFile(parsePackageBytes(buf.subarray(0, n), `${tree.name}: ${path}`));
      } catch (e) {
        if (!(isRpmError(e) && e.code === "truncated" && n === want)) throw e;
      }
    }
    throw new ImageError("limit", "its headers are larger than 64 MiB", `${tree.name}: ${path}`);
  } finally {
    f.close();
  }
}

/** RPMs of every `ALTLinux/RPMS.*` directory of an ISO (the reference read RPMS.main only). */
export function mediumPackages(tree: FileTree, failures: FailedItem[]): { dirs: string[]; packages: ImagePackage[] } {
  const top = tree.stat("/ALTLinux");
  if (!top || top.type !== "dir") return { dirs: [], packages: [] };
  const dirs = tree
    .list("/ALTLinux")
    .filter((e) => e.type === "dir" && /^RPMS\.[^/]+$/.test(e.path.split("/").pop()!))
    .map((e) => e.path)
    .sort();
  const packages: ImagePackage[] = [];
  for (const d of dirs) {
    for (const e of tree.list(d)) {
      if (e.type !== "file" || !e.path.endsWith(".rpm")) continue;
      try {
        packages.push(imagePackage(readRpmHeader(tree, e.path)));
      } catch (err) {
        if (!isRpmError(err) && !(err instanceof ImageError)) throw err;
        failures.push({ path: `${tree.name}: ${e.path}`, error: (err as Error).message });
      }
    }
  }
  return { dirs, packages };
}
