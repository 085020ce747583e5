/**
 * A directory of the host (an unpacked tree, or a FUSE mount point) as a FileTree confined to its
 * root: every path is resolved component by component, symlinks expanded by hand, absolute targets
 * against the root and ".." stopping at it, so nothing outside the root is ever opened.
 */
import { closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from "node:fs";
import { join } from "node:path";
import { ImageError } from "./errors.ts";
import { resolveNames } from "./tree-paths.ts";
import type { EntryType, FileTree, TreeEntry, TreeFile } from "./tree.ts";

export function entryType(st: Stats): EntryType {
  return st.isFile() ? "file" : st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : "other";
}

export class DirTree implements FileTree {
  constructor(
    readonly root: string,
    readonly name: string = `directory ${root}`,
    private readonly onClose?: () => Promise<void>,
  ) {}

  /** The components of `path` inside the root after expanding symlinks; null when a component is missing. */
  resolve(path: string, followLast: boolean): string[] | null {
    return resolveNames(path, followLast, `${this.name}: ${path}`, (dir, name) => {
      const host = join(this.root, ...dir, name);
      let st: Stats | undefined;
      try {
        st = lstatSync(host, { throwIfNoEntry: false });
      } catch (e) {
        throw new ImageError("io", `cannot stat: ${(e as Error).message}`, `${this.name}: /${[...dir, name].join("/")}`);
      }
      if (!st) return null;
      return { dir: st.isDirectory(), link: st.isSymbolicLink() ? () => readlinkSync(host) : undefined };
    });
  }

  /** The host path of a tree path (symlinks resolved inside the root), or null. */
  hostPath(path: string, followLast = true): string | null {
    const r = this.resolve(path, followLast);
    return r ? join(this.root, ...r) : null;
  }

  stat(path: string): TreeEntry | null {
    const r = this.resolve(path, false);
    if (!r) return null;
    const st = lstatSync(join(this.root, ...r));
    return this.entry(`/${r.join("/")}`, st, join(this.root, ...r));
  }

  private entry(path: string, st: Stats, host: string): TreeEntry {
    const type = entryType(st);
    const e: TreeEntry = { path, type, size: type === "file" ? st.size : 0, mode: st.mode, mtime: Math.floor(st.mtimeMs / 1000) };
    if (type === "symlink") e.target = readlinkSync(host);
    return e;
  }

  list(dir: string): TreeEntry[] {
    const r = this.resolve(dir, true);
    if (!r) throw new ImageError("missing", "no such directory", `${this.name}: ${dir}`);
    const host = join(this.root, ...r);
    const base = r.length ? `/${r.join("/")}` : "";
    return readdirSync(host).map((n) => this.entry(`${base}/${n}`, lstatSync(join(host, n)), join(host, n)));
  }

  open(path: string): TreeFile {
    const r = this.resolve(path, true);
    const where = `${this.name}: ${path}`;
    if (!r) throw new ImageError("missing", "no such file", where);
    const host = join(this.root, ...r);
    let fd: number;
    try {
      fd = openSync(host, "r");
    } catch (e) {
      throw new ImageError("io", `cannot open: ${(e as Error).message}`, where);
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      throw new ImageError("format", `not a regular file (${entryType(st)})`, where);
    }
    return fdFile(fd, st.size, where);
  }

  async close(): Promise<void> {
    await this.onClose?.();
  }
}

/** A TreeFile over an open file descriptor (closed by close()). */
export function fdFile(fd: number, size: number, path: string): TreeFile {
  let open = true;
  return {
    path,
    size,
    readAt(dst: Uint8Array, pos: number): number {
      let done = 0;
      while (done < dst.length && pos + done < size) {
        let n: number;
        try {
          n = readSync(fd, dst, done, Math.min(dst.length - done, size - pos - done), pos + done);
        } catch (e) {
          throw new ImageError("io", `cannot read at byte ${pos + done}: ${(e as Error).message}`, path);
        }
        if (n === 0) break;
        done += n;
      }
      return done;
    },
    close() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
