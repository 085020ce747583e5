/**
 * Header → RpmPackage with librpm's value semantics (reference §1.4): unsigned integers, i18n
 * element 0 ("C"), missing-tag defaults, signature tags merged into the main header only
 * where the main header lacks them, FILENAMES from DIRNAMES/BASENAMES (legacy OLDFILENAMES),
 * FILECLASS through CLASSDICT, SOURCEPACKAGE retrofit.
 */
import { RpmError } from "./errors.ts";
import { type PackageFile, readPackageFile } from "./file.ts";
import type { Header } from "./header.ts";
import type { Lead } from "./lead.ts";
import { StringList } from "./strings.ts";
import type { NumberArray, RpmChangelog, RpmDeps, RpmFiles, RpmPackage } from "./model.ts";
import { mainToSigTag, TAG, TYPE } from "./tags.ts";
import { EMPTY, utf8 } from "./text.ts";

/** librpm copies a signature string/BIN tag only when it is shorter than 16 KiB. */
const SIG_MAX_BYTES = 16 * 1024;

/** Read the headers of an .rpm file (not its payload) into the package model. */
export function readPackage(path: string): RpmPackage {
  return buildPackageFromFile(readPackageFile(path));
}

/** The package model of headers already read with readPackageFile. */
export function buildPackageFromFile(f: PackageFile): RpmPackage {
  return buildPackage(f.header, f.signature, f.lead, {
    path: f.path,
    fileSize: f.fileSize,
    headerStart: f.headerStart,
    headerEnd: f.headerEnd,
  });
}

export interface FromHeaderOptions {
  /** Signature header to merge (rpmdb and pkglist headers have none). */
  signature?: Header | null;
  /** Force source / binary; by default SOURCEPACKAGE, else librpm's rule "no SOURCERPM = source". */
  source?: boolean;
}

/** Build the package model from an in-memory header (pkglist / srclist entry, rpmdb blob). */
export function packageFromHeader(header: Header, opts: FromHeaderOptions = {}): RpmPackage {
  const pkg = buildPackage(header, opts.signature ?? null, null, {
    path: header.path,
    fileSize: -1,
    headerStart: -1,
    headerEnd: -1,
  });
  pkg.isSource = opts.source ?? (pkg.isSource || !header.has(TAG.SOURCERPM));
  return pkg;
}

interface Placement {
  path: string;
  fileSize: number;
  headerStart: number;
  headerEnd: number;
}

function buildPackage(h: Header, sig: Header | null, lead: Lead | null, at: Placement): RpmPackage {
  const pkg = readTags(h, sig, lead, at);
  // librpm retrofits package files only (rpmReadPackageFile), not pkglist or rpmdb headers.
  if (lead && h.region === 0 && !pkg.isSource) pkg.provides = retrofitSelfProvide(pkg);
  return pkg;
}

function readTags(h: Header, sig: Header | null, lead: Lead | null, at: Placement): RpmPackage {
  const s = (tag: number) => h.str(tag) ?? EMPTY;
  const sourcerpm = h.str(TAG.SOURCERPM);
  return {
    ...at,
    lead,
    header: h,
    signature: sig,
    name: s(TAG.NAME),
    epoch: h.int(TAG.EPOCH) ?? null,
    version: s(TAG.VERSION),
    release: s(TAG.RELEASE),
    arch: s(TAG.ARCH),
    os: s(TAG.OS),
    isSource: isSourcePackage(h, lead, sourcerpm),
    sourcerpm: sourcerpm ?? EMPTY,
    buildtime: h.int(TAG.BUILDTIME) ?? null,
    buildhost: s(TAG.BUILDHOST),
    size: h.int(TAG.SIZE) ?? null,
    archivesize: sigInt(h, sig, TAG.ARCHIVESIZE) ?? sigInt(h, sig, TAG.LONGARCHIVESIZE) ?? null,
    sigsize: sigInt(h, sig, TAG.SIGSIZE) ?? sigInt(h, sig, TAG.LONGSIGSIZE) ?? null,
    sha1header: sha1Bytes(h, sig),
    sigmd5: sigBin(h, sig, TAG.SIGMD5),
    siggpg: sigBin(h, sig, TAG.SIGGPG),
    summary: s(TAG.SUMMARY),
    description: s(TAG.DESCRIPTION),
    group: s(TAG.GROUP),
    packager: s(TAG.PACKAGER),
    vendor: s(TAG.VENDOR),
    license: s(TAG.LICENSE),
    url: s(TAG.URL),
    distribution: s(TAG.DISTRIBUTION),
    disttag: s(TAG.DISTTAG),
    rpmversion: s(TAG.RPMVERSION),
    cookie: s(TAG.COOKIE),
    optflags: s(TAG.OPTFLAGS),
    disturl: s(TAG.DISTURL),
    payloadformat: s(TAG.PAYLOADFORMAT),
    payloadcompressor: s(TAG.PAYLOADCOMPRESSOR),
    payloadflags: s(TAG.PAYLOADFLAGS),
    platform: s(TAG.PLATFORM),
    vcs: s(TAG.VCS),
    gif: h.bin(TAG.GIF) ?? EMPTY,
    xpm: h.bin(TAG.XPM) ?? EMPTY,
    icon: h.bin(TAG.ICON) ?? EMPTY,
    buildarchs: h.strs(TAG.BUILDARCHS),
    prefixes: h.strs(TAG.PREFIXES),
    instprefixes: h.strs(TAG.INSTPREFIXES),
    prein: s(TAG.PREIN),
    postin: s(TAG.POSTIN),
    preun: s(TAG.PREUN),
    postun: s(TAG.POSTUN),
    pretrans: s(TAG.PRETRANS),
    posttrans: s(TAG.POSTTRANS),
    verifyscript: s(TAG.VERIFYSCRIPT),
    preinprog: h.strs(TAG.PREINPROG),
    postinprog: h.strs(TAG.POSTINPROG),
    preunprog: h.strs(TAG.PREUNPROG),
    postunprog: h.strs(TAG.POSTUNPROG),
    pretransprog: h.strs(TAG.PRETRANSPROG),
    posttransprog: h.strs(TAG.POSTTRANSPROG),
    verifyscriptprog: h.strs(TAG.VERIFYSCRIPTPROG),
    files: readFiles(h),
    requires: readDeps(h, TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION),
    provides: readDeps(h, TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION),
    conflicts: readDeps(h, TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION),
    obsoletes: readDeps(h, TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION),
    changelog: readChangelog(h),
  };
}

const RPMSENSE_EQUAL = 8;

function evrBytes(pkg: RpmPackage): Uint8Array {
  const epoch = pkg.epoch === null ? "" : `${pkg.epoch}:`;
  const parts = [utf8(epoch), pkg.version, utf8("-"), pkg.release];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * librpm's legacy retrofit (providePackageNVR) for binary headers without an immutable region
 * (rpm < 4 era), as librpm 4.18 does it: "Provides: NAME = [E:]V-R" is appended — even when the
 * header already has that provide (a duplicate, as librpm shows it); a provide list without
 * PROVIDEVERSION first gets "" / flags 0 for every name. Nothing without NAME, VERSION, RELEASE.
 */
function retrofitSelfProvide(pkg: RpmPackage): RpmDeps {
  const h = pkg.header;
  if (!h.has(TAG.NAME) || !h.has(TAG.VERSION) || !h.has(TAG.RELEASE)) return pkg.provides;
  const d = pkg.provides;
  const flags = new Uint32Array(d.count + 1);
  flags.set(h.has(TAG.PROVIDEVERSION) ? d.flags : new Uint32Array(d.count));
  flags[d.count] = RPMSENSE_EQUAL;
  const names = StringList.from([...d.names, pkg.name]);
  return { count: d.count + 1, names, flags, versions: StringList.from([...d.versions, evrBytes(pkg)]) };
}

/** SOURCEPACKAGE, or the librpm/altrpm retrofit: a lead of type source and no SOURCERPM. */
function isSourcePackage(h: Header, lead: Lead | null, sourcerpm: Uint8Array | undefined): boolean {
  const tag = h.int(TAG.SOURCEPACKAGE);
  if (tag !== undefined) return tag !== 0;
  return lead !== null && lead.type !== 0 && sourcerpm === undefined;
}

/**
 * A signature-merged integer: the main header's tag, else the signature's (count must be 1).
 * The signature header's types are not checked by librpm; a value of another type is ignored.
 */
function sigInt(h: Header, sig: Header | null, tag: number): number | undefined {
  const v = h.int(tag);
  if (v !== undefined || !sig) return v;
  const st = mainToSigTag(tag);
  if (st === 0 || sig.count(st) !== 1) return undefined;
  const type = sig.entry(st)!.type;
  return type >= TYPE.CHAR && type <= TYPE.INT64 ? sig.int(st) : undefined;
}

function sigEntryUsable(sig: Header, st: number, type: number): boolean {
  const e = sig.entry(st);
  return e !== undefined && e.type === type && e.count > 0 && e.count < SIG_MAX_BYTES;
}

function sigBin(h: Header, sig: Header | null, tag: number): Uint8Array {
  const v = h.bin(tag);
  if (v !== undefined) return v;
  if (!sig) return EMPTY;
  const st = mainToSigTag(tag);
  if (st === 0 || !sigEntryUsable(sig, st, TYPE.BIN)) return EMPTY;
  return sig.bin(st) ?? EMPTY;
}

function sha1Bytes(h: Header, sig: Header | null): Uint8Array {
  let hex = h.str(TAG.SHA1HEADER);
  let where: Header = h;
  if (hex === undefined && sig && sigEntryUsable(sig, TAG.SHA1HEADER, TYPE.STRING)) {
    hex = sig.str(TAG.SHA1HEADER);
    where = sig;
  }
  if (hex === undefined) return EMPTY;
  return hexToBytes(hex, "SHA1HEADER", where);
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Hex text (as header bytes) → raw bytes; anything but an even number of hex digits is an RpmError. */
export function hexToBytes(hex: Uint8Array, what: string, where: Header): Uint8Array {
  const out = new Uint8Array(hex.length >>> 1);
  let bad = hex.length % 2 !== 0;
  for (let i = 0; i < out.length && !bad; i++) {
    const hi = nibble(hex[2 * i]);
    const lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) bad = true;
    out[i] = (hi << 4) | lo;
  }
  if (bad) throw new RpmError("value", `${what} is not a hex string`, where.path, where.base);
  return out;
}

/**
 * Number of items of a group of per-item tags (files, one dependency kind, changelog): the
 * shortest of the tags present, as librpm hands them over and the reference zipped them. librpm
 * reads a header whose per-item tags disagree in length; so do we.
 */
function itemCount(h: Header, n: number, tags: readonly number[]): number {
  for (const t of tags) if (fits(h, t)) n = Math.min(n, h.count(t));
  return n;
}

/** The tag is present with a type its accessor reads (integers for integer tags, strings else). */
function fits(h: Header, tag: number): boolean {
  const e = h.entry(tag);
  if (e === undefined) return false;
  const isInt = e.type >= TYPE.CHAR && e.type <= TYPE.INT64;
  const isStr = e.type === TYPE.STRING || e.type === TYPE.STRING_ARRAY || e.type === TYPE.I18NSTRING;
  return STRING_TAGS.has(tag) ? isStr : isInt;
}

const STRING_TAGS = new Set<number>([
  TAG.FILEDIGESTS, TAG.FILELINKTOS, TAG.FILEUSERNAME, TAG.FILEGROUPNAME, TAG.FILELANGS, TAG.CHANGELOGNAME,
  TAG.CHANGELOGTEXT, TAG.REQUIREVERSION, TAG.PROVIDEVERSION, TAG.CONFLICTVERSION, TAG.OBSOLETEVERSION,
]);

/** A per-item string column: missing → `n` empty strings; present → its first `n` values. */
function strColumn(h: Header, tag: number, n: number): StringList {
  const v = h.strList(tag);
  return v === undefined ? StringList.empty(n) : v.head(n);
}

/** A per-item integer column: missing → `n` zeros; present → its first `n` values. */
function intColumn(h: Header, tag: number, n: number): NumberArray {
  if (!fits(h, tag)) return new Uint32Array(n);
  const v = h.ints(tag);
  return v.length > n ? v.subarray(0, n) : v;
}

/** DIRNAMES[DIRINDEXES[i]] + BASENAMES[i] for every file, in one buffer (no object per name). */
function joinNames(dirs: StringList, base: StringList, idx: NumberArray, n: number): StringList {
  let total = 0;
  for (let i = 0; i < n; i++) total += dirs.size(idx[i]) + base.size(i);
  const out = new Uint8Array(total);
  const bounds = new Uint32Array(2 * n);
  const src = base.data; // dirs and base names live in the same data store
  let p = 0;
  for (let i = 0; i < n; i++) {
    bounds[2 * i] = p;
    for (let k = dirs.start(idx[i]), e = dirs.end(idx[i]); k < e; k++) out[p++] = src[k];
    for (let k = base.start(i), e = base.end(i); k < e; k++) out[p++] = src[k];
    bounds[2 * i + 1] = p;
  }
  return new StringList(out, bounds, n);
}

const FILE_TAGS = [
  TAG.FILEMODES, TAG.FILERDEVS, TAG.FILEMTIMES, TAG.FILEDIGESTS, TAG.FILELINKTOS, TAG.FILEFLAGS, TAG.FILEUSERNAME,
  TAG.FILEGROUPNAME, TAG.FILEVERIFYFLAGS, TAG.FILEDEVICES, TAG.FILEINODES, TAG.FILELANGS,
] as const;

/**
 * File names and the file count. A directory index past DIRNAMES makes librpm's FILENAMES empty
 * (rpmfilesNew fails), and so the package has no files, as the reference stored it.
 */
function fileNames(h: Header): StringList {
  const base = h.strList(TAG.BASENAMES);
  const sizesTag = h.has(TAG.LONGFILESIZES) ? TAG.LONGFILESIZES : TAG.FILESIZES;
  if (base === undefined) {
    const old = h.strList(TAG.OLDFILENAMES) ?? StringList.empty(0);
    return old.head(itemCount(h, old.length, [...FILE_TAGS, sizesTag]));
  }
  const dirs = h.strList(TAG.DIRNAMES) ?? StringList.empty(0);
  const n = itemCount(h, base.length, [...FILE_TAGS, sizesTag, TAG.DIRINDEXES]);
  const idx = intColumn(h, TAG.DIRINDEXES, n);
  for (let i = 0; i < n; i++) if (idx[i] >= dirs.length) return StringList.empty(0);
  return joinNames(dirs, base, idx, n);
}

function fileClasses(h: Header, n: number): { classes: StringList; hasClassDict: boolean } {
  const dict = h.strList(TAG.CLASSDICT);
  if (dict === undefined || !h.has(TAG.FILECLASS)) return { classes: StringList.empty(n), hasClassDict: false };
  const idx = h.ints(TAG.FILECLASS);
  const bounds = new Uint32Array(2 * n);
  for (let i = 0; i < n && i < idx.length; i++) {
    const k = idx[i];
    if (k < dict.length) {
      bounds[2 * i] = dict.start(k);
      bounds[2 * i + 1] = dict.end(k);
    }
  }
  return { classes: new StringList(dict.data, bounds, n), hasClassDict: true };
}

function readFiles(h: Header): RpmFiles {
  const names = fileNames(h);
  const n = names.length;
  const sizes = intColumn(h, h.has(TAG.LONGFILESIZES) ? TAG.LONGFILESIZES : TAG.FILESIZES, n);
  return {
    count: n,
    names,
    sizes,
    modes: intColumn(h, TAG.FILEMODES, n),
    rdevs: intColumn(h, TAG.FILERDEVS, n),
    mtimes: intColumn(h, TAG.FILEMTIMES, n),
    digests: strColumn(h, TAG.FILEDIGESTS, n),
    linktos: strColumn(h, TAG.FILELINKTOS, n),
    flags: intColumn(h, TAG.FILEFLAGS, n),
    users: strColumn(h, TAG.FILEUSERNAME, n),
    groups: strColumn(h, TAG.FILEGROUPNAME, n),
    verifyFlags: intColumn(h, TAG.FILEVERIFYFLAGS, n),
    devices: intColumn(h, TAG.FILEDEVICES, n),
    inodes: intColumn(h, TAG.FILEINODES, n),
    langs: strColumn(h, TAG.FILELANGS, n),
    ...fileClasses(h, n),
    digestAlgo: h.int(TAG.FILEDIGESTALGO) ?? 1,
  };
}

function readDeps(h: Header, nameTag: number, flagsTag: number, versionTag: number): RpmDeps {
  const all = h.strList(nameTag) ?? StringList.empty(0);
  const n = itemCount(h, all.length, [flagsTag, versionTag]);
  return { count: n, names: all.head(n), flags: intColumn(h, flagsTag, n), versions: strColumn(h, versionTag, n) };
}

function readChangelog(h: Header): RpmChangelog {
  const n = itemCount(h, fits(h, TAG.CHANGELOGTIME) ? h.count(TAG.CHANGELOGTIME) : 0, [TAG.CHANGELOGNAME, TAG.CHANGELOGTEXT]);
  return {
    count: n,
    times: intColumn(h, TAG.CHANGELOGTIME, n),
    names: strColumn(h, TAG.CHANGELOGNAME, n),
    texts: strColumn(h, TAG.CHANGELOGTEXT, n),
  };
}

