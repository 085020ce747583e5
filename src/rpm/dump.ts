/**
 * Package → plain JSON-able object, for `altrepodb rpm dump` and for tests. Strings are shown
 * with the display rule of text.ts (valid UTF-8 as is, other bytes as \xNN); digests in hex.
 */
import { toHex } from "../hash/index.ts";
import { changelogEntries, fileClasses, fileClassInfo, pkgHash, splitPackager } from "./derived.ts";
import { RpmError } from "./errors.ts";
import type { RpmDeps, RpmPackage } from "./model.ts";
import type { AptEntry } from "./pkglist.ts";
import { text } from "./text.ts";

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

function deps(d: RpmDeps): DumpedDep[] {
  const out: DumpedDep[] = [];
  for (let i = 0; i < d.count; i++) out.push({ name: text(d.names[i]), flags: d.flags[i], version: text(d.versions[i]) });
  return out;
}

function files(pkg: RpmPackage): DumpedFile[] {
  const f = pkg.files;
  const classes = fileClasses(pkg);
  const out: DumpedFile[] = [];
  for (let i = 0; i < f.count; i++) {
    out.push({
      path: text(f.names[i]),
      size: f.sizes[i],
      mode: f.modes[i],
      mtime: f.mtimes[i],
      digest: text(f.digests[i]),
      linkto: text(f.linktos[i]),
      flags: f.flags[i],
      user: text(f.users[i]),
      group: text(f.groups[i]),
      verifyflags: f.verifyFlags[i],
      device: f.devices[i],
      rdev: f.rdevs[i],
      inode: f.inodes[i],
      lang: text(f.langs[i]),
      classinfo: text(fileClassInfo(f, i)),
      class: classes[i],
    });
  }
  return out;
}

function changelog(pkg: RpmPackage): DumpedChangelog[] {
  return changelogEntries(pkg).map((e, i) => ({
    time: e.date,
    name: text(pkg.changelog.names[i]),
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
