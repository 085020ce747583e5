/**
 * Values the database derives from a package (reference §1.6), computed from the model.
 */
import { mmhash, murmur32, snowflake, SNOWFLAKE_EPOCH } from "../hash/index.ts";
import { RpmError } from "./errors.ts";
import type { RpmFiles, RpmPackage } from "./model.ts";
import { concatBytes, decodeEscaped, encodeEscaped, EMPTY, startsWithAscii, utf8 } from "./text.ts";

/**
 * pkg_hash (§1.6.1): ((BUILDTIME − 1e9) << 32) | murmur32(sha1header ‖ sigmd5 ‖ siggpg), as an
 * unsigned 64-bit bigint. A missing BUILDTIME or one before 2001-09-09 is an RpmError
 * ("buildtime"): the reference would produce a negative id that cannot be inserted.
 */
export function pkgHash(pkg: RpmPackage): bigint {
  const bt = pkg.buildtime;
  if (bt === null || bt < SNOWFLAKE_EPOCH) {
    const what = bt === null ? "has no BUILDTIME" : `has BUILDTIME ${bt}, before ${SNOWFLAKE_EPOCH} (2001-09-09)`;
    throw new RpmError("buildtime", `package ${what}; pkg_hash would be negative`, pkg.path);
  }
  if (!Number.isSafeInteger(bt) || bt - SNOWFLAKE_EPOCH > 0xffffffff) {
    throw new RpmError("buildtime", `package has BUILDTIME ${bt}; pkg_hash would not fit in 64 bits`, pkg.path);
  }
  const a = pkg.sha1header;
  const b = pkg.sigmd5;
  const c = pkg.siggpg;
  const buf = new Uint8Array(a.length + b.length + c.length);
  buf.set(a, 0);
  buf.set(b, a.length);
  buf.set(c, a.length + b.length);
  return snowflake(bt, murmur32(buf));
}

/** pkg_cs (§1.6.2): the 20 raw bytes of SHA1HEADER, zero-padded when absent (FixedString(20)). */
export function pkgCs(pkg: RpmPackage): Uint8Array {
  if (pkg.sha1header.length === 20) return pkg.sha1header;
  const out = new Uint8Array(20);
  out.set(pkg.sha1header.subarray(0, 20));
  return out;
}

const X86_64_I586 = utf8("x86_64-i586");

/** pkg_arch (§1.6.3): `x86_64-i586` for `i586-*` biarch packages, else ARCH (sources keep theirs). */
export function pkgArch(pkg: Pick<RpmPackage, "name" | "arch">): Uint8Array {
  return startsWithAscii(pkg.name, "i586-") ? X86_64_I586 : pkg.arch;
}

// §1.6.4 with Unicode-aware \w: Python's `\W?([\w\-\@'. ]+?)\W? (\W.+?\W )?<(.+?)>`.
// Bytes that are not UTF-8 (decoded to U+DC80..U+DCFF) count as letters, as every high byte did
// in the reference's latin-1 text: a KOI8-R name stays whole.
const W = "[\\p{L}\\p{N}_\\u{DC80}-\\u{DCFF}]";
const NW = "[^\\p{L}\\p{N}_\\u{DC80}-\\u{DCFF}]";
// Python's `.` is "anything but \n"; JS's would also stop at \r, U+2028 and U+2029.
const ANY = "[^\\n]";
const PACKAGER_RE = new RegExp(`${NW}?((?:${W}|[\\-@'. ])+?)${NW}? (${NW}${ANY}+?${NW} )?<(${ANY}+?)>`, "u");

export interface Packager {
  name: Uint8Array;
  email: Uint8Array;
}

/**
 * Split PACKAGER into name and e-mail (§1.6.4, §8.2). Letters are Unicode letters, so Cyrillic
 * names stay whole. Invalid UTF-8 bytes survive byte-exact. No match → (whole string, "").
 */
export function splitPackager(packager: Uint8Array): Packager {
  const s = decodeEscaped(packager);
  const m = PACKAGER_RE.exec(s);
  if (!m) return { name: packager, email: EMPTY };
  const name = m[1].trim();
  const email = m[3].trim().replaceAll(" at ", "@");
  return { name: encodeEscaped(name), email: encodeEscaped(email) };
}

export interface ChangelogEntry {
  /** CHANGELOGTIME, epoch seconds. */
  date: number;
  /** The name part up to and including the single `>`, or the whole CHANGELOGNAME. */
  name: Uint8Array;
  /** The text after the single `>`, whitespace-trimmed, or empty. */
  evr: Uint8Array;
  text: Uint8Array;
  /** mmhash of the text bytes as stored (clean UTF-8, not the reference's double encoding). */
  hash: bigint;
}

const GT = 0x3e;

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x1c || c === 0x1d || c === 0x1e || c === 0x1f;
}

function trimBytes(b: Uint8Array): Uint8Array {
  let s = 0;
  let e = b.length;
  while (s < e && isSpace(b[s])) s++;
  while (e > s && isSpace(b[e - 1])) e--;
  return b.subarray(s, e);
}

/** Name / EVR split of one CHANGELOGNAME (§1.6.5): exactly one `>` splits, otherwise no split. */
export function splitChangelogName(raw: Uint8Array): { name: Uint8Array; evr: Uint8Array } {
  const first = raw.indexOf(GT);
  if (first < 0 || raw.indexOf(GT, first + 1) >= 0) return { name: raw, evr: EMPTY };
  return { name: raw.subarray(0, first + 1), evr: trimBytes(raw.subarray(first + 1)) };
}

/** Entries already computed per package: the Packages row and the Changelog rows both need them. */
const changelogCache = new WeakMap<RpmPackage, ChangelogEntry[]>();

/** The changelog as DB entries (§1.6.5), header order (newest first). Do not modify the result. */
export function changelogEntries(pkg: RpmPackage): ChangelogEntry[] {
  const cached = changelogCache.get(pkg);
  if (cached) return cached;
  const out = computeChangelogEntries(pkg);
  changelogCache.set(pkg, out);
  return out;
}

/** splitChangelogName's result, located by offsets: three views per entry instead of six. */
function computeChangelogEntries(pkg: RpmPackage): ChangelogEntry[] {
  const c = pkg.changelog;
  const names = c.names;
  const nd = names.data;
  const out = new Array<ChangelogEntry>(c.count);
  for (let i = 0; i < c.count; i++) {
    const s = names.start(i);
    const e = names.end(i);
    const found = nd.indexOf(GT, s);
    const first = found >= 0 && found < e ? found : -1;
    const second = first < 0 ? -1 : nd.indexOf(GT, first + 1);
    let name: Uint8Array;
    let evr: Uint8Array = EMPTY;
    if (first < 0 || (second >= 0 && second < e)) name = nd.subarray(s, e);
    else {
      name = nd.subarray(s, first + 1);
      let a = first + 1;
      let b = e;
      while (a < b && isSpace(nd[a])) a++;
      while (b > a && isSpace(nd[b - 1])) b--;
      evr = nd.subarray(a, b);
    }
    const text = c.texts.get(i);
    out[i] = { date: c.times[i], name, evr, text, hash: mmhash(text) };
  }
  return out;
}

export type FileClass = "file" | "directory" | "symlink" | "socket" | "block" | "char" | "fifo";

const CLASS_PREFIXES: readonly [string, FileClass][] = [
  ["directory", "directory"],
  ["symbolic link to", "symlink"],
  ["socket", "socket"],
  ["character special", "char"],
  ["block special", "block"],
  ["fifo (named pipe)", "fifo"],
  ["file", "file"],
];

/** File type from st_mode (S_IFMT bits). */
export function classFromMode(mode: number): FileClass {
  switch (mode & 0o170000) {
    case 0o040000:
      return "directory";
    case 0o120000:
      return "symlink";
    case 0o140000:
      return "socket";
    case 0o020000:
      return "char";
    case 0o060000:
      return "block";
    case 0o010000:
      return "fifo";
    default:
      return "file";
  }
}

/**
 * file_class (§1.4.5, §1.6.6 with the §8.1 fix) of one file, from librpm's FILECLASS string:
 * the class dictionary entry, or — when there is none (no dictionary, an empty or out-of-range
 * entry) — the class librpm ≥ 4.13 synthesises from the mode (`directory`, `symbolic link to …`,
 * `socket`, …; "" for regular files, which the reference maps to `file`). So without a class
 * string the class is the file's type. A known libmagic prefix → its class. Any other string —
 * libmagic descriptions such as "ELF 64-bit LSB …", which made the reference fail the whole
 * package — → the class of the mode, so regular files stay `file`.
 */
export function fileClass(classString: Uint8Array, mode: number): FileClass {
  if (classString.length > 0) {
    for (const [prefix, cls] of CLASS_PREFIXES) if (startsWithAscii(classString, prefix)) return cls;
  }
  return classFromMode(mode);
}

/**
 * The FILECLASS string as librpm ≥ 4.14 reports it (makeFClass): the class dictionary entry,
 * or — when that is empty or there is no dictionary — a libmagic-style description of the
 * file type ("directory", "symbolic link to `target'", …; "" for regular files).
 */
export function fileClassInfo(files: RpmFiles, i: number): Uint8Array {
  const raw = files.classes.get(i);
  if (raw.length > 0) return raw;
  switch (files.modes[i] & 0o170000) {
    case 0o060000:
      return utf8("block special");
    case 0o020000:
      return utf8("character special");
    case 0o040000:
      return utf8("directory");
    case 0o010000:
      return utf8("fifo (named pipe)");
    case 0o140000:
      return utf8("socket");
    case 0o120000:
      return concatBytes(concatBytes(utf8("symbolic link to `"), files.linktos.get(i)), utf8("'"));
    default:
      return EMPTY;
  }
}

/** file_class of every file of a package. */
export function fileClasses(pkg: RpmPackage): FileClass[] {
  const f = pkg.files;
  const out = new Array<FileClass>(f.count);
  if (!f.hasClassDict) {
    for (let i = 0; i < f.count; i++) out[i] = classFromMode(f.modes[i]);
    return out;
  }
  for (let i = 0; i < f.count; i++) out[i] = fileClass(f.classes.get(i), f.modes[i]);
  return out;
}
