/**
 * `loadImage`: one distribution image into the database (reference §1: image_loader and
 * iso_loader in one). Called by `altrepodb image load`.
 *
 * Order: flags checked → type from the content (or --type) → lease on (tag, date) → an existing
 * complete load is refused (--force deletes it) → checksums of the file in one read, while the
 * image is opened and read: rpm database and os-release of the image itself; for an ISO `.disk/`,
 * the RPMs of `ALTLinux/RPMS.*` and the squashfs layers → every package must already be in
 * Packages (the error names the missing ones) → base-branch guess → package-set tree (root last)
 * → ImageStatus / ImageTagStatus. Whatever was mounted or unpacked is released before the
 * database is written. A dry run reads everything and writes nothing.
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { basename } from "node:path";
import { imageChecksums, type Checksums } from "../../image/checksum";
import { ImageError } from "../../image/errors";
import type { MountOptions } from "../../image/mounted";
import { detectImageType, openIso, openRoot, parseImageType, type ImageType, type OpenedWith, type OpenWith } from "../../image/open";
import type { TarLimits } from "../../image/tar";
import type { FileTree } from "../../image/tree";
import { murmur32, snowflake } from "../../hash";
import type { RowCounts } from "../../db";
import type { FailedItem, LoadContext } from "../context";
import { AlreadyLoaded, InputError, LoadAborted, throwIfAborted } from "../errors";
import { withLoadLock } from "../lock";
import { deleteImageLoad, ensureImageStatus, existingImageLoads, guessBaseBranch, imageNodeUuid, missingHashes, writeImageTree, ZERO_UUID, type BaseBranch, type ImageNode } from "./db";
import { imageMeta, imageTag, isoUtc, mergeKv, metaKv, type ImageFlags, type ImageMeta } from "./meta";
import { layerFiles, matchLayer, writeMetapackage, type LayerFile, type Metapackage } from "./orphans";
import { diskInfo, installedPackages, mediumPackages, nevra, osRelease, type ImagePackage } from "./read";

export interface ImageLoadInput extends ImageFlags {
  path: string;
  /** iso, img, qcow (qcow2), tar, oci; detected from the content when omitted. */
  type?: string;
  openWith?: OpenWith;
  force?: boolean;
  dryRun?: boolean;
  mount?: MountOptions;
  limits?: TarLimits;
}

export interface ImageNodeReport {
  name: string;
  packages: number;
  /** Where its packages were read ("/var/lib/rpm/Packages", "ALTLinux/RPMS.main"). */
  source: string;
}

export interface ImageLoadReport {
  image: string;
  type: ImageType;
  tag: string;
  date: string;
  openedWith: OpenedWith;
  complete: boolean;
  dryRun: boolean;
  checksums: { md5: string; sha256: string; gost12: string };
  size: number;
  osRelease: string;
  packages: number;
  nodes: ImageNodeReport[];
  /** Packages of the image that are not in Packages (`name-[epoch:]version-release.arch [hash]`). */
  missing: string[];
  baseBranch?: BaseBranch;
  failures: FailedItem[];
  rows: RowCounts;
  seconds: number;
}

const LAYERS = ["live", "rescue", "altinst"] as const;

function fileInfo(path: string): { size: number; mtime: number; dir: boolean } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new InputError(`cannot open: ${(e as Error).message}`, path);
  }
  if (!st.isFile() && !st.isDirectory()) throw new InputError("not a regular file", path);
  return { size: st.isFile() ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000), dir: st.isDirectory() };
}

/** Checks the input, then loads holding the lease on (tag, date); a dry run takes no lease. */
export async function loadImage(ctx: LoadContext, input: ImageLoadInput): Promise<ImageLoadReport> {
  const info = fileInfo(input.path);
  let type: ImageType;
  if (input.type !== undefined) {
    const t = parseImageType(input.type);
    if (!t) throw new InputError(`--type must be iso, img, qcow (qcow2), tar or oci, not ${JSON.stringify(input.type)}`);
    type = t;
  } else type = await detectImageType(input.path);
  if (info.dir && type !== "oci") throw new InputError(`a directory can only be an OCI image layout, not --type ${type}`, input.path);
  const meta = imageMeta(input, basename(input.path), type);
  const tag = imageTag(meta);
  if (input.dryRun) return loadHeld(ctx, input, meta, tag, info);
  return withLoadLock(ctx, `image ${tag} ${meta.date}`, (c) => loadHeld(c, input, meta, tag, info), ctx.lock);
}

interface Layer {
  name: string;
  size: number;
  mtime: number;
  sha1: Uint8Array;
  id: bigint;
  packages: ImagePackage[];
  source: string;
  /** A layer without an rpm database: its files, and after matching the ones no package ships. */
  files?: LayerFile[];
  orphans?: LayerFile[];
  meta?: Metapackage;
}

function sha1Of(tree: FileTree, path: string, signal?: AbortSignal): Uint8Array {
  const f = tree.open(path);
  try {
    const h = createHash("sha1");
    const buf = new Uint8Array(4 * 1024 * 1024);
    for (let pos = 0; pos < f.size; ) {
      throwIfAborted(signal);
      const n = f.readAt(buf, pos);
      if (n === 0) throw new ImageError("truncated", `ends at byte ${pos} of ${f.size}`, `${tree.name}: ${path}`);
      h.update(buf.subarray(0, n));
      pos += n;
    }
    return new Uint8Array(h.digest());
  } finally {
    f.close();
  }
}

/** LE_min(n): little-endian in the fewest bytes (0 → none). */
function leMin(n: number): Uint8Array {
  const out: number[] = [];
  for (let v = BigInt(n); v > 0n; v >>= 8n) out.push(Number(v & 0xffn));
  return Uint8Array.from(out);
}

/** The squashfs id (§0.3): snowflake(mtime, murmur32(sha1 ‖ LE_min(mtime) ‖ LE_min(size))). */
export function squashfsId(sha1: Uint8Array, mtime: number, size: number): bigint {
  const a = leMin(mtime);
  const b = leMin(size);
  const buf = new Uint8Array(sha1.length + a.length + b.length);
  buf.set(sha1, 0);
  buf.set(a, sha1.length);
  buf.set(b, sha1.length + a.length);
  return snowflake(mtime, murmur32(buf));
}

interface ReadResult {
  openedWith: OpenedWith;
  osRelease: string;
  /** Root kv items that depend on the type (ISO: arch/date/info/commit/isoinfo). */
  rootKv: [string, string][];
  /** rpms node (installed packages, or the RPMs on the medium), when present. */
  rpms?: { packages: ImagePackage[]; source: string };
  layers: Layer[];
}

async function readImage(ctx: LoadContext, input: ImageLoadInput, type: ImageType, failures: FailedItem[]): Promise<ReadResult> {
  const note = (m: string) => ctx.log.info(m);
  const opts = { ...input.limits, openWith: input.openWith, mount: { ...input.mount, signal: ctx.signal }, note };
  if (type !== "iso") {
    const { tree, openedWith } = await openRoot(input.path, type, opts);
    try {
      const os = osRelease(tree);
      const inst = await installedPackages(tree, failures);
      if (!inst) throw new ImageError("missing", "no rpm database in the image (looked for rpmdb.sqlite, Packages.db and Packages in /var/lib/rpm and /usr/lib/sysimage/rpm)", input.path);
      ctx.log.info("rpm database read", { db: inst.db, format: inst.format, packages: inst.packages.length });
      return { openedWith, osRelease: os, rootKv: [], rpms: { packages: inst.packages, source: inst.db }, layers: [] };
    } finally {
      await tree.close();
    }
  }
  const iso = await openIso(input.path, opts);
  try {
    const disk = diskInfo(iso.tree);
    const medium = mediumPackages(iso.tree, failures);
    const layers: Layer[] = [];
    for (const name of LAYERS) {
      const e = iso.tree.stat(`/${name}`);
      if (!e || e.type !== "file") continue;
      throwIfAborted(ctx.signal);
      const sha1 = sha1Of(iso.tree, `/${name}`, ctx.signal);
      const layerTree = await iso.openLayer(name);
      const inst = await installedPackages(layerTree, failures);
      const files = inst ? undefined : layerFiles(layerTree, ctx.signal);
      if (!inst) ctx.log.info(`squashfs layer ${name} has no rpm database: its files are matched to packages`, { layer: name, files: files!.length });
      layers.push({ name, size: e.size, mtime: e.mtime, sha1, id: squashfsId(sha1, e.mtime, e.size), packages: inst?.packages ?? [], source: inst ? `${name}:${inst.db}` : "", files });
    }
    const isoinfo = iso.volumeText();
    const rootKv: [string, string][] = [
      ["arch", disk.arch],
      ["date", disk.date],
      ["info", disk.info],
      ["commit", disk.commit],
      ["isoinfo", isoinfo],
    ];
    if (!medium.packages.length && !layers.some((l) => l.packages.length)) {
      throw new ImageError("missing", "no packages on the medium: no RPMs in ALTLinux/RPMS.* and no squashfs layer (live, rescue, altinst) with an rpm database", input.path);
    }
    return {
      openedWith: iso.openedWith,
      osRelease: "",
      rootKv,
      rpms: medium.packages.length ? { packages: medium.packages, source: medium.dirs.map((d) => d.slice(1)).join(", ") } : undefined,
      layers,
    };
  } finally {
    await iso.close();
  }
}

async function loadHeld(ctx: LoadContext, input: ImageLoadInput, meta: ImageMeta, tag: string, info: { size: number; mtime: number; dir: boolean }): Promise<ImageLoadReport> {
  const t0 = performance.now();
  const db = ctx.db;
  const log = ctx.log;
  const dryRun = input.dryRun ?? false;
  const type = meta.imageType as ImageType;
  const node = (n: string) => imageNodeUuid(tag, meta.date, n);
  const ruuid = node("/");

  if (!dryRun) {
    const loads = await existingImageLoads(db, tag, meta.dateEpoch);
    if (loads.some((l) => l.complete) && !input.force) throw new AlreadyLoaded(`image ${tag} ${meta.date} is already loaded (use --force to replace it)`);
    for (const l of loads) {
      log.info(l.complete ? "replacing the existing load (--force)" : "replacing an incomplete load", { ruuid: l.ruuid });
      await deleteImageLoad(db, l.ruuid);
    }
  }

  // the one read of the whole file overlaps with opening and reading the image
  const sums: Promise<Checksums> = info.dir ? Promise.resolve({ md5: "", sha256: "", gost12: "", size: 0 }) : imageChecksums(input.path, { signal: ctx.signal });
  sums.catch(() => {});
  const failures: FailedItem[] = [];
  let read: ReadResult;
  let cs: Checksums;
  try {
    read = await readImage(ctx, input, type, failures);
    cs = await sums;
  } catch (e) {
    // a stop request surfaces as whatever the interrupted step threw; what it opened is closed
    if (ctx.signal?.aborted) throw new LoadAborted();
    throw e;
  }
  throwIfAborted(ctx.signal);
  log.info("image read", { type, openedWith: read.openedWith, rpms: read.rpms?.packages.length ?? 0, layers: read.layers.map((l) => `${l.name}:${l.packages.length}`).join(",") });

  // layers without an rpm database: their files matched to packages, the rest to a metapackage
  const disk = new Map(read.rootKv);
  for (const l of read.layers) {
    if (!l.files) continue;
    const m = await matchLayer(db, meta.branch, meta.arch, l.files);
    l.orphans = m.orphans;
    l.packages = m.packages;
    const d = disk.get("date") || meta.date.replaceAll("-", "");
    l.meta = { hash: l.id, name: `${l.name}_orphaned-files_${meta.file}_${d}`, arch: disk.get("arch") ?? "", layer: l.name, iso: meta.file, branch: meta.branch, buildtime: l.mtime, size: l.size, sha1: l.sha1 };
    log.info(`layer ${l.name}: ${m.packages.length} package(s) ship its files, ${m.orphans.length} file(s) go to ${l.meta.name}`);
  }

  const all = [...(read.rpms?.packages ?? []), ...read.layers.flatMap((l) => l.packages)];
  const byHash = new Map(all.map((p) => [p.hash, p]));
  const hashes = [...byHash.keys()];
  const missingSet = await missingHashes(db, hashes);
  const missing = [...missingSet].map((h) => `${nevra(byHash.get(h)!)} [${h}]`).sort();
  if (missing.length) {
    const shown = missing.slice(0, 20).join(", ") + (missing.length > 20 ? `, … and ${missing.length - 20} more` : "");
    const msg = `${missing.length} package(s) of the image are not in Packages (load their repository or tasks first): ${shown}`;
    if (!input.force && !dryRun) throw new InputError(msg, input.path);
    log.warn(msg);
  }
  const guess = await guessBaseBranch(db, meta.branch, hashes);
  if (guess.likely) log.info("most likely branch from the latest package sets", guess.likely);
  if (guess.best) log.info("base branch", { ...guess.best });
  else {
    const msg = `none of the image's packages is in a loaded package set of branch ${meta.branch}: cannot confirm the base branch (load the branch's repository first, or use --force)`;
    if (!input.force && !dryRun) throw new InputError(msg, input.path);
    log.warn(msg);
  }

  const cls = type;
  const root: ImageNode = {
    uuid: ruuid,
    puuid: ZERO_UUID,
    depth: 0,
    name: meta.edition,
    kv:
      type === "iso"
        ? mergeKv([["type", "iso"], ["size", String(info.size)], ["class", "iso"], ["branch", meta.branch]], read.rootKv, [["md5_cs", cs.md5], ["sha256_cs", cs.sha256], ["gost12_cs", cs.gost12]], metaKv(meta))
        : mergeKv(
            [["type", type], ["size", String(info.size)], ["class", cls], ["branch", meta.branch]],
            [["mtime", isoUtc(info.mtime)], ["md5_cs", cs.md5], ["sha256_cs", cs.sha256], ["gost12_cs", cs.gost12], ["osrelease", read.osRelease]],
            metaKv(meta),
          ),
    members: [],
  };
  const children: ImageNode[] = [];
  const nodes: ImageNodeReport[] = [];
  if (read.rpms) {
    const members = read.rpms.packages.map((p) => p.hash);
    children.push({ uuid: node("/rpms"), puuid: ruuid, depth: 1, name: "rpms", kv: [["type", "rpms"], ["size", String(new Set(members).size)], ["class", cls], ["branch", meta.branch]], members });
    nodes.push({ name: "rpms", packages: new Set(members).size, source: read.rpms.source });
  }
  for (const l of read.layers) {
    const members = [...l.packages.map((p) => p.hash), ...(l.meta ? [l.meta.hash] : [])];
    children.push({
      uuid: node(`/${l.name}`),
      puuid: ruuid,
      depth: 1,
      name: l.name,
      kv: [
        ["type", "squashfs"],
        ["size", String(new Set(members).size)],
        ["class", "iso"],
        ["branch", meta.branch],
        ["hash", String(l.id)],
        ["sha1", Buffer.from(l.sha1).toString("hex")],
        ["image_size", String(l.size)],
        ["orphaned_files", String(l.orphans?.length ?? 0)],
        ["mtime", isoUtc(l.mtime)],
      ],
      members,
    });
    nodes.push({ name: l.name, packages: new Set(members).size, source: l.source });
  }

  const complete = failures.length === 0;
  let rows: RowCounts = {};
  if (!dryRun) {
    for (const l of read.layers) if (l.meta) rows = { ...rows, ...(await writeMetapackage(db, l.meta, l.orphans ?? [])) };
    rows = { ...rows, ...(await writeImageTree(db, { root, children }, { dateEpoch: meta.dateEpoch, tag, complete, signal: ctx.signal })) };
    const status = await ensureImageStatus(db, { branch: meta.branch, edition: meta.edition, tag, name: `${meta.edition.toUpperCase()} ${meta.versionMajor}.${meta.versionMinor} ${meta.arch}` });
    rows = { ...rows, ...status };
  }
  const report: ImageLoadReport = {
    image: input.path,
    type,
    tag,
    date: meta.date,
    openedWith: read.openedWith,
    complete: complete && !dryRun,
    dryRun,
    checksums: { md5: cs.md5, sha256: cs.sha256, gost12: cs.gost12 },
    size: info.size,
    osRelease: read.osRelease,
    packages: hashes.length,
    nodes,
    missing,
    baseBranch: guess.best,
    failures,
    rows,
    seconds: (performance.now() - t0) / 1000,
  };
  log.info(complete ? "image loaded" : "image loaded INCOMPLETE", { tag, date: meta.date, packages: hashes.length, failed: failures.length, seconds: report.seconds.toFixed(2) });
  return report;
}
