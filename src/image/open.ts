/**
 * Which kind of image a file is, from its content (never its name), and opening it as FileTrees:
 *
 *   iso   ISO9660 ("CD001" at 0x8001): the medium, plus its squashfs layers (live, rescue, altinst)
 *   qcow  QCOW ("QFI\xfb"): partition table + ext4 inside
 *   img   raw disk (MBR 0x55AA / GPT "EFI PART" / a bare ext2-4 file system), also .xz/.gz/.zst
 *   tar   ustar/GNU tar, also .gz/.xz/.zst/.bz2
 *   oci   an OCI image layout (directory or tar) or a `docker save` tar
 *
 * `openWith`: "userspace" reads without mounting (our readers); "fuse" mounts with fuseiso and
 * squashfuse (ISO) or guestmount (disks); "guestfs" is guestmount; "auto" takes the userspace
 * readers and falls back to FUSE only when a reader is not available in this build. tar and OCI
 * are always read in-process.
 */
import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DB_FILES } from "../rpmdb/index.ts";
import { FileSource } from "../rpmdb/source.ts";
import { tempDir, which } from "./cleanup.ts";
import type { DirTree } from "./dir.ts";
import { ImageError, isImageError } from "./errors.ts";
import { openExt4 } from "./ext4.ts";
import { isoVolumeInfo, openIso9660 } from "./iso9660.ts";
import { mountGuestfs, mountIso, mountSquashfs, type MountOptions } from "./mounted.ts";
import { isOciLayout, openOci } from "./oci.ts";
import { linuxPartitions } from "./partitions.ts";
import { openQcow2 } from "./qcow2.ts";
import { openSquashfs } from "./squashfs.ts";
import { compressionOf, decompress, decompressedHead, sourceChunks } from "./stream.ts";
import { openTar, RPMDB_DIRS, type TarLimits } from "./tar.ts";
import { SliceSource, type ByteSource, type FileTree } from "./tree.ts";
import { openXzFile } from "./xz-file.ts";

export const IMAGE_TYPES = ["iso", "img", "qcow", "tar", "oci"] as const;
export type ImageType = (typeof IMAGE_TYPES)[number];
export const OPEN_WITH = ["auto", "fuse", "guestfs", "userspace"] as const;
export type OpenWith = (typeof OPEN_WITH)[number];
export type OpenedWith = "userspace" | "fuse" | "guestfs";

/** A --type value ("qcow2" is an alias of "qcow"), or null. */
export function parseImageType(s: string): ImageType | null {
  const t = s === "qcow2" ? "qcow" : s;
  return (IMAGE_TYPES as readonly string[]).includes(t) ? (t as ImageType) : null;
}

const ascii = (b: Uint8Array, at: number, s: string) => [...s].every((c, i) => b[at + i] === c.charCodeAt(0));

function diskMagic(b: Uint8Array): boolean {
  if (b.length >= 520 && ascii(b, 512, "EFI PART")) return true;
  if (b.length >= 1082 && b[1080] === 0x53 && b[1081] === 0xef) return true; // ext2/3/4 superblock
  return b.length >= 512 && b[510] === 0x55 && b[511] === 0xaa;
}

/** The kind of image at `path`, from its content. */
export async function detectImageType(path: string): Promise<ImageType> {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new ImageError("io", `cannot open: ${(e as Error).message}`, path);
  }
  if (st.isDirectory()) {
    if (isOciLayout(path)) return "oci";
    throw new ImageError("format", "a directory that is not an OCI image layout (no index.json or manifest.json)", path);
  }
  if (!st.isFile()) throw new ImageError("format", "not a regular file", path);
  const src = new FileSource(path);
  try {
    const head = new Uint8Array(Math.min(src.size, 0x8800));
    src.readAt(head, 0);
    if (head.length >= 0x8006 && ascii(head, 0x8001, "CD001")) return "iso";
    if (ascii(head, 0, "QFI\xfb")) return "qcow";
    const kind = compressionOf(head);
    if (kind !== "none") {
      const inner = await decompressedHead(src, kind, 2048);
      if (inner.length >= 262 && ascii(inner, 257, "ustar")) return "tar";
      if (diskMagic(inner)) return "img";
      throw new ImageError("format", `not an image: ${kind}-compressed data that is neither a tar archive nor a disk image`, path);
    }
    if (head.length >= 262 && ascii(head, 257, "ustar")) return isOciLayout(src) ? "oci" : "tar";
    if (diskMagic(head)) return "img";
    if (src.size === 0) throw new ImageError("format", "not an image: the file is empty", path);
    throw new ImageError("format", "not an image: no ISO9660, QCOW, tar, OCI, MBR/GPT or ext4 signature (nor an xz/gzip/zstd stream of one)", path);
  } finally {
    src.close();
  }
}

/** The database file of a tree's rpm database, or null (the directories rpm uses, newest backend first). */
export function rpmdbFileIn(tree: FileTree): string | null {
  for (const dir of RPMDB_DIRS) {
    for (const name of DB_FILES) {
      const p = `${dir}/${name}`;
      const r = tree.stat(p);
      if (r && (r.type === "file" || r.type === "symlink")) {
        try {
          tree.open(p).close();
          return p;
        } catch {
          // a dangling link: look further
        }
      }
    }
  }
  return null;
}

export interface OpenOptions extends TarLimits {
  openWith?: OpenWith;
  mount?: MountOptions;
  /** Told which way an image was opened and why (fallbacks). */
  note?: (message: string) => void;
}

export interface RootTree {
  tree: FileTree;
  openedWith: OpenedWith;
}

const unsupported = (e: unknown) => isImageError(e) && e.code === "unsupported";

/** A disk image (raw, compressed raw or QCOW2) or an archive as the tree of its root file system. */
export async function openRoot(path: string, type: Exclude<ImageType, "iso">, opts: OpenOptions = {}): Promise<RootTree> {
  const how = opts.openWith ?? "auto";
  if (type === "tar" || type === "oci") {
    const src = type === "tar" ? new FileSource(path) : undefined;
    try {
      const tree = src ? await openTar(src, opts) : (await openOci(path, opts)).tree;
      return { tree, openedWith: "userspace" };
    } finally {
      src?.close();
    }
  }
  if (how === "fuse" || how === "guestfs") return { tree: await guestfsDisk(path, opts), openedWith: "guestfs" };
  try {
    return { tree: await userspaceDisk(path, type), openedWith: "userspace" };
  } catch (e) {
    if (how === "auto" && unsupported(e) && which("guestmount")) {
      opts.note?.(`${(e as Error).message}; mounting with guestmount instead`);
      return { tree: await guestfsDisk(path, opts), openedWith: "guestfs" };
    }
    throw e;
  }
}

async function userspaceDisk(path: string, type: "img" | "qcow"): Promise<FileTree> {
  const file = new FileSource(path);
  const closers: (() => void | Promise<void>)[] = [() => file.close()];
  const closeAll = async () => {
    for (const c of closers.reverse()) await c();
  };
  try {
    let disk: ByteSource = file;
    if (type === "qcow") {
      disk = openQcow2(file); // holds nothing but caches: the file's own closer releases it
    } else {
      const head = new Uint8Array(Math.min(16, file.size));
      file.readAt(head, 0);
      if (compressionOf(head) !== "none") {
        const x = await openXzFile(path);
        closers.push(() => x.close());
        disk = x.source;
      }
    }
    const parts = linuxPartitions(disk);
    const candidates: ByteSource[] = parts.length ? parts.map((p) => new SliceSource(disk, p.start, p.size, `${path}: partition ${p.index}`)) : [disk];
    let first: FileTree | undefined;
    const problems: string[] = [];
    for (const c of candidates) {
      let tree: FileTree;
      try {
        tree = openExt4(c);
      } catch (e) {
        if (unsupported(e)) throw e;
        problems.push((e as Error).message);
        continue;
      }
      if (rpmdbFileIn(tree)) {
        if (first) await first.close();
        return withClose(tree, closeAll);
      }
      if (!first) first = tree;
      else await tree.close();
    }
    if (first) return withClose(first, closeAll);
    throw new ImageError("format", `no readable ext2/3/4 file system${parts.length ? ` in its ${parts.length} Linux partition(s)` : ""}${problems.length ? `: ${problems.join("; ")}` : ""}`, path);
  } catch (e) {
    await closeAll();
    throw e;
  }
}

function withClose(tree: FileTree, after: () => Promise<void>): FileTree {
  return {
    name: tree.name,
    stat: (p) => tree.stat(p),
    list: (p) => tree.list(p),
    open: (p) => tree.open(p),
    async close() {
      await tree.close();
      await after();
    },
  };
}

async function guestfsDisk(path: string, opts: OpenOptions): Promise<DirTree> {
  const src = new FileSource(path);
  const head = new Uint8Array(Math.min(16, src.size));
  src.readAt(head, 0);
  const kind = compressionOf(head);
  if (kind === "none") {
    src.close();
    return mountGuestfs(path, opts.mount);
  }
  // guestmount reads raw disks only: a compressed one is unpacked to a private file first
  const tmp = tempDir("disk");
  try {
    if (!which("guestmount")) await mountGuestfs(path, opts.mount); // throws the missing-tool error
    const file = join(tmp.dir, "disk.img");
    const fd = openSync(file, "w", 0o600);
    try {
      for await (const c of decompress(sourceChunks(src), kind, path)) writeSync(fd, c);
    } finally {
      closeSync(fd);
    }
    const tree = await mountGuestfs(file, opts.mount);
    const inner = tree.close.bind(tree);
    tree.close = async () => {
      await inner();
      tmp.remove();
    };
    return tree;
  } catch (e) {
    tmp.remove();
    throw e;
  } finally {
    src.close();
  }
}

export interface IsoImage {
  tree: FileTree;
  openedWith: OpenedWith;
  /** The squashfs layer `/name` of the medium as a tree (closed with the ISO or on its own). */
  openLayer(name: string): Promise<FileTree>;
  /** Volume descriptor text in `isoinfo -d`'s words. */
  volumeText(): string;
  close(): Promise<void>;
}

/** An ISO with its layers, read by our readers or mounted with fuseiso + squashfuse. */
export async function openIso(path: string, opts: OpenOptions = {}): Promise<IsoImage> {
  const how = opts.openWith ?? "auto";
  if (how === "guestfs") throw new ImageError("unsupported", "--open-with guestfs applies to img and qcow images; ISO images open with fuse or userspace", path);
  if (how === "fuse") return fuseIso(path, opts);
  try {
    return userspaceIso(path);
  } catch (e) {
    if (how === "auto" && unsupported(e) && which("fuseiso") && which("squashfuse")) {
      opts.note?.(`${(e as Error).message}; mounting with fuseiso and squashfuse instead`);
      return fuseIso(path, opts);
    }
    throw e;
  }
}

function userspaceIso(path: string): IsoImage {
  const src = new FileSource(path);
  let tree: FileTree;
  try {
    tree = openIso9660(src);
  } catch (e) {
    src.close();
    throw e;
  }
  const layers: FileTree[] = [];
  return {
    tree,
    openedWith: "userspace",
    async openLayer(name) {
      const f = tree.open(`/${name}`);
      let layer: FileTree;
      try {
        layer = openSquashfs(f);
      } catch (e) {
        f.close();
        throw e;
      }
      const t = withClose(layer, async () => f.close());
      layers.push(t);
      return t;
    },
    volumeText() {
      const v = isoVolumeInfo(src);
      const d = (x?: Date | null) => (x ? x.toISOString() : "");
      return [`System id: ${v.systemId}`, `Volume id: ${v.volumeId}`, `Publisher id: ${v.publisherId}`, `Data preparer id: ${v.preparerId}`, `Application id: ${v.applicationId}`, `Creation Date: ${d(v.created)}`, `Modification Date: ${d(v.modified)}`, ""].join("\n");
    },
    async close() {
      for (const l of layers.splice(0)) await l.close();
      await tree.close();
      src.close();
    },
  };
}

async function fuseIso(path: string, opts: OpenOptions): Promise<IsoImage> {
  const tree = await mountIso(path, opts.mount);
  const layers: FileTree[] = [];
  return {
    tree,
    openedWith: "fuse",
    async openLayer(name) {
      const host = tree.hostPath(`/${name}`);
      if (!host) throw new ImageError("missing", `no /${name} on the medium`, path);
      const t = await mountSquashfs(host, opts.mount);
      layers.push(t);
      return t;
    },
    volumeText() {
      const tool = which("isoinfo");
      if (!tool) return "";
      const r = Bun.spawnSync([tool, "-d", "-i", path], { stdout: "pipe", stderr: "pipe", timeout: 30_000 });
      return r.exitCode === 0 ? r.stdout.toString() : "";
    },
    async close() {
      // layers first: their mounts read files of the ISO's mount
      for (const l of layers.splice(0).reverse()) await l.close();
      await tree.close();
    },
  };
}
