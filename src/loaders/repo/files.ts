/**
 * The cheap checks every package file of a snapshot gets before anything opens it, in the real
 * run, the dry run and the copy of an unchanged snapshot alike (so all three report the same
 * problems): it exists, it is a regular file (a FIFO, socket or device is never opened: opening a
 * FIFO blocks until a writer comes), it resolves to a path inside the snapshot root (a symlink
 * leading elsewhere is refused), and its size is the one the apt lists give (a file truncated or
 * replaced after the lists were made). Only metadata is read: an lstat per file (two and a readlink for
 * a symlink), a realpath per directory.
 */
import { lstatSync, readlinkSync, realpathSync, statSync, type Stats } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { fileTypeOf } from "../../rpm";

export interface FileToCheck {
  path: string;
  /** Size the lists give, if any. */
  size?: number;
}

function errno(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

/** Checks the files; returns path → reason for each one that must not be opened. */
export function checkFiles(root: string, files: readonly FileToCheck[]): Map<string, string> {
  const problems = new Map<string, string>();
  let rootReal: string;
  try {
    rootReal = realpathSync.native(root);
  } catch (e) {
    for (const f of files) problems.set(f.path, `cannot resolve the snapshot root: ${errno(e)}`);
    return problems;
  }
  const inside = (p: string) => p === rootReal || p.startsWith(rootReal.endsWith("/") ? rootReal : `${rootReal}/`);
  const dirs = new Map<string, string | undefined>();
  const realDir = (d: string) => {
    if (!dirs.has(d)) {
      try {
        dirs.set(d, realpathSync.native(d));
      } catch {
        dirs.set(d, undefined);
      }
    }
    return dirs.get(d);
  };
  for (const f of files) {
    let st: Stats;
    let real: string | undefined;
    try {
      // a plain file is resolved through its directory (one realpath per directory); a symlink
      // to a plain file (the usual RPMS.<comp> entry) through the target's directory; a chain of
      // symlinks in full
      let l = lstatSync(f.path);
      let path = f.path;
      if (l.isSymbolicLink()) {
        path = resolve(dirname(f.path), readlinkSync(f.path));
        l = lstatSync(path);
      }
      if (l.isSymbolicLink()) {
        real = realpathSync.native(path);
        st = statSync(real);
      } else {
        const d = realDir(dirname(path));
        real = d === undefined ? realpathSync.native(path) : `${d}/${basename(path)}`;
        st = l;
      }
    } catch (e) {
      const code = errno(e);
      problems.set(f.path, code === "ENOENT" || code === "ENOTDIR" ? "listed but missing on disk (or a dangling symlink)" : `cannot stat: ${code}`);
      continue;
    }
    if (!inside(real)) problems.set(f.path, `resolves to ${real}, outside the snapshot root ${rootReal}: refused`);
    else if (!st.isFile()) problems.set(f.path, `not a regular file (${fileTypeOf(st)}): skipped without opening it`);
    else if (f.size !== undefined && st.size !== f.size) {
      problems.set(f.path, `size on disk is ${st.size} bytes, the lists say ${f.size} (truncated or replaced after the lists were made)`);
    }
  }
  return problems;
}
