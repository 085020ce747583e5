/**
 * The on-disk shape of an ALT repository snapshot (reference §2.2): which arch directories,
 * components and lists it has. Only reads directory entries and small text files.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../errors";

/** Architecture directory names, in the reference's order (altrepodb settings.ARCHS). */
export const ARCHS = ["src", "aarch64", "armh", "i586", "ppc64le", "x86_64", "x86_64-i586", "noarch", "mipsel", "riscv64", "e2k", "e2kv4", "e2kv5", "e2kv6"];

export interface ArchDir {
  name: string;
  /** Components from base/release, in file order; empty when there is no base/. */
  components: string[];
  /** base/srclist.classic.xz when present. */
  srclist?: string;
  /** component → base/pkglist.<comp>.xz when present. */
  pkglists: Map<string, string>;
  blake2b: boolean;
}

export interface Snapshot {
  root: string;
  archs: ArchDir[];
  /** files/list/task.info pairs, in file order. */
  taskInfo: [string, string][];
  /** files/list/<arch>.hash.xz that exist, by arch name ("src" for sources). */
  hashLists: Map<string, string>;
  /** True when some release file has a BLAKE2b section. */
  useBlake2b: boolean;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function readText(p: string): string {
  try {
    return readFileSync(p, "utf8");
  } catch (e) {
    throw new InputError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, p);
  }
}

/** Components: the first "Components:" line; BLAKE2b: a "BLAKE2b:" line. */
export function parseRelease(text: string): { components: string[]; blake2b: boolean } {
  let components: string[] | undefined;
  let blake2b = false;
  for (const line of text.split("\n")) {
    const [key, value = ""] = line.split(":", 2);
    if (key === "Components" && !components) components = value.trim().split(/\s+/).filter(Boolean);
    if (key === "BLAKE2b") blake2b = true;
  }
  return { components: components ?? [], blake2b };
}

export function parseTaskInfo(text: string, path: string): [string, string][] {
  const out: [string, string][] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const parts = line.trim().split(/\s+/);
    if (parts.length !== 2) throw new InputError(`line ${i + 1}: expected "KEY VALUE", got ${JSON.stringify(line)}`, path);
    out.push([parts[0], parts[1]]);
  });
  return out;
}

export function readSnapshot(root: string): Snapshot {
  if (!isDir(root)) throw new InputError("not a directory", root);
  if (!isDir(join(root, "files", "list"))) {
    throw new InputError("not a repository snapshot root: files/list/ is missing (expected files/, <arch>/base/, <arch>/RPMS.<component>/)", root);
  }
  const present = new Set(readdirSync(root).filter((n) => isDir(join(root, n))));
  const archs: ArchDir[] = [];
  let useBlake2b = false;
  for (const name of ARCHS) {
    if (!present.has(name)) continue;
    const base = join(root, name, "base");
    const arch: ArchDir = { name, components: [], pkglists: new Map(), blake2b: false };
    if (isDir(base)) {
      const releasePath = join(base, "release");
      if (!isFile(releasePath)) throw new InputError(`${name}/base/ exists but has no release file`, releasePath);
      const rel = parseRelease(readText(releasePath));
      arch.components = rel.components;
      arch.blake2b = rel.blake2b;
      useBlake2b ||= rel.blake2b;
      if (isFile(join(base, "srclist.classic.xz"))) arch.srclist = join(base, "srclist.classic.xz");
      for (const c of rel.components) if (isFile(join(base, `pkglist.${c}.xz`))) arch.pkglists.set(c, join(base, `pkglist.${c}.xz`));
    } else {
      // no lists: the components are the RPMS.<comp> directories
      arch.components = readdirSync(join(root, name))
        .filter((n) => n.startsWith("RPMS.") && isDir(join(root, name, n)))
        .map((n) => n.slice(5))
        .sort();
    }
    archs.push(arch);
  }
  if (archs.length === 0) throw new InputError(`not a repository snapshot root: no architecture directory (one of ${ARCHS.join(", ")})`, root);
  const taskInfoPath = join(root, "files", "list", "task.info");
  const taskInfo = isFile(taskInfoPath) ? parseTaskInfo(readText(taskInfoPath), taskInfoPath) : [];
  const hashLists = new Map<string, string>();
  for (const a of ARCHS) {
    const p = join(root, "files", "list", `${a}.hash.xz`);
    if (isFile(p)) hashLists.set(a, p);
  }
  return { root, archs, taskInfo, hashLists, useBlake2b };
}

export { isDir, isFile };
