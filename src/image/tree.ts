/**
 * The one read-only view of an image's contents. Every container reader (iso9660, squashfs,
 * ext4 inside a partition of a raw or QCOW2 disk, tar, OCI) and every spawned-tool opener
 * (fuseiso, squashfuse, guestmount: a mounted directory) implements FileTree, so the image
 * loader never knows how an image was opened.
 *
 * Paths are absolute inside the tree ("/", "/var/lib/rpm/Packages"), "/"-separated, already
 * normalised; a reader never resolves a path outside its own tree (".." at the root stays at the
 * root, absolute symlink targets are resolved against the tree's root, never the host's).
 */
import type { ByteSource } from "../rpmdb/source.ts";

export type { ByteSource };

export type EntryType = "file" | "dir" | "symlink" | "other";

export interface TreeEntry {
  /** Absolute path inside the tree. */
  path: string;
  type: EntryType;
  /** Bytes of a regular file (0 for others). */
  size: number;
  /** Permission bits and file type as st_mode. */
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Target of a symlink, as stored. */
  target?: string;
  /** Owner and group ids, when the format stores them (Rock Ridge PX, the squashfs id table). */
  uid?: number;
  gid?: number;
  /** Device number of a block or character device as the kernel's 32-bit encoding, when stored. */
  rdev?: number;
}

/** Random access to one regular file of a tree; close() releases what it holds. */
export interface TreeFile extends ByteSource {
  close(): void;
}

export interface FileTree {
  /** What opened this tree and from where, for messages: "iso9660 /srv/img/alt.iso". */
  readonly name: string;
  /** The entry at `path`, following symlinks only in the directories above it; null when absent. */
  stat(path: string): TreeEntry | null;
  /** The entries of a directory (not "." or ".."), in the order the format stores them. */
  list(dir: string): TreeEntry[];
  /** Random access to a regular file (symlinks followed inside the tree). */
  open(path: string): TreeFile;
  /** Release everything: file handles, temp files, mounts (idempotent). */
  close(): Promise<void>;
}

/** A whole file read through a tree, refusing files larger than `limit` bytes. */
export function readTreeFile(tree: FileTree, path: string, limit = 64 * 1024 * 1024): Uint8Array {
  const f = tree.open(path);
  try {
    if (f.size > limit) throw new Error(`${tree.name}: ${path}: ${f.size} bytes, more than the ${limit} allowed`);
    const buf = new Uint8Array(f.size);
    const n = f.readAt(buf, 0);
    return n === buf.length ? buf : buf.subarray(0, n);
  } finally {
    f.close();
  }
}

/** A byte range of another source (a partition of a disk, a file inside an ISO's extent). */
export class SliceSource implements ByteSource {
  constructor(
    private readonly base: ByteSource,
    private readonly start: number,
    readonly size: number,
    readonly path: string = base.path,
  ) {}

  readAt(dst: Uint8Array, pos: number): number {
    if (pos >= this.size) return 0;
    const want = Math.min(dst.length, this.size - pos);
    return this.base.readAt(want === dst.length ? dst : dst.subarray(0, want), this.start + pos);
  }
}
