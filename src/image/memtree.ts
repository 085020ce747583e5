/**
 * A FileTree built from the entries of an archive (tar, OCI layers): directories, symlinks and
 * hard links as metadata, and the contents of the few files that were kept, in memory or in a
 * private temporary file. Paths resolve inside the tree only (absolute symlink targets against its
 * root, ".." stopping at it).
 */
import { closeSync, fstatSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fdFile } from "./dir.ts";
import { resolveNames } from "./tree-paths.ts";
import { ImageError } from "./errors.ts";
import { tempDir } from "./cleanup.ts";
import type { FileTree, TreeEntry, TreeFile } from "./tree.ts";

const MAX_LINKS = 40;

interface Node {
  entry: TreeEntry;
  /** Contents kept in memory … */
  bytes?: Uint8Array;
  /** … or in a temporary file. */
  file?: string;
  /** A hard link: the path of the entry it names. */
  hardlink?: string;
  /** The layer that defined it (OCI), for opaque directories. */
  layer?: number;
}

export class MemTree implements FileTree {
  private nodes = new Map<string, Node>();
  private kids = new Map<string, Set<string>>();
  private tmp?: { dir: string; remove: () => void };
  private tmpCount = 0;
  private closed = false;

  constructor(
    readonly name: string,
    private readonly onClose?: () => Promise<void>,
  ) {
    this.nodes.set("/", { entry: { path: "/", type: "dir", size: 0, mode: 0o40755, mtime: 0 } });
  }

  has(path: string): boolean {
    return this.nodes.has(path);
  }

  node(path: string): Node | undefined {
    return this.nodes.get(path);
  }

  private link(path: string): void {
    const i = path.lastIndexOf("/");
    const parent = i <= 0 ? "/" : path.slice(0, i);
    if (!this.nodes.has(parent)) this.put({ path: parent, type: "dir", size: 0, mode: 0o40755, mtime: 0 });
    let set = this.kids.get(parent);
    if (!set) this.kids.set(parent, (set = new Set()));
    set.add(path.slice(i + 1));
  }

  /** Adds or replaces an entry (parents appear as directories). */
  put(entry: TreeEntry, extra: Omit<Node, "entry"> = {}): void {
    if (entry.path === "/") return;
    this.nodes.set(entry.path, { entry, ...extra });
    this.link(entry.path);
  }

  /** Keeps a file's contents: small ones in memory, larger ones in a temporary file written by chunks. */
  async putFile(entry: TreeEntry, chunks: AsyncIterable<Uint8Array>, layer?: number): Promise<void> {
    if (entry.size <= 4 * 1024 * 1024) {
      const buf = new Uint8Array(entry.size);
      let at = 0;
      for await (const c of chunks) {
        buf.set(c, at);
        at += c.length;
      }
      this.put(entry, { bytes: buf, layer });
      return;
    }
    this.tmp ??= tempDir("tree");
    const file = join(this.tmp.dir, String(++this.tmpCount));
    const fd = openSync(file, "w", 0o600);
    try {
      for await (const c of chunks) writeSync(fd, c);
    } finally {
      closeSync(fd);
    }
    this.put(entry, { file, layer });
  }

  /** Removes an entry and everything under it. */
  remove(path: string): void {
    if (path === "/") {
      for (const p of [...this.nodes.keys()]) if (p !== "/") this.nodes.delete(p);
      this.kids.clear();
      return;
    }
    for (const name of this.kids.get(path) ?? []) this.remove(`${path}/${name}`);
    this.kids.delete(path);
    this.nodes.delete(path);
    const i = path.lastIndexOf("/");
    this.kids.get(i <= 0 ? "/" : path.slice(0, i))?.delete(path.slice(i + 1));
  }

  /** Every path under `dir` (not itself). */
  under(dir: string): string[] {
    const out: string[] = [];
    for (const name of this.kids.get(dir) ?? []) {
      const p = dir === "/" ? `/${name}` : `${dir}/${name}`;
      out.push(p, ...this.under(p));
    }
    return out;
  }

  resolve(path: string, followLast: boolean): string | null {
    const r = resolveNames(path, followLast, `${this.name}: ${path}`, (dir, name) => {
      const n = this.nodes.get(`/${[...dir, name].join("/")}`);
      if (!n) return null;
      return { dir: n.entry.type === "dir", link: n.entry.type === "symlink" ? () => n.entry.target ?? "" : undefined };
    });
    return r ? `/${r.join("/")}` : null;
  }

  stat(path: string): TreeEntry | null {
    const r = this.resolve(path, false);
    return r ? (this.nodes.get(r)?.entry ?? null) : null;
  }

  list(dir: string): TreeEntry[] {
    const r = this.resolve(dir, true);
    const n = r ? this.nodes.get(r) : undefined;
    if (!r || !n || n.entry.type !== "dir") throw new ImageError("missing", "no such directory", `${this.name}: ${dir}`);
    return [...(this.kids.get(r) ?? [])].map((k) => this.nodes.get(r === "/" ? `/${k}` : `${r}/${k}`)!.entry);
  }

  open(path: string): TreeFile {
    const where = `${this.name}: ${path}`;
    let r = this.resolve(path, true);
    let n = r ? this.nodes.get(r) : undefined;
    for (let hops = 0; n?.hardlink !== undefined && hops < MAX_LINKS; hops++) {
      r = n.hardlink;
      n = this.nodes.get(r);
    }
    if (!n) throw new ImageError("missing", r && r !== path ? `no such file (it leads to ${r}, which is not in the tree)` : "no such file", where);
    if (n.entry.type !== "file") throw new ImageError("format", `not a regular file (${n.entry.type})`, where);
    if (n.bytes) {
      const b = n.bytes;
      return {
        path: where,
        size: b.length,
        readAt(dst, pos) {
          if (pos >= b.length) return 0;
          const m = Math.min(dst.length, b.length - pos);
          dst.set(b.subarray(pos, pos + m));
          return m;
        },
        close() {},
      };
    }
    if (n.file) {
      const fd = openSync(n.file, "r");
      return fdFile(fd, fstatSync(fd).size, where);
    }
    throw new ImageError("missing", "its contents were not kept (only the rpm database and os-release are read from archives)", where);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.tmp?.remove();
    this.nodes.clear();
    this.kids.clear();
    await this.onClose?.();
  }
}
