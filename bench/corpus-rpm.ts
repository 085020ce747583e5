// Synthetic ALT packages for the scale corpus (bench/corpus.ts): headers written directly (no
// rpmbuild), tiny payloads (an xz stream of stored LZMA2 chunks: valid for `xz -dc`, made
// without spawning anything), shapes drawn from log-normal distributions whose medians and
// spreads come from the real ALT p10 pkglist and the real ALT RPMs in ../shared/corpus-real.
//
// Everything is a pure function of (source index, seed, generation): a worker regenerates any
// package byte for byte, and a "next day" snapshot changes only the sources whose generation
// is bumped.
import { createHash } from "node:crypto";
import { encodeHeader, encodeHeaderWithRegion, RpmType, Tag, type HeaderEntry } from "../tests/fixtures/header-codec.ts";
import { PKGLIST_TAGS, SRCLIST_TAGS } from "../tests/fixtures/aptlist.ts";

export const BASE_TIME = 1764547200; // 2025-12-01
const enc = new TextEncoder();

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal draw: `median` × e^(sigma·N(0,1)), rounded and clamped. */
export function lognormal(rnd: () => number, median: number, sigma: number, min: number, max: number): number {
  const u = Math.max(rnd(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
  return Math.min(max, Math.max(min, Math.round(median * Math.exp(sigma * z))));
}

/**
 * Shape parameters (median, sigma of the log). Taken from the real material: the p10 pkglist
 * (14 headers: changelog entries median 17, p90 140, max 910; requires median 5) and the real
 * ALT/distro RPMs (squid: 2,284 files, 85 requires, 242 changelog entries); files per package
 * set so that 60k binaries carry ≈ 3M file entries, as Sisyphus does.
 */
export const SHAPES = {
  files: { median: 12, sigma: 1.7, max: 30000 },
  requires: { median: 8, sigma: 0.9, max: 600 },
  provides: { median: 2, sigma: 1.2, max: 3000 },
  changelog: { median: 18, sigma: 1.2, max: 3000 },
  buildRequires: { median: 12, sigma: 0.8, max: 300 },
  subpackages: { median: 2, sigma: 0.9, max: 200 },
};

const WORDS = ("acorn basalt cobalt delta ember fjord garnet harbor iris jasper kelp lumen maple nectar onyx pixel quartz raven sierra " +
  "tundra umber vortex willow xenon yarrow zephyr argon birch cedar dune falcon glacier hazel indigo juniper krypton lotus meteor nimbus orchid").split(" ");
const PREFIXES = ["", "", "", "", "lib", "python3-module-", "perl-", "golang-", "rust-", "ruby-", "node-", "kde6-", "gst-plugins-"];
const PACKAGERS = ["Ivan Petrov <ivan@altlinux.org>", "Дмитрий Иванов <dima@altlinux.org>", "Olga Smirnova <olga@altlinux.org>", "Sergey Volkov <volkov@altlinux.org>", "Мария Кузнецова <maria@altlinux.org>", "Anton Farygin <rider@altlinux.org>"];
const GROUPS = ["System/Libraries", "Development/C", "Development/Python3", "Networking/Other", "Graphics", "Text tools", "System/Base", "Documentation", "System/Servers"];
const SUBKINDS = ["", "-devel", "-doc", "-data", "-utils", "-tools", "-common", "-plugins", "-static", "-devel-static", "-gui", "-server", "-client", "-checkinstall"];
const EXTS = ["so", "h", "py", "pyc", "mo", "png", "svg", "html", "txt", "xml", "json", "pl", "pm", "go", "rs", "conf", "desktop", "1.xz"];
const LANGS = ["ru", "uk", "de", "fr", "es", "it", "ja", "zh_CN", "pt_BR", "pl", "cs", "be"];

/** Per source, the part the planner needs (file names, so that lists can be sorted up front). */
export interface SourcePlan {
  index: number;
  gen: number;
  name: string;
  version: string;
  release: string;
  epoch?: number;
  /** Binary package names and whether each is noarch. */
  binaries: { name: string; noarch: boolean }[];
}

export function planSource(i: number, seed: number, nbin: number, gen: number): SourcePlan {
  const rnd = mulberry32(seed * 1_000_003 + i * 7919);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];
  const word = pick(WORDS);
  const prefix = pick(PREFIXES);
  const name = `${prefix}${word}${i}`;
  const version = `${1 + Math.floor(rnd() * 30)}.${Math.floor(rnd() * 40)}${rnd() < 0.5 ? `.${Math.floor(rnd() * 20)}` : ""}`;
  const release = `alt${1 + Math.floor(rnd() * 4) + gen}`;
  const epoch = rnd() < 0.08 ? 1 + Math.floor(rnd() * 3) : undefined;
  const allNoarch = prefix === "python3-module-" || prefix === "perl-" || prefix === "node-" || rnd() < 0.12;
  const binaries: SourcePlan["binaries"] = [];
  const used = new Set<string>();
  for (let k = 0; k < nbin; k++) {
    let b: string;
    if (k === 0) b = name;
    else if (k === 1 && !name.startsWith("lib")) b = `lib${name}`;
    else b = `${name}${k < SUBKINDS.length ? SUBKINDS[k] : `-module${k}`}`;
    if (used.has(b)) b = `${name}-sub${k}`;
    used.add(b);
    const noarch = allNoarch || b.endsWith("-doc") || b.endsWith("-data") || b.endsWith("-common") || rnd() < 0.08;
    binaries.push({ name: b, noarch });
  }
  return { index: i, gen, name, version, release, epoch, binaries };
}

export function evrOf(p: SourcePlan): string {
  return `${p.epoch !== undefined ? `${p.epoch}:` : ""}${p.version}-${p.release}`;
}
export function srpmFileName(p: SourcePlan): string {
  return `${p.name}-${p.version}-${p.release}.src.rpm`;
}
export function rpmFileName(p: SourcePlan, b: SourcePlan["binaries"][number]): string {
  return `${b.name}-${p.version}-${p.release}.${b.noarch ? "noarch" : "x86_64"}.rpm`;
}

// ---- entries ----------------------------------------------------------------------------------

function str(tag: number, v: string, type: number = RpmType.STRING): HeaderEntry {
  const b = enc.encode(`${v}\0`);
  return { tag, type, count: 1, data: b };
}
function i18n(tag: number, v: string): HeaderEntry {
  return str(tag, v, RpmType.I18NSTRING);
}
function strs(tag: number, vs: readonly string[]): HeaderEntry {
  return { tag, type: RpmType.STRING_ARRAY, count: vs.length, data: enc.encode(vs.length ? `${vs.join("\0")}\0` : "") };
}
function ints(tag: number, vs: ArrayLike<number>): HeaderEntry {
  const data = new Uint8Array(vs.length * 4);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < vs.length; i++) dv.setUint32(i * 4, vs[i] >>> 0);
  return { tag, type: RpmType.INT32, count: vs.length, data };
}
function shorts(tag: number, vs: ArrayLike<number>): HeaderEntry {
  const data = new Uint8Array(vs.length * 2);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < vs.length; i++) dv.setUint16(i * 2, vs[i] & 0xffff);
  return { tag, type: RpmType.INT16, count: vs.length, data };
}

function hex(rnd: () => number, n: number): string {
  let s = "";
  while (s.length < n) s += Math.floor(rnd() * 0x100000000).toString(16).padStart(8, "0");
  return s.slice(0, n);
}

interface Dep {
  name: string;
  flags: number;
  version: string;
}
function depEntries(nameTag: number, flagsTag: number, versionTag: number, deps: Dep[]): HeaderEntry[] {
  if (deps.length === 0) return [];
  return [strs(nameTag, deps.map((d) => d.name)), ints(flagsTag, deps.map((d) => d.flags)), strs(versionTag, deps.map((d) => d.version))];
}

const RPMSENSE_LESS = 2;
const RPMSENSE_GREATER = 4;
const RPMSENSE_EQUAL = 8;
const RPMSENSE_INTERP = 1 << 8;
const RPMSENSE_FIND_REQUIRES = 1 << 14;
const RPMSENSE_RPMLIB = (1 << 24) | RPMSENSE_FIND_REQUIRES;

function setVersion(rnd: () => number): string {
  const abc = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let s = "set:";
  const n = 6 + Math.floor(rnd() * 40);
  for (let i = 0; i < n; i++) s += abc[Math.floor(rnd() * abc.length)];
  return s;
}

function requires(rnd: () => number, n: number, self: string, evr: string): Dep[] {
  const out: Dep[] = [];
  const seen = new Set<string>();
  const add = (d: Dep) => {
    if (!seen.has(d.name)) (seen.add(d.name), out.push(d));
  };
  add({ name: "rpmlib(PayloadIsXz)", flags: RPMSENSE_RPMLIB | RPMSENSE_LESS | RPMSENSE_EQUAL, version: "5.2-1" });
  if (rnd() < 0.3) add({ name: "/bin/sh", flags: RPMSENSE_INTERP, version: "" });
  if (rnd() < 0.3) add({ name: self.replace(/-(devel|doc|data|utils|tools|common|plugins|static|gui|server|client)$/, ""), flags: RPMSENSE_EQUAL, version: evr });
  while (out.length < n) {
    const r = rnd();
    const w = WORDS[Math.floor(rnd() * WORDS.length)] + Math.floor(rnd() * 20000);
    if (r < 0.55) add({ name: `lib${w}.so.${Math.floor(rnd() * 9)}()(64bit)`, flags: 0, version: rnd() < 0.4 ? setVersion(rnd) : "" });
    else if (r < 0.8) add({ name: `${w}`, flags: rnd() < 0.4 ? RPMSENSE_GREATER | RPMSENSE_EQUAL : 0, version: "" });
    else if (r < 0.9) add({ name: `python3(${w})`, flags: 0, version: "" });
    else add({ name: `perl(${w}.pm)`, flags: rnd() < 0.3 ? RPMSENSE_GREATER | RPMSENSE_EQUAL : 0, version: "" });
    if (out.length < n && out[out.length - 1].flags & RPMSENSE_GREATER) out[out.length - 1].version = `${1 + Math.floor(rnd() * 9)}.${Math.floor(rnd() * 20)}`;
  }
  return out;
}

function provides(rnd: () => number, n: number, self: string, evr: string, soname: string): Dep[] {
  const out: Dep[] = [{ name: self, flags: RPMSENSE_EQUAL, version: evr }];
  for (let k = 1; k < n; k++) {
    const r = rnd();
    if (r < 0.5) out.push({ name: `${soname}.so.${k}()(64bit)`, flags: 0, version: rnd() < 0.7 ? setVersion(rnd) : "" });
    else if (r < 0.75) out.push({ name: `python3(${self.replace(/\W/g, "_")}.m${k})`, flags: 0, version: "" });
    else out.push({ name: `${self}-cap${k}`, flags: RPMSENSE_EQUAL, version: evr });
  }
  return out;
}

interface Changelog {
  times: number[];
  names: string[];
  texts: string[];
}

function changelog(rnd: () => number, n: number, p: SourcePlan, packager: string, buildTime: number): Changelog {
  const c: Changelog = { times: [], names: [], texts: [] };
  let t = buildTime - 3600;
  const lines = ["Updated to new upstream release.", "Fixed build with gcc15.", "Rebuilt with new toolchain.", "Исправлены зависимости.", "Spec cleanup.", "Applied security fixes (CVE-2025-%d).", "Closes: #%d"];
  for (let k = 0; k < n; k++) {
    const who = k === 0 ? packager : PACKAGERS[Math.floor(rnd() * PACKAGERS.length)];
    const v = k === 0 ? evrOf(p) : `${Math.max(0, Number(p.version.split(".")[0]) - Math.floor(k / 5))}.${(n - k) % 30}-alt${1 + (k % 3)}`;
    const nl = 1 + Math.floor(rnd() * 3);
    const text: string[] = [];
    for (let j = 0; j < nl; j++) text.push(`- ${lines[Math.floor(rnd() * lines.length)].replace("%d", String(10000 + Math.floor(rnd() * 50000)))}`);
    c.times.push(Math.floor(t / 86400) * 86400 + 43200);
    c.names.push(`${who} ${v}`);
    c.texts.push(text.join("\n"));
    t -= 86400 * (3 + Math.floor(rnd() * 120));
  }
  return c;
}

interface FileList {
  dirs: string[];
  dirIndexes: number[];
  basenames: string[];
  modes: number[];
  sizes: number[];
  md5s: string[];
  linktos: string[];
  flags: number[];
}

function fileList(rnd: () => number, n: number, pkg: string, word: string, version: string): FileList {
  const f: FileList = { dirs: [], dirIndexes: [], basenames: [], modes: [], sizes: [], md5s: [], linktos: [], flags: [] };
  if (n === 0) return f;
  const ndirs = Math.max(1, Math.min(n, Math.round(Math.pow(n, 0.6))));
  const roots = [`/usr/share/${pkg}/`, `/usr/lib64/${pkg}/`, `/usr/share/doc/${pkg}-${version}/`, `/usr/lib/python3/site-packages/${word}/`, `/usr/include/${pkg}/`];
  const fixed = ["/usr/bin/", "/usr/lib64/", "/etc/", "/usr/share/man/man1/"];
  for (let d = 0; d < ndirs; d++) {
    if (d < fixed.length && rnd() < 0.5) f.dirs.push(fixed[d]);
    else if (rnd() < 0.15) f.dirs.push(`/usr/share/locale/${LANGS[d % LANGS.length]}/LC_MESSAGES/`);
    else f.dirs.push(`${roots[d % roots.length]}${d >= roots.length ? `sub${d}/` : ""}`);
  }
  const uniq = [...new Set(f.dirs)];
  f.dirs = uniq;
  const names = new Set<string>();
  for (let k = 0; k < n; k++) {
    const di = k < uniq.length ? k : Math.floor(rnd() * uniq.length);
    const dir = uniq[di];
    let base = dir === "/usr/bin/" ? `${word}${k}` : dir.includes("LC_MESSAGES") ? `${pkg}.mo` : `${word}_${k}.${EXTS[Math.floor(rnd() * EXTS.length)]}`;
    if (names.has(dir + base)) base = `${k}-${base}`;
    names.add(dir + base);
    const link = rnd() < 0.05;
    f.dirIndexes.push(di);
    f.basenames.push(base);
    f.modes.push(link ? 0o120777 : dir.endsWith("/bin/") || base.endsWith(".so") ? 0o100755 : 0o100644);
    f.sizes.push(link ? base.length + 4 : lognormal(rnd, 3000, 2, 0, 50_000_000));
    f.md5s.push(link ? "" : hex(rnd, 32));
    f.linktos.push(link ? `../${base}.real` : "");
    f.flags.push(dir.startsWith("/etc/") ? 1 | 16 : dir.startsWith("/usr/share/doc/") ? 2 : 0);
  }
  return f;
}

function fileEntries(f: FileList, mtime: number): HeaderEntry[] {
  const n = f.basenames.length;
  if (n === 0) return [];
  const fill = (v: number) => new Array<number>(n).fill(v);
  const strFill = (v: string) => new Array<string>(n).fill(v);
  return [
    ints(1028, f.sizes),
    shorts(1030, f.modes),
    shorts(1033, fill(0)),
    ints(1034, fill(mtime)),
    strs(1035, f.md5s),
    strs(1036, f.linktos),
    ints(1037, f.flags),
    strs(1039, strFill("root")),
    strs(1040, strFill("root")),
    ints(1045, fill(0xffffffff)),
    ints(1095, fill(1)),
    ints(1096, Array.from({ length: n }, (_, i) => i + 1)),
    strs(1097, strFill("")),
    ints(Tag.DIRINDEXES, f.dirIndexes),
    strs(Tag.BASENAMES, f.basenames),
    strs(Tag.DIRNAMES, f.dirs),
  ];
}

// ---- payload: cpio newc inside an xz stream of stored LZMA2 chunks ---------------------------

function cpioNewc(files: { name: string; data: Uint8Array; mode: number; mtime: number }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array) => (parts.push(b), (size += b.length));
  const pad = () => {
    if (size % 4) push(new Uint8Array(4 - (size % 4)));
  };
  const h8 = (v: number) => (v >>> 0).toString(16).padStart(8, "0");
  const entry = (name: string, data: Uint8Array, mode: number, mtime: number, ino: number) => {
    const nb = enc.encode(name);
    push(enc.encode(`070701${h8(ino)}${h8(mode)}${h8(0)}${h8(0)}${h8(1)}${h8(mtime)}${h8(data.length)}${h8(0)}${h8(0)}${h8(0)}${h8(0)}${h8(nb.length + 1)}${h8(0)}`));
    push(nb);
    push(new Uint8Array(1));
    pad();
    push(data);
    pad();
  };
  files.forEach((f, i) => entry(f.name, f.data, f.mode, f.mtime, i + 1));
  entry("TRAILER!!!", new Uint8Array(0), 0, 0, 0);
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function le32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}
function varint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) (out.push((v & 0x7f) | 0x80), (v = Math.floor(v / 128)));
  out.push(v);
  return out;
}
const crc32 = (b: Uint8Array) => Number(Bun.hash.crc32(b));

/** An .xz stream (CRC32 check) holding `data` in uncompressed LZMA2 chunks. */
export function xzStored(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  const push = (b: ArrayLike<number>) => {
    for (let i = 0; i < b.length; i++) out.push(b[i]);
  };
  const flags = Uint8Array.of(0, 1);
  push([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  push(flags);
  push(le32(crc32(flags)));
  const bh = Uint8Array.of(2, 0x00, 0x21, 0x01, 16, 0, 0, 0); // size (12/4-1), flags, LZMA2, 1 prop byte, dict 1 MiB, padding
  push(bh);
  push(le32(crc32(bh)));
  const blockStart = out.length - 12;
  for (let o = 0; o < data.length; o += 65536) {
    const n = Math.min(65536, data.length - o);
    push([o === 0 ? 1 : 2, (n - 1) >> 8, (n - 1) & 0xff]);
    push(data.subarray(o, o + n));
  }
  push([0]);
  const unpadded = out.length - blockStart;
  while ((out.length - blockStart) % 4) out.push(0);
  push(le32(crc32(data)));
  const index = [0, ...varint(1), ...varint(unpadded + 4), ...varint(data.length)];
  while (index.length % 4) index.push(0);
  const ib = Uint8Array.from(index);
  push(ib);
  push(le32(crc32(ib)));
  const footer = new Uint8Array(6);
  footer.set(le32((ib.length + 4) / 4 - 1), 0);
  footer.set(flags, 4);
  push(le32(crc32(footer)));
  push(footer);
  push([0x59, 0x5a]);
  return Uint8Array.from(out);
}

// ---- whole packages ---------------------------------------------------------------------------

function lead(nevr: string, source: boolean): Uint8Array {
  const b = new Uint8Array(96);
  const dv = new DataView(b.buffer);
  b.set([0xed, 0xab, 0xee, 0xdb, 3, 0]);
  dv.setUint16(6, source ? 1 : 0);
  dv.setUint16(8, 1);
  b.set(enc.encode(nevr).subarray(0, 65), 10);
  dv.setUint16(76, 1);
  dv.setUint16(78, 5);
  return b;
}

function assemble(nevr: string, source: boolean, entries: HeaderEntry[], payload: Uint8Array): Uint8Array {
  const header = encodeHeaderWithRegion(entries, Tag.HEADERIMMUTABLE);
  const md5 = createHash("md5").update(header).update(payload).digest();
  const sig = encodeHeaderWithRegion(
    [str(Tag.SHA1HEADER, createHash("sha1").update(header).digest("hex")), ints(Tag.SIG_SIZE, [header.length + payload.length]), { tag: Tag.SIG_MD5, type: RpmType.BIN, count: 16, data: new Uint8Array(md5) }],
    Tag.HEADERSIGNATURES,
  );
  const hsize = new DataView(sig.buffer).getUint32(12);
  const pad = (8 - (hsize % 8)) % 8;
  const out = new Uint8Array(96 + sig.length + pad + header.length + payload.length);
  out.set(lead(nevr, source), 0);
  out.set(sig, 96);
  out.set(header, 96 + sig.length + pad);
  out.set(payload, 96 + sig.length + pad + header.length);
  return out;
}

export interface GeneratedPackage {
  file: string;
  source: boolean;
  /** `src`, `x86_64` or `noarch`. */
  arch: string;
  name: string;
  evr: string;
  sourcerpm: string;
  bytes: Uint8Array;
  /** Entries an apt list copies (pkglist or srclist tags), file list stripped like genpkglist. */
  listEntries: HeaderEntry[];
  headerBytes: number;
  files: number;
  requires: number;
  changelog: number;
}

const EMPTY_BINARY_PAYLOAD = xzStored(cpioNewc([]));

function common(p: SourcePlan, rnd: () => number, name: string, summary: string, group: string, buildTime: number, packager: string, arch: string): HeaderEntry[] {
  const e: HeaderEntry[] = [
    strs(Tag.HEADERI18NTABLE, ["C"]),
    str(Tag.NAME, name),
    str(Tag.VERSION, p.version),
    str(Tag.RELEASE, p.release),
    i18n(Tag.SUMMARY, summary),
    i18n(Tag.DESCRIPTION, `${summary}.\n${"This package is part of a generated Sisyphus-sized snapshot used to measure altrepodb. ".repeat(1 + Math.floor(rnd() * 5))}`),
    ints(Tag.BUILDTIME, [buildTime]),
    str(Tag.BUILDHOST, `build${Math.floor(rnd() * 40)}.hasher.altlinux.org`),
    str(Tag.DISTRIBUTION, "ALT Sisyphus"),
    str(Tag.VENDOR, "ALT Linux Team"),
    str(Tag.LICENSE, ["GPLv2+", "LGPLv2.1+", "MIT", "BSD-3-Clause", "Apache-2.0"][Math.floor(rnd() * 5)]),
    str(Tag.PACKAGER, packager),
    i18n(Tag.GROUP, group),
    str(Tag.URL, `https://example.org/${p.name}`),
    str(Tag.OS, "linux"),
    str(Tag.ARCH, arch),
    str(1064, "4.0.4"),
    str(1122, "-pipe -frecord-gcc-switches -Wall -g -O2"),
    str(1124, "cpio"),
    str(Tag.PAYLOADCOMPRESSOR, "xz"),
    str(1126, "2"),
    str(Tag.DISTTAG, `sisyphus+${350000 + p.index}.${100 + p.gen * 100}.1.1`),
  ];
  if (p.epoch !== undefined) e.push(ints(Tag.EPOCH, [p.epoch]));
  return e;
}

function changelogEntries(c: Changelog): HeaderEntry[] {
  return c.times.length ? [ints(Tag.CHANGELOGTIME, c.times), strs(Tag.CHANGELOGNAME, c.names), strs(Tag.CHANGELOGTEXT, c.texts)] : [];
}

function useful(dir: string, base: string): boolean {
  return dir.endsWith("/bin/") || dir.endsWith("/sbin/") || (base.startsWith("lib") && base.indexOf(".so", 3) >= 0) || base.endsWith(".jar");
}

function listEntriesOf(entries: HeaderEntry[], tags: readonly number[], f?: FileList): HeaderEntry[] {
  const want = new Set(tags);
  const out = entries.filter((e) => want.has(e.tag));
  if (f && f.basenames.length) {
    const dirs: string[] = [];
    const map = new Map<number, number>();
    const idx: number[] = [];
    const bases: string[] = [];
    f.basenames.forEach((b, i) => {
      const d = f.dirIndexes[i];
      if (!useful(f.dirs[d], b)) return;
      let j = map.get(d);
      if (j === undefined) (map.set(d, (j = dirs.length)), dirs.push(f.dirs[d]));
      idx.push(j);
      bases.push(b);
    });
    if (bases.length) out.push(ints(Tag.DIRINDEXES, idx), strs(Tag.BASENAMES, bases), strs(Tag.DIRNAMES, dirs));
  }
  return out;
}

/** The source package and its binaries, bytes included. */
export function generateSource(p: SourcePlan, seed: number): GeneratedPackage[] {
  const rnd = mulberry32(seed * 7_000_003 + p.index * 104_729 + p.gen * 13);
  const word = p.name.replace(/^(lib|python3-module-|perl-|golang-|rust-|ruby-|node-|kde6-|gst-plugins-)/, "").replace(/\d+$/, "");
  const packager = PACKAGERS[Math.floor(rnd() * PACKAGERS.length)];
  const buildTime = BASE_TIME - p.index * 61 + p.gen * 86400;
  const group = GROUPS[Math.floor(rnd() * GROUPS.length)];
  const evr = evrOf(p);
  const srpm = srpmFileName(p);
  const chlog = changelog(rnd, lognormal(rnd, SHAPES.changelog.median, SHAPES.changelog.sigma, 1, SHAPES.changelog.max), p, packager, buildTime);
  const out: GeneratedPackage[] = [];

  // source package: spec + tarball + patches
  const nbr = lognormal(rnd, SHAPES.buildRequires.median, SHAPES.buildRequires.sigma, 0, SHAPES.buildRequires.max);
  const breq = requires(rnd, nbr, p.name, evr).filter((d) => !d.name.startsWith("lib") || rnd() < 0.3);
  const specText = [
    `Name: ${p.name}`, `Version: ${p.version}`, `Release: ${p.release}`, ...(p.epoch !== undefined ? [`Epoch: ${p.epoch}`] : []),
    `Summary: ${word} (generated)`, "License: GPLv2+", `Group: ${group}`, `Url: https://example.org/${p.name}`, `Source: %name-%version.tar`,
    ...breq.map((d) => `BuildRequires: ${d.name}${d.version ? ` >= ${d.version}` : ""}`),
    ...p.binaries.slice(1).flatMap((b) => ["", `%package -n ${b.name}`, `Summary: ${b.name}`, `Group: ${group}`, ...(b.noarch ? ["BuildArch: noarch"] : []), "", `%description -n ${b.name}`, `${b.name}.`]),
    "", "%description", `${word}.`, "", "%prep", "%setup", "", "%build", "%make_build", "", "%install", "%makeinstall_std", "", "%files", "%_bindir/*", "",
    "%changelog", ...chlog.times.slice(0, 3).flatMap((t, k) => [`* ${new Date(t * 1000).toUTCString().slice(0, 16)} ${chlog.names[k]}`, chlog.texts[k], ""]),
  ].join("\n");
  const srcFiles = [
    { name: `${p.name}.spec`, data: enc.encode(specText), mode: 0o100644, mtime: buildTime },
    { name: `${p.name}-${p.version}.tar`, data: new Uint8Array(512 + Math.floor(rnd() * 1024)), mode: 0o100644, mtime: buildTime },
  ];
  const npatch = Math.min(40, lognormal(rnd, 1, 1.2, 0, 40)) - 1;
  for (let k = 0; k < npatch; k++) srcFiles.push({ name: `${p.name}-alt-fix${k}.patch`, data: enc.encode(`--- a\n+++ b\n@@ -1 +1 @@\n-${k}\n+${k + 1}\n`), mode: 0o100644, mtime: buildTime });
  const sf: FileList = {
    dirs: [""],
    dirIndexes: srcFiles.map(() => 0),
    basenames: srcFiles.map((f) => f.name),
    modes: srcFiles.map((f) => f.mode),
    sizes: srcFiles.map((f) => f.data.length),
    md5s: srcFiles.map((f) => createHash("md5").update(f.data).digest("hex")),
    linktos: srcFiles.map(() => ""),
    flags: srcFiles.map((_, i) => (i === 0 ? 32 : 0)),
  };
  const srcEntries = [
    ...common(p, rnd, p.name, `${word} (generated)`, group, buildTime, packager, "x86_64"),
    ints(Tag.SIZE, [sf.sizes.reduce((a, b) => a + b, 0)]),
    ints(Tag.SOURCEPACKAGE, [1]),
    ...depEntries(Tag.REQUIRENAME, Tag.REQUIREFLAGS, Tag.REQUIREVERSION, breq),
    ...fileEntries(sf, buildTime),
    ...changelogEntries(chlog),
  ];
  const srcPayload = xzStored(cpioNewc(srcFiles));
  const srcBytes = assemble(`${p.name}-${p.version}-${p.release}`, true, srcEntries, srcPayload);
  out.push({
    file: srpm, source: true, arch: "src", name: p.name, evr, sourcerpm: srpm, bytes: srcBytes,
    listEntries: listEntriesOf(srcEntries, SRCLIST_TAGS), headerBytes: srcBytes.length - srcPayload.length, files: srcFiles.length, requires: breq.length, changelog: chlog.times.length,
  });

  for (const b of p.binaries) {
    const arch = b.noarch ? "noarch" : "x86_64";
    const nfiles = rnd() < 0.04 ? 0 : lognormal(rnd, SHAPES.files.median, SHAPES.files.sigma, 1, SHAPES.files.max);
    const f = fileList(rnd, nfiles, b.name, word, p.version);
    const req = requires(rnd, lognormal(rnd, SHAPES.requires.median, SHAPES.requires.sigma, 1, SHAPES.requires.max), b.name, evr);
    const prov = provides(rnd, lognormal(rnd, SHAPES.provides.median, SHAPES.provides.sigma, 1, SHAPES.provides.max), b.name, evr, `lib${word}${p.index}`);
    const e = [
      ...common(p, rnd, b.name, `${b.name} (generated)`, group, buildTime, packager, arch),
      ints(Tag.SIZE, [f.sizes.reduce((a, x) => a + x, 0)]),
      str(Tag.SOURCERPM, srpm),
      ints(1046, [EMPTY_BINARY_PAYLOAD.length]),
      ...depEntries(Tag.REQUIRENAME, Tag.REQUIREFLAGS, Tag.REQUIREVERSION, req),
      ...depEntries(Tag.PROVIDENAME, Tag.PROVIDEFLAGS, Tag.PROVIDEVERSION, prov),
      ...fileEntries(f, buildTime),
      ...changelogEntries(chlog),
    ];
    if (rnd() < 0.1) e.push(...depEntries(Tag.OBSOLETENAME, Tag.OBSOLETEFLAGS, Tag.OBSOLETEVERSION, [{ name: `${b.name}-old`, flags: RPMSENSE_LESS, version: evr }]));
    if (rnd() < 0.05) e.push(...depEntries(Tag.CONFLICTNAME, Tag.CONFLICTFLAGS, Tag.CONFLICTVERSION, [{ name: `${word}-legacy`, flags: 0, version: "" }]));
    if (rnd() < 0.15) e.push(str(1024, "/sbin/ldconfig"), str(1086, "/bin/sh"));
    const bytes = assemble(`${b.name}-${p.version}-${p.release}`, false, e, EMPTY_BINARY_PAYLOAD);
    out.push({
      file: rpmFileName(p, b), source: false, arch, name: b.name, evr, sourcerpm: srpm, bytes,
      listEntries: listEntriesOf(e, PKGLIST_TAGS, f), headerBytes: bytes.length - EMPTY_BINARY_PAYLOAD.length, files: nfiles, requires: req.length, changelog: chlog.times.length,
    });
  }
  return out;
}

/** The apt list header of a package: its list entries plus the CRPMTAG_* entries. */
export function listHeader(g: GeneratedPackage, directory: string, md5: string, blake2b: string, binaries?: string[]): Uint8Array {
  const e = [...g.listEntries, str(Tag.CRPM_FILENAME, g.file), ints(Tag.CRPM_FILESIZE, [g.bytes.length]), str(Tag.CRPM_MD5, md5), str(Tag.CRPM_DIRECTORY, directory), str(Tag.CRPM_BLAKE2B, blake2b)];
  if (binaries?.length) e.push(strs(Tag.CRPM_BINARY, binaries));
  return encodeHeader(e);
}
