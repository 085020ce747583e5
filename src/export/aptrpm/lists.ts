/**
 * genpkglist / gensrclist rules over plain rows (the package's main header bytes plus its file
 * facts): which header tags are kept, the useful files, the changelog cut, the CRPMTAG_* apt tags
 * and genbasedir's order. One implementation, used by `export apt-rpm` and by the test fixtures.
 */
import { decodeEntries, encodeEntries, int32Entry, int32s, rawStrings, strings, stringArrayEntry, stringEntry, type Entry } from "./header";

/** Tags genpkglist copies, as seen in the real ALT p10 pkglist (no VENDOR, no OS; DISTTAG, BUILDTIME and the changelog kept). */
export const PKGLIST_TAGS: readonly number[] = [
  100, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1009, 1015, 1016, 1022, 1044, 1047, 1048, 1049, 1050, 1053, 1054, 1055, 1080, 1081,
  1082, 1090, 1112, 1113, 1114, 1115, 1155,
];
/** Tags gensrclist copies (REQUIRE* of a source header are its BuildRequires). */
export const SRCLIST_TAGS: readonly number[] = [100, 1000, 1001, 1002, 1003, 1004, 1005, 1009, 1011, 1015, 1016, 1022, 1048, 1049, 1050];

export const TAG = {
  NAME: 1000,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIRENAME: 1049,
  CONFLICTNAME: 1054,
  CHANGELOGTIME: 1080,
  CHANGELOGNAME: 1081,
  CHANGELOGTEXT: 1082,
  OBSOLETENAME: 1090,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  CRPM_FILENAME: 1000000,
  CRPM_FILESIZE: 1000001,
  CRPM_MD5: 1000005,
  CRPM_BLAKE2B: 1000009,
  CRPM_DIRECTORY: 1000010,
  CRPM_BINARY: 1000011,
} as const;

/** girar's changelog cut: entries newer than 2009-01-01 plus one older. */
export const CHANGELOG_SINCE = Date.UTC(2009, 0, 1) / 1000;

/** One package as the list writers need it. */
export interface AptPackage {
  /** The package's main header, magic included (PackageHeaderBlob, or read from the file). */
  header: Uint8Array;
  /** CRPMTAG_FILENAME. */
  fileName: string;
  fileSize: number;
  /** Hex digests of the .rpm file. */
  md5: string;
  blake2b: string;
  name: string;
  /** SOURCERPM of a binary ("" for sources). */
  sourceRpm: string;
}

export interface ListOptions {
  /** CRPMTAG_DIRECTORY: `RPMS.<comp>` for pkglists, `../SRPMS.<comp>` for srclists. */
  directory: string;
  /** `stripped` (default, `base/`): only useful files; `bloat`: the full file list. */
  fileList?: "stripped" | "bloat";
  /** Changelog cut (unix time); undefined keeps every entry. */
  changelogSince?: number;
  /** Leave out CRPMTAG_BLAKE2B. */
  noBlake2b?: boolean;
  /** Keep the given order instead of genbasedir's. */
  keepOrder?: boolean;
  /** File paths named by dependencies (see {@link depFiles}); default: computed over the list itself. */
  depFiles?: ReadonlySet<string>;
  /** Last hook over each new header's entries. */
  transform?: (entries: Entry[], p: AptPackage) => Entry[];
}

export interface SrclistOptions extends ListOptions {
  /** CRPMTAG_BINARY: source file name -> binary names (pkglist order); sources without binaries get none. */
  binaries?: ReadonlyMap<string, readonly string[]>;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** genbasedir's pkglist order: by source rpm, then file name (C locale). */
export function pkglistOrder<T extends { sourceRpm: string; fileName: string }>(pkgs: readonly T[]): T[] {
  return [...pkgs].sort((a, b) => cmp(a.sourceRpm, b.sourceRpm) || cmp(a.fileName, b.fileName));
}

const DEP_NAME_TAGS: readonly number[] = [TAG.REQUIRENAME, TAG.PROVIDENAME, TAG.CONFLICTNAME, TAG.OBSOLETENAME];

/** File paths named by the dependencies of `headers` (genpkglist keeps those files). */
export function depFiles(headers: Iterable<Uint8Array>, into = new Set<string>()): Set<string> {
  for (const h of headers) {
    for (const e of decodeEntries(h)) if (DEP_NAME_TAGS.includes(e.tag)) for (const s of strings(e)) if (s.startsWith("/")) into.add(s);
  }
  return into;
}

function usefulFile(dir: string, base: string, deps: ReadonlySet<string>): boolean {
  if (dir.endsWith("/bin/") || dir.endsWith("/sbin/") || dir.endsWith("/usr/games/")) return true;
  if (base.startsWith("lib") && base.indexOf(".so", 3) >= 0) return true;
  if (base.endsWith(".jar") || dir.startsWith("/usr/share/fonts/")) return true;
  return deps.has(dir + base);
}

function strippedFileList(src: Entry[], deps: ReadonlySet<string>): Entry[] {
  const di = src.find((e) => e.tag === TAG.DIRINDEXES);
  const bn = src.find((e) => e.tag === TAG.BASENAMES);
  const dn = src.find((e) => e.tag === TAG.DIRNAMES);
  if (!di || !bn || !dn) return [];
  const dirs = rawStrings(dn);
  const dirStr = strings(dn);
  const bases = rawStrings(bn);
  const baseStr = strings(bn);
  const idx = int32s(di);
  const newDirs: Uint8Array[] = [];
  const dirMap = new Map<number, number>();
  const outBases: Uint8Array[] = [];
  const outIdx: number[] = [];
  for (let i = 0; i < bases.length; i++) {
    if (!usefulFile(dirStr[idx[i]], baseStr[i], deps)) continue;
    let j = dirMap.get(idx[i]);
    if (j === undefined) {
      j = newDirs.length;
      dirMap.set(idx[i], j);
      newDirs.push(dirs[idx[i]]);
    }
    outBases.push(bases[i]);
    outIdx.push(j);
  }
  if (outBases.length === 0) return [];
  return [int32Entry(TAG.DIRINDEXES, outIdx), stringArrayEntry(TAG.BASENAMES, outBases), stringArrayEntry(TAG.DIRNAMES, newDirs)];
}

function cutChangelog(entries: Entry[], since: number): Entry[] {
  const t = entries.find((e) => e.tag === TAG.CHANGELOGTIME);
  const n = entries.find((e) => e.tag === TAG.CHANGELOGNAME);
  const x = entries.find((e) => e.tag === TAG.CHANGELOGTEXT);
  if (!t || !n || !x) return entries;
  const times = int32s(t);
  let keep = 0;
  while (keep < times.length && times[keep] > since) keep++;
  keep = Math.min(times.length, keep + 1); // and one preceding entry
  if (keep === times.length) return entries;
  const repl = new Map<number, Entry>([
    [TAG.CHANGELOGTIME, int32Entry(TAG.CHANGELOGTIME, times.slice(0, keep))],
    [TAG.CHANGELOGNAME, stringArrayEntry(TAG.CHANGELOGNAME, rawStrings(n).slice(0, keep))],
    [TAG.CHANGELOGTEXT, stringArrayEntry(TAG.CHANGELOGTEXT, rawStrings(x).slice(0, keep))],
  ]);
  return entries.map((e) => repl.get(e.tag) ?? e);
}

function keep(src: Entry[], tags: readonly number[]): Entry[] {
  const want = new Set(tags);
  return src.filter((e) => want.has(e.tag));
}

function aptTags(p: AptPackage, opts: ListOptions): Entry[] {
  const out = [
    stringEntry(TAG.CRPM_FILENAME, p.fileName),
    int32Entry(TAG.CRPM_FILESIZE, [p.fileSize]),
    stringEntry(TAG.CRPM_MD5, p.md5),
    stringEntry(TAG.CRPM_DIRECTORY, opts.directory),
  ];
  if (!opts.noBlake2b) out.push(stringEntry(TAG.CRPM_BLAKE2B, p.blake2b));
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An uncompressed pkglist of binaries, with the packages in list order. */
export function buildPkglist(input: readonly AptPackage[], opts: ListOptions): { bytes: Uint8Array; packages: AptPackage[] } {
  const pkgs = opts.keepOrder ? [...input] : pkglistOrder(input);
  const deps = opts.fileList === "bloat" ? new Set<string>() : (opts.depFiles ?? depFiles(pkgs.map((p) => p.header)));
  const blobs = pkgs.map((p) => {
    const src = decodeEntries(p.header);
    let entries = keep(src, PKGLIST_TAGS);
    if (opts.fileList === "bloat") entries.push(...keep(src, [TAG.DIRINDEXES, TAG.BASENAMES, TAG.DIRNAMES]));
    else entries.push(...strippedFileList(src, deps));
    if (opts.changelogSince !== undefined) entries = cutChangelog(entries, opts.changelogSince);
    entries.push(...aptTags(p, opts));
    if (opts.transform) entries = opts.transform(entries, p);
    return encodeEntries(entries);
  });
  return { bytes: concat(blobs), packages: pkgs };
}

/** An uncompressed srclist of sources (by file name), with the packages in list order. */
export function buildSrclist(input: readonly AptPackage[], opts: SrclistOptions): { bytes: Uint8Array; packages: AptPackage[] } {
  const pkgs = opts.keepOrder ? [...input] : [...input].sort((a, b) => cmp(a.fileName, b.fileName));
  const blobs = pkgs.map((p) => {
    let entries = keep(decodeEntries(p.header), SRCLIST_TAGS);
    entries.push(...aptTags(p, opts));
    const b = opts.binaries?.get(p.fileName);
    if (b && b.length) entries.push(stringArrayEntry(TAG.CRPM_BINARY, b));
    if (opts.transform) entries = opts.transform(entries, p);
    return encodeEntries(entries);
  });
  return { bytes: concat(blobs), packages: pkgs };
}

/** CRPMTAG_BINARY for each source file name: the names of its binaries among `binaries`, pkglist order. */
export function binariesBySource(binaries: readonly { sourceRpm: string; fileName: string; name: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const b of pkglistOrder(binaries)) {
    if (!b.sourceRpm) continue;
    const l = out.get(b.sourceRpm) ?? [];
    l.push(b.name);
    out.set(b.sourceRpm, l);
  }
  return out;
}
