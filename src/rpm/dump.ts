/**
 * Package → plain JSON-able object, for `altrepodb rpm dump` and for tests. Strings are shown
 * with the display rule of text.ts (valid UTF-8 as is, other bytes as \xNN); digests in hex.
 */
import { closeSync, readSync } from "node:fs";
import { toHex } from "../hash/index.ts";
import { changelogEntries, fileClasses, fileClassInfo, pkgHash, splitPackager } from "./derived.ts";
import { RpmError } from "./errors.ts";
import { openRegularSync } from "./file.ts";
import type { RpmDeps, RpmPackage } from "./model.ts";
import { readPackage } from "./package.ts";
import { type AptEntry, readHeaderList } from "./pkglist.ts";
import type { StringList } from "./strings.ts";
import { isValidUtf8, text } from "./text.ts";

export interface DumpedFile {
  path: string;
  size: number;
  mode: number;
  mtime: number;
  digest: string;
  linkto: string;
  flags: number;
  user: string;
  group: string;
  verifyflags: number;
  device: number;
  rdev: number;
  inode: number;
  lang: string;
  /** FILECLASS as librpm ≥ 4.14 reports it (class dictionary entry, else from the mode). */
  classinfo: string;
  /** file_class as stored in the database. */
  class: string;
}

export interface DumpedDep {
  name: string;
  flags: number;
  version: string;
}

export interface DumpedChangelog {
  time: number;
  /** CHANGELOGNAME as stored. */
  name: string;
  /** The DB's pkg_changelog.name / .evr split of it (reference §1.6.5). */
  author: string;
  evr: string;
  text: string;
  hash: string;
}

export type DumpedPackage = Record<string, unknown> & {
  files: DumpedFile[];
  requires: DumpedDep[];
  provides: DumpedDep[];
  conflicts: DumpedDep[];
  obsoletes: DumpedDep[];
  changelog: DumpedChangelog[];
};

const texts = (a: Uint8Array[]) => a.map(text);

/**
 * text() of every string of a column, without a view and a decode per string: the bytes the
 * column spans are decoded once when they are valid UTF-8 (string-array tags keep their strings
 * one after the other, NUL-separated; joined file names are back to back). ASCII runs are cut by
 * byte offsets, other UTF-8 runs of NUL-separated strings are split at the NULs; anything else
 * falls back to one text() per string. The strings are the same either way.
 */
function textColumn(list: StringList, count: number): string[] {
  if (count === 0) return [];
  if (list.data.length === 0) return new Array<string>(count).fill("");
  if (list.length === count) {
    let lo = list.start(0);
    let hi = list.end(0);
    let bytes = 0;
    let separated = true;
    for (let i = 0; i < count; i++) {
      const s = list.start(i);
      const e = list.end(i);
      if (s < lo) lo = s;
      if (e > hi) hi = e;
      bytes += e - s;
      if (i > 0 && s !== list.end(i - 1) + 1) separated = false;
    }
    if (hi - lo <= 2 * bytes + count) {
      const run = list.data.subarray(lo, hi);
      if (isValidUtf8(run)) {
        const all = decoder.decode(run);
        if (all.length === run.length) {
          const out = new Array<string>(count);
          for (let i = 0; i < count; i++) out[i] = all.slice(list.start(i) - lo, list.end(i) - lo);
          return out;
        }
        if (separated) {
          const parts = all.split("\0");
          if (parts.length === count) return parts;
        }
      }
    }
  }
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = text(list.get(i));
  return out;
}

const decoder = new TextDecoder("utf-8");

function deps(d: RpmDeps): DumpedDep[] {
  const out: DumpedDep[] = [];
  const names = textColumn(d.names, d.count);
  const versions = textColumn(d.versions, d.count);
  for (let i = 0; i < d.count; i++) out.push({ name: names[i], flags: d.flags[i], version: versions[i] });
  return out;
}

function files(pkg: RpmPackage): DumpedFile[] {
  const f = pkg.files;
  const classes = fileClasses(pkg);
  const n = f.count;
  const [paths, digests, linktos, users, groups, langs, dict] = [f.names, f.digests, f.linktos, f.users, f.groups, f.langs, f.classes].map((l) => textColumn(l, n));
  const out: DumpedFile[] = [];
  for (let i = 0; i < f.count; i++) {
    out.push({
      path: paths[i],
      size: f.sizes[i],
      mode: f.modes[i],
      mtime: f.mtimes[i],
      digest: digests[i],
      linkto: linktos[i],
      flags: f.flags[i],
      user: users[i],
      group: groups[i],
      verifyflags: f.verifyFlags[i],
      device: f.devices[i],
      rdev: f.rdevs[i],
      inode: f.inodes[i],
      lang: langs[i],
      classinfo: dict[i] || text(fileClassInfo(f, i)), // fileClassInfo is the entry itself when it is not empty
      class: classes[i],
    });
  }
  return out;
}

function changelog(pkg: RpmPackage): DumpedChangelog[] {
  return changelogEntries(pkg).map((e, i) => ({
    time: e.date,
    name: text(pkg.changelog.names.get(i)),
    author: text(e.name),
    evr: text(e.evr),
    text: text(e.text),
    hash: e.hash.toString(),
  }));
}

function hashOrError(pkg: RpmPackage): { pkg_hash: string | null; pkg_hash_error?: string } {
  try {
    return { pkg_hash: pkgHash(pkg).toString() };
  } catch (e) {
    if (e instanceof RpmError) return { pkg_hash: null, pkg_hash_error: e.message };
    throw e;
  }
}

/** Every field of a package as a JSON-able object. */
export function dumpPackage(pkg: RpmPackage): DumpedPackage {
  const packager = splitPackager(pkg.packager);
  return {
    path: pkg.path,
    name: text(pkg.name),
    epoch: pkg.epoch,
    version: text(pkg.version),
    release: text(pkg.release),
    arch: text(pkg.arch),
    os: text(pkg.os),
    sourcepackage: pkg.isSource,
    sourcerpm: text(pkg.sourcerpm),
    buildtime: pkg.buildtime,
    buildhost: text(pkg.buildhost),
    packager: text(pkg.packager),
    packager_name: text(packager.name),
    packager_email: text(packager.email),
    vendor: text(pkg.vendor),
    distribution: text(pkg.distribution),
    license: text(pkg.license),
    group: text(pkg.group),
    url: text(pkg.url),
    summary: text(pkg.summary),
    description: text(pkg.description),
    disttag: text(pkg.disttag),
    rpmversion: text(pkg.rpmversion),
    cookie: text(pkg.cookie),
    optflags: text(pkg.optflags),
    disturl: text(pkg.disturl),
    platform: text(pkg.platform),
    vcs: text(pkg.vcs),
    sha1header: toHex(pkg.sha1header),
    sigmd5: toHex(pkg.sigmd5),
    siggpg: toHex(pkg.siggpg),
    payloadformat: text(pkg.payloadformat),
    payloadcompressor: text(pkg.payloadcompressor),
    payloadflags: text(pkg.payloadflags),
    size: pkg.size,
    archivesize: pkg.archivesize,
    sigsize: pkg.sigsize,
    filesize: pkg.fileSize >= 0 ? pkg.fileSize : null,
    ...hashOrError(pkg),
    buildarchs: texts(pkg.buildarchs),
    prefixes: texts(pkg.prefixes),
    instprefixes: texts(pkg.instprefixes),
    prein: text(pkg.prein),
    postin: text(pkg.postin),
    preun: text(pkg.preun),
    postun: text(pkg.postun),
    pretrans: text(pkg.pretrans),
    posttrans: text(pkg.posttrans),
    verifyscript: text(pkg.verifyscript),
    preinprog: texts(pkg.preinprog),
    postinprog: texts(pkg.postinprog),
    preunprog: texts(pkg.preunprog),
    postunprog: texts(pkg.postunprog),
    pretransprog: texts(pkg.pretransprog),
    posttransprog: texts(pkg.posttransprog),
    verifyscriptprog: texts(pkg.verifyscriptprog),
    gif: toHex(pkg.gif),
    xpm: toHex(pkg.xpm),
    icon: toHex(pkg.icon),
    files: files(pkg),
    requires: deps(pkg.requires),
    provides: deps(pkg.provides),
    conflicts: deps(pkg.conflicts),
    obsoletes: deps(pkg.obsoletes),
    changelog: changelog(pkg),
  };
}

/** A pkglist / srclist entry: the package fields plus the apt tags. */
export function dumpAptEntry(entry: AptEntry): DumpedPackage {
  const d = dumpPackage(entry.package);
  d.path = entry.path;
  return {
    ...d,
    offset: entry.offset,
    apt: {
      filename: text(entry.apt.filename),
      filesize: entry.apt.filesize,
      md5: toHex(entry.apt.md5),
      blake2b: toHex(entry.apt.blake2b),
      directory: text(entry.apt.directory),
      binary: texts(entry.apt.binary),
    },
  };
}

export interface DumpError {
  path: string;
  error: string;
  /** RpmError code ("io", "truncated", …). */
  code?: string;
  offset?: number;
}

const LEAD_MAGIC = [0xed, 0xab, 0xee, 0xdb];

function isPackageFile(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openRegularSync(path);
    const head = new Uint8Array(4);
    const n = readSync(fd, head, 0, 4, 0);
    return n === 4 && head.every((b, i) => b === LEAD_MAGIC[i]);
  } catch {
    return true; // let readPackage report the I/O error (or the file type)
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function errorOf(path: string, e: unknown): DumpError {
  if (e instanceof RpmError) return { path, error: e.message, code: e.code, ...(e.offset >= 0 ? { offset: e.offset } : {}) };
  throw e;
}

/**
 * Dump one file: an .rpm gives one object, a pkglist / srclist (plain or compressed) one object
 * per header. A file that cannot be read gives a DumpError (after the entries read before it).
 */
export async function* dumpPath(path: string): AsyncGenerator<DumpedPackage | DumpError> {
  if (isPackageFile(path)) {
    try {
      yield dumpPackage(readPackage(path));
    } catch (e) {
      yield errorOf(path, e);
    }
    return;
  }
  try {
    for await (const entry of readHeaderList(path)) yield dumpAptEntry(entry);
  } catch (e) {
    yield errorOf(path, e);
  }
}

export function isDumpError(d: DumpedPackage | DumpError): d is DumpError {
  return !("files" in d);
}

const octal = (n: number) => `0${n.toString(8)}`;
const hex = (n: number) => `0x${n.toString(16)}`;

const dates = new Map<number, string>();

function date(t: number): string {
  const day = Math.floor(t / 86400);
  let d = dates.get(day);
  if (d === undefined) {
    d = new Date(day * 86400_000).toISOString().slice(0, 10);
    if (dates.size > 100_000) dates.clear();
    dates.set(day, d);
  }
  return d;
}

/** Human-readable form of a dumped package (the CLI without --json). */
export function formatDump(d: DumpedPackage): string {
  const out: string[] = [];
  const skip = new Set(["path", "files", "requires", "provides", "conflicts", "obsoletes", "changelog", "apt", "description"]);
  for (const [k, v] of Object.entries(d)) {
    if (skip.has(k)) continue;
    if (v === "" || v === null || (Array.isArray(v) && v.length === 0)) continue;
    const shown = Array.isArray(v) ? v.join(", ") : String(v);
    out.push(`${`${k}:`.padEnd(20)}${shown.includes("\n") ? `\n    ${shown.replaceAll("\n", "\n    ")}` : shown}`);
  }
  if (d.apt) for (const [k, v] of Object.entries(d.apt as Record<string, unknown>)) out.push(`${`apt.${k}:`.padEnd(20)}${String(v)}`);
  if (d.description) out.push(`description:\n    ${String(d.description).replaceAll("\n", "\n    ")}`);
  out.push(`files (${d.files.length}):`);
  for (const f of d.files) {
    const link = f.linkto ? ` -> ${f.linkto}` : "";
    out.push(`  ${octal(f.mode)} ${f.user}/${f.group} ${String(f.size).padStart(9)} ${date(f.mtime)} ${f.class.padEnd(9)} ${f.path}${link}`);
    const extra = [f.digest && `digest=${f.digest}`, f.flags && `flags=${hex(f.flags)}`, f.lang && `lang=${f.lang}`].filter(Boolean);
    if (extra.length) out.push(`      ${extra.join(" ")}`);
  }
  for (const kind of ["requires", "provides", "conflicts", "obsoletes"] as const) {
    out.push(`${kind} (${d[kind].length}):`);
    for (const r of d[kind]) out.push(`  ${r.name}${r.version ? ` ${r.version}` : ""}  [${hex(r.flags)}]`);
  }
  out.push(`changelog (${d.changelog.length}):`);
  for (const c of d.changelog) {
    out.push(`  * ${date(c.time)} ${c.name}`);
    out.push(`    ${c.text.replaceAll("\n", "\n    ")}`);
  }
  return out.join("\n");
}
