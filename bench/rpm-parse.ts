/**
 * RPM header parsing throughput: `bun bench/rpm-parse.ts [DIR] [--min N]`.
 *
 * Reads every RPM below DIR (default: the shared real corpus), repeated to at least N packages
 * (default 2,000), and turns each into a full DB row set on one core: all package fields,
 * files, dependencies, changelog (with its mmhash), file classes, packager split and pkg_hash.
 * In the same run, python3-rpm (librpm 4.18, via /usr/bin/python3) reads the same fields of the
 * same files (tests/rpm/oracle.py --bench); both rates and their ratio are printed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  changelogEntries,
  fileClasses,
  pkgArch,
  pkgCs,
  pkgHash,
  readPackage,
  RpmError,
  type RpmPackage,
  splitPackager,
} from "../src/rpm/index.ts";

const ROOT = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const minIdx = args.indexOf("--min");
const MIN = minIdx >= 0 ? Number(args[minIdx + 1]) : 2000;
const dirArg = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--min");
const DIR = dirArg ?? process.env.ALTREPODB_CORPUS ?? resolve(ROOT, "..", "shared", "corpus-real", "rpm");

function listRpms(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, f))
    .filter((f) => f.includes(".rpm") && statSync(f).isFile())
    .sort();
}

/** Everything the loaders compute per package, touching every value once. */
function fullRow(pkg: RpmPackage): number {
  let n = 0;
  try {
    n += Number(pkgHash(pkg) & 1n);
  } catch (e) {
    if (!(e instanceof RpmError)) throw e;
  }
  n += pkgCs(pkg).length + pkgArch(pkg).length;
  const p = splitPackager(pkg.packager);
  n += p.name.length + p.email.length;
  for (const c of changelogEntries(pkg)) n += Number(c.hash & 1n) + c.name.length + c.evr.length;
  const f = pkg.files;
  const classes = fileClasses(pkg);
  for (let i = 0; i < f.count; i++) {
    n += f.names.size(i) + f.sizes[i] + f.modes[i] + f.digests.size(i) + f.users.size(i) + classes[i].length;
  }
  for (const d of [pkg.requires, pkg.provides, pkg.conflicts, pkg.obsoletes]) {
    for (let i = 0; i < d.count; i++) n += d.names.size(i) + d.flags[i] + d.versions.size(i);
  }
  return n;
}

function readable(files: string[]): string[] {
  return files.filter((f) => {
    try {
      readPackage(f);
      return true;
    } catch {
      return false;
    }
  });
}

const ROUNDS = 5;

/** Best of ROUNDS timed runs over `total` packages (other processes share this machine). */
function measure(files: string[], total: number, work: (path: string) => number): { rate: number; seconds: number } {
  let sink = 0;
  for (const f of files) sink += work(f); // warm-up: JIT and page cache
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < total; i++) sink += work(files[i % files.length]);
    best = Math.min(best, (performance.now() - t0) / 1000);
  }
  if (sink === -1) console.log(sink);
  return { rate: total / best, seconds: best };
}

/** python3-rpm reading the same fields (tests/rpm/oracle.py --bench); best of 3 runs. */
function librpm(files: string[], total: number): { rate: number; seconds: number } | string {
  const oracle = join(ROOT, "tests", "rpm", "oracle.py");
  if (!existsSync("/usr/bin/python3")) return "no /usr/bin/python3";
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 3; r++) {
    const run = spawnSync("/usr/bin/python3", [oracle, "--bench", String(total), ...files], { encoding: "utf8", maxBuffer: 1 << 26 });
    if (run.status !== 0) return `python3-rpm failed: ${run.stderr.trim().split("\n").pop()}`;
    const { packages, seconds } = JSON.parse(run.stdout) as { packages: number; seconds: number };
    best = Math.min(best, seconds / packages);
  }
  return { rate: 1 / best, seconds: best * total };
}

const fmt = (n: number) => Math.round(n).toLocaleString("en").padStart(9);

if (!existsSync(DIR)) {
  console.error(`no such directory: ${DIR}`);
  process.exit(2);
}
const files = readable(listRpms(DIR));
if (files.length === 0) {
  console.error(`no readable RPM below ${DIR}`);
  process.exit(2);
}
const total = Math.max(MIN, files.length);
console.log(`bun ${Bun.version}; ${files.length} RPMs from ${DIR}, ${total} packages per run, one core\n`);

const headers = measure(files, total, (f) => readPackage(f).files.count);
const rows = measure(files, total, (f) => fullRow(readPackage(f)));
const lib = librpm(files, total);

console.log(`altrepodb  headers only (readPackage)        ${fmt(headers.rate)} packages/s`);
console.log(`altrepodb  headers → full rows (+derived)    ${fmt(rows.rate)} packages/s`);
if (typeof lib === "string") {
  console.log(`librpm     (not measured: ${lib})`);
} else {
  console.log(`librpm     python3-rpm, same fields          ${fmt(lib.rate)} packages/s`);
  console.log(`\nratio full rows / librpm: ${(rows.rate / lib.rate).toFixed(2)}×`);
}
