/**
 * Field-by-field comparison of our dump with the librpm oracle (tests/rpm/oracle.py).
 * Shared by the oracle tests and the fixture oracle tests.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { DumpedPackage } from "../../src/rpm/index.ts";

export const PYTHON = "/usr/bin/python3";
export const ORACLE = join(import.meta.dir, "oracle.py");

export type OracleRecord = Record<string, unknown> & { path: string; ok: boolean; error?: string };

/** Run the oracle once over all files; records keyed by path. */
export function runOracle(files: string[], mode: string[] = []): Map<string, OracleRecord> {
  const r = spawnSync(PYTHON, [ORACLE, ...mode, ...files], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`oracle failed: ${r.stderr}`);
  const out = new Map<string, OracleRecord>();
  for (const line of r.stdout.split("\n")) {
    if (!line) continue;
    const rec = JSON.parse(line) as OracleRecord;
    out.set(rec.path, rec);
  }
  return out;
}

export function oracleAvailable(): boolean {
  const r = spawnSync(PYTHON, ["-c", "import rpm"], { encoding: "utf8" });
  return r.status === 0;
}

const SCALAR_STR = [
  "name", "version", "release", "arch", "os", "sourcerpm", "buildhost", "packager", "vendor", "license", "group",
  "url", "summary", "description", "distribution", "disttag", "rpmversion", "cookie", "optflags", "disturl",
  "payloadformat", "payloadcompressor", "payloadflags", "platform", "vcs", "prein", "postin", "preun", "postun",
  "pretrans", "posttrans", "verifyscript",
];
const STR_ARRAYS = [
  "buildarchs", "prefixes", "instprefixes", "preinprog", "postinprog", "preunprog", "postunprog", "pretransprog",
  "posttransprog", "verifyscriptprog",
];
const BINS = ["sigmd5", "siggpg", "gif", "xpm", "icon"];

type O = Record<string, unknown>;

function eq(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Differences between our dump and the oracle record, as readable strings ("field: ours ≠ librpm"). */
export function diffPackage(ours: DumpedPackage, lib: O): string[] {
  const d: string[] = [];
  const check = (field: string, a: unknown, b: unknown) => {
    if (!eq(a, b)) d.push(`${field}: ${JSON.stringify(a)?.slice(0, 200)} ≠ librpm ${JSON.stringify(b)?.slice(0, 200)}`);
  };
  for (const k of SCALAR_STR) check(k, ours[k], lib[k] ?? "");
  for (const k of STR_ARRAYS) check(k, ours[k], lib[k]);
  for (const k of BINS) check(k, ours[k], lib[k] ?? "");
  check("epoch", ours.epoch, lib.epoch);
  check("buildtime", ours.buildtime, lib.buildtime);
  // SIZE only: librpm reports none for packages that carry only LONGSIZE (v6, > 4 GiB), and so
  // does the reference (pkg_size 0).
  check("size", ours.size, lib.size);
  check("archivesize", ours.archivesize, lib.archivesize ?? lib.longarchivesize);
  check("sigsize", ours.sigsize, lib.sigsize ?? lib.longsigsize);
  check("sha1header", ours.sha1header, lib.sha1header ?? "");
  check("sourcepackage", ours.sourcepackage, Boolean(lib.sourcepackage));
  diffFiles(ours, lib.files as O, check);
  for (const kind of ["requires", "provides", "conflicts", "obsoletes"] as const) {
    const l = lib[kind] as O;
    const o = ours[kind];
    check(`${kind}.names`, o.map((x) => x.name), l.names);
    check(`${kind}.flags`, o.map((x) => x.flags), orDefault(l.flags as unknown[], o.length, 0));
    check(`${kind}.versions`, o.map((x) => x.version), orDefault(l.versions as unknown[], o.length, ""));
  }
  const c = lib.changelog as O;
  check("changelog.times", ours.changelog.map((x) => x.time), c.times);
  check("changelog.texts", ours.changelog.map((x) => x.text), c.texts);
  check("changelog.names", ours.changelog.map((x) => x.name), c.names);
  return d;
}

/** librpm gives [] for a missing per-item tag; our model fills the column with defaults. */
function orDefault(l: unknown[], n: number, def: unknown): unknown[] {
  return l.length === 0 && n > 0 ? new Array(n).fill(def) : l;
}

function diffFiles(ours: DumpedPackage, lib: O, check: (f: string, a: unknown, b: unknown) => void): void {
  const f = ours.files;
  const n = f.length;
  check("files.names", f.map((x) => x.path), lib.names);
  const cols: [keyof (typeof f)[number], string, unknown][] = [
    ["size", "sizes", 0], ["mode", "modes", 0], ["rdev", "rdevs", 0], ["mtime", "mtimes", 0],
    ["digest", "digests", ""], ["linkto", "linktos", ""], ["flags", "flags", 0], ["user", "users", ""],
    ["group", "groups", ""], ["verifyflags", "verifyflags", 0], ["device", "devices", 0], ["inode", "inodes", 0],
    ["lang", "langs", ""], ["classinfo", "classes", ""],
  ];
  for (const [ours_k, lib_k, def] of cols) {
    check(`files.${lib_k}`, f.map((x) => x[ours_k]), orDefault(lib[lib_k] as unknown[], n, def));
  }
  const modes = orDefault(lib.modes as unknown[], n, 0) as number[];
  const libClasses = orDefault(lib.classes as unknown[], n, "") as string[];
  check("files.class", f.map((x) => x.class), libClasses.map((c, i) => expectedFileClass(c, modes[i])));
}

const CLASS_PREFIXES: [string, string][] = [
  ["directory", "directory"], ["symbolic link to", "symlink"], ["socket", "socket"], ["character special", "char"],
  ["block special", "block"], ["fifo (named pipe)", "fifo"], ["file", "file"],
];
const MODE_CLASS: Record<number, string> = {
  0o040000: "directory", 0o120000: "symlink", 0o140000: "socket", 0o020000: "char", 0o060000: "block", 0o010000: "fifo",
};

/**
 * Files.file_class from librpm's FILECLASS string, as the reference's convert_file_class maps it
 * (§1.6.6): "" → file, a known prefix → its class; an unknown libmagic string (which failed the
 * reference's insert) → the class of the mode (our deliberate §8.1 fix).
 */
export function expectedFileClass(librpmClass: string, mode: number): string {
  if (librpmClass === "") return "file";
  for (const [p, c] of CLASS_PREFIXES) if (librpmClass.startsWith(p)) return c;
  return MODE_CLASS[mode & 0o170000] ?? "file";
}
