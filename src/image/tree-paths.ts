/**
 * Path resolution shared by the userspace image readers (iso9660, squashfs): walks a path one
 * name at a time through a reader's own nodes, following symlinks inside the tree only (absolute
 * targets restart at the tree's root, ".." never climbs above it), with a hop limit, and refuses a
 * directory that appears twice on the way down (a loop made by a corrupt or hostile image).
 * resolveNames does the same by names for trees addressed by path (a host directory, an
 * archive's entries in memory).
 */
import type { EntryType, TreeEntry } from "./tree.ts";
import { ImageError } from "./errors.ts";

export interface PathOps<N> {
  root: N;
  kind(n: N): EntryType;
  /** The child called `name` of directory `dir`, or null. */
  child(dir: N, name: string): N | null;
  target(n: N): string;
  /** Identity of a directory on disk (extent, inode reference), for loop detection. */
  key(n: N): number | string;
}

const MAX_HOPS = 40;

/** "/a//b/./c/" → "/a/b/c" (".." kept for the resolver to apply against real directories). */
export function normalizePath(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  return "/" + parts.join("/");
}

/** The node at `path`, or null when some name on the way is absent or not a directory. */
export function resolvePath<N>(ops: PathOps<N>, path: string, followLast: boolean, where: string): N | null {
  let parts = path.split("/").filter((p) => p !== "" && p !== ".");
  let stack: N[] = [ops.root];
  let hops = 0;
  while (parts.length > 0) {
    const name = parts.shift()!;
    if (name === "..") {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const cur = stack[stack.length - 1];
    if (ops.kind(cur) !== "dir") return null;
    const n = ops.child(cur, name);
    if (!n) return null;
    const kind = ops.kind(n);
    if (kind === "symlink" && (parts.length > 0 || followLast)) {
      if (++hops > MAX_HOPS) throw new ImageError("corrupt", `more than ${MAX_HOPS} symlinks while resolving ${path}`, where);
      const t = ops.target(n);
      if (t.startsWith("/")) stack = [ops.root];
      parts = [...t.split("/").filter((p) => p !== "" && p !== "."), ...parts];
      continue;
    }
    if (kind === "dir") {
      const k = ops.key(n);
      if (stack.some((s) => ops.kind(s) === "dir" && ops.key(s) === k))
        throw new ImageError("corrupt", `directory loop: ${path} leads back to a directory above it`, where);
    }
    stack.push(n);
  }
  return stack[stack.length - 1];
}

/** What a reader's node (iso9660 record, squashfs inode) holds for its TreeEntry. */
export interface NodeFields {
  kind: EntryType;
  size: number;
  mode: number;
  mtime: number;
  target?: string;
  rdev?: number;
}

/** The TreeEntry of a node: the size of a regular file only, a symlink's target, owner and device when stored. */
export function nodeEntry(path: string, n: NodeFields, uid?: number, gid?: number): TreeEntry {
  const e: TreeEntry = { path, type: n.kind, size: n.kind === "file" ? n.size : 0, mode: n.mode, mtime: n.mtime };
  if (n.kind === "symlink") e.target = n.target ?? "";
  if (uid !== undefined) e.uid = uid;
  if (gid !== undefined) e.gid = gid;
  if (n.rdev !== undefined) e.rdev = n.rdev;
  return e;
}

/** "/a/./b//c/" → ["a", "b", "c"] (".." kept for the resolver). */
export function splitPath(path: string): string[] {
  return path.split("/").filter((p) => p !== "" && p !== ".");
}

/** What a name inside a directory is: a directory or not, and a symlink's target (read on demand). */
export interface NameInfo {
  dir: boolean;
  link?: () => string;
}

/**
 * The components of `path` after expanding symlinks by names: `look(dir, name)` says what `name`
 * inside the directory `dir` (components) is, or null when absent. Null when a name on the way
 * is absent or not a directory; more than 40 symlinks are an error ("format", at `where`).
 */
export function resolveNames(path: string, followLast: boolean, where: string, look: (dir: string[], name: string) => NameInfo | null): string[] | null {
  let parts = splitPath(path);
  const cur: string[] = [];
  let hops = 0;
  while (parts.length) {
    const p = parts.shift()!;
    if (p === "..") {
      cur.pop();
      continue;
    }
    const n = look(cur, p);
    if (!n) return null;
    if (n.link && (parts.length > 0 || followLast)) {
      if (++hops > MAX_HOPS) throw new ImageError("format", `more than ${MAX_HOPS} symlinks (a loop?)`, where);
      const target = n.link();
      if (target.startsWith("/")) cur.length = 0;
      parts = [...splitPath(target), ...parts];
      continue;
    }
    if (parts.length > 0 && !n.dir) return null;
    cur.push(p);
  }
  return cur;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A file name stored as bytes: UTF-8 when it is valid UTF-8, else Latin-1 (one char per byte). */
export function decodeName(b: Uint8Array): string {
  try {
    return utf8.decode(b);
  } catch {
    return Buffer.from(b).toString("latin1");
  }
}

/**
 * A Map that forgets its oldest entries beyond `max` entries or `maxWeight` total weight (reads
 * refresh an entry); an entry heavier than maxWeight alone is still kept until the next set.
 */
export class BoundedCache<K, V> {
  private readonly map = new Map<K, V>();
  private weight = 0;
  constructor(
    private readonly max: number,
    private readonly maxWeight = Infinity,
    private readonly weigh: (v: V) => number = () => 1,
  ) {}
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: K, v: V): void {
    const old = this.map.get(k);
    if (old !== undefined) {
      this.weight -= this.weigh(old);
      this.map.delete(k);
    }
    this.map.set(k, v);
    this.weight += this.weigh(v);
    while (this.map.size > 1 && (this.map.size > this.max || this.weight > this.maxWeight)) {
      const [ok, ov] = this.map.entries().next().value as [K, V];
      this.map.delete(ok);
      this.weight -= this.weigh(ov);
    }
  }
  clear(): void {
    this.map.clear();
    this.weight = 0;
  }
}
