#!/usr/bin/env bun
/**
 * A synthetic Sisyphus-sized snapshot for the scale benches, generated once and cached:
 *
 *   bun bench/corpus.ts [--packages 5000|20000|80000] [--dir DIR] [--workers N] [--self-test]
 *
 * DIR defaults to $ALTREPODB_BENCH_CORPUS or .tmp/bench-corpus/. Under DIR/<packages>-<version>/:
 *   day1/  a snapshot (one source per four packages, x86_64 + noarch, lists and release files
 *          as genbasedir writes them, files/list hash and file lists)
 *   day2/  the next day: 1% of the sources rebuilt (new release, so new file names), the rest
 *          hard-linked from day1, every list rewritten
 *   bad/   day1 with 0.1% of its package files damaged after indexing (truncated, zero-length,
 *          bad lead magic), every other file hard-linked
 *   manifest.json  counts, the damaged files, shape statistics (written last: the cache mark)
 *
 * Packages are written directly (bench/corpus-rpm.ts; no rpmbuild) by worker threads. The
 * self-test has librpm read a sample (`rpm -qp`, `rpm -K`, `rpm2cpio | cpio -t` for a source
 * package) and python3-rpm read the pkglist, and prints the generated shapes beside the real ones.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { lognormal, mulberry32, planSource, SHAPES, srpmFileName, type SourcePlan } from "./corpus-rpm.ts";
import { relPath, type ChunkJob, type PackageRecord } from "./corpus-worker.ts";

const ROOT = resolve(import.meta.dir, "..");
const ARCHS = ["noarch", "x86_64"];

export interface CorpusManifest {
  dir: string;
  packages: number;
  sources: number;
  binaries: number;
  day1: string;
  day2: string;
  bad: string;
  changedSources: number;
  day2Packages: number;
  corrupt: { file: string; kind: string }[];
  seconds: number;
  shapes: Record<string, Quantiles>;
}

interface Quantiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function quantiles(xs: number[]): Quantiles {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0;
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: s[s.length - 1] ?? 0, mean: Math.round(s.reduce((a, b) => a + b, 0) / Math.max(1, s.length)) };
}

function version(): string {
  const h = createHash("sha256");
  for (const f of ["corpus.ts", "corpus-rpm.ts", "corpus-worker.ts"]) h.update(readFileSync(join(import.meta.dir, f)));
  h.update(readFileSync(join(ROOT, "tests", "fixtures", "header-codec.ts")));
  return h.digest("hex").slice(0, 10);
}

/** Binary packages per source: log-normal shape, scaled so they add up to `binaries`. */
function allocate(sources: number, binaries: number, seed: number): number[] {
  const rnd = mulberry32(seed * 31 + 5);
  const raw = Array.from({ length: sources }, () => lognormal(rnd, SHAPES.subpackages.median, SHAPES.subpackages.sigma, 1, SHAPES.subpackages.max));
  const sum = raw.reduce((a, b) => a + b, 0);
  const k = raw.map((x) => Math.max(1, Math.round((x * binaries) / sum)));
  let diff = binaries - k.reduce((a, b) => a + b, 0);
  while (diff !== 0) {
    const i = Math.floor(rnd() * sources);
    if (diff > 0) (k[i]++, diff--);
    else if (k[i] > 1) (k[i]--, diff++);
  }
  return k;
}

async function runChunks(jobs: ChunkJob[], workers: number): Promise<PackageRecord[][]> {
  const results: PackageRecord[][] = new Array(jobs.length);
  let next = 0;
  const one = async () => {
    const w = new Worker(new URL("./corpus-worker.ts", import.meta.url).href);
    try {
      while (next < jobs.length) {
        const i = next++;
        results[i] = await new Promise<PackageRecord[]>((res, rej) => {
          w.onmessage = (ev: MessageEvent<{ ok: boolean; records?: PackageRecord[]; error?: string }>) => (ev.data.ok ? res(ev.data.records ?? []) : rej(new Error(ev.data.error)));
          w.onerror = (e) => rej(new Error(e.message));
          w.postMessage(jobs[i]);
        });
      }
    } finally {
      w.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, one));
  return results;
}

/** Streams `parts` (files, concatenated) through `xz` into `out`; returns the raw size and digests. */
async function xzConcat(parts: string[], out: string): Promise<{ size: number; md5: string; blake2b: string }> {
  const md5 = createHash("md5");
  const b2 = createHash("blake2b512");
  let size = 0;
  const fd = openSync(out, "w");
  const child = spawn("xz", ["-T2", "-2", "-c"], { stdio: ["pipe", fd, "inherit"] });
  const done = new Promise<number | null>((res) => child.on("close", res));
  const stdin = child.stdin!;
  for (const p of parts) {
    if (!existsSync(p)) continue;
    const b = readFileSync(p);
    md5.update(b);
    b2.update(b);
    size += b.length;
    if (!stdin.write(b)) await new Promise((r) => stdin.once("drain", r));
  }
  stdin.end();
  const code = await done;
  closeSync(fd);
  if (code !== 0) throw new Error(`xz failed for ${out}`);
  return { size, md5: md5.digest("hex"), blake2b: b2.digest("hex") };
}

function xzText(text: string, out: string): void {
  const r = Bun.spawnSync(["xz", "-T2", "-2", "-c"], { stdin: new TextEncoder().encode(text), stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`xz failed for ${out}`);
  writeFileSync(out, r.stdout);
}

function digestOf(path: string): { size: number; md5: string; blake2b: string } {
  const b = readFileSync(path);
  return { size: b.length, md5: createHash("md5").update(b).digest("hex"), blake2b: createHash("blake2b512").update(b).digest("hex") };
}

/** One snapshot tree: packages by the workers, then lists, release files and links. */
async function writeDay(root: string, plans: SourcePlan[], nbins: number[], seed: number, workers: number, linkFrom: string | undefined, tmp: string, stamp: number): Promise<PackageRecord[]> {
  rmSync(root, { recursive: true, force: true });
  for (const d of ["files/SRPMS", "files/list", ...ARCHS.flatMap((a) => [`files/${a}/RPMS`, `${a}/base`, `${a}/RPMS.classic`])]) mkdirSync(join(root, d), { recursive: true });
  const order = plans.map((p) => p.index).sort((a, b) => (srpmFileName(plans[a]) < srpmFileName(plans[b]) ? -1 : 1));
  const CHUNK = 250;
  const jobs: ChunkJob[] = [];
  for (let c = 0; c * CHUNK < order.length; c++) {
    const ids = order.slice(c * CHUNK, (c + 1) * CHUNK);
    jobs.push({ root, linkFrom, seed, chunkFile: join(tmp, `chunk-${String(c).padStart(5, "0")}`), sources: ids.map((i) => ({ index: i, nbin: nbins[i], gen: plans[i].gen })) });
  }
  const records = (await runChunks(jobs, workers)).flat();

  const srcRaw = await xzConcat(jobs.map((j) => `${j.chunkFile}.src`), join(root, ARCHS[0], "base", "srclist.classic.xz"));
  for (const a of ARCHS.slice(1)) linkSync(join(root, ARCHS[0], "base", "srclist.classic.xz"), join(root, a, "base", "srclist.classic.xz"));
  const pkRaw: Record<string, { size: number; md5: string; blake2b: string }> = {};
  for (const a of ARCHS) pkRaw[a] = await xzConcat(jobs.map((j) => `${j.chunkFile}.${a}`), join(root, a, "base", "pkglist.classic.xz"));
  for (const j of jobs) for (const k of ["src", ...ARCHS]) rmSync(`${j.chunkFile}.${k}`, { force: true });

  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const srcs = records.filter((r) => r.arch === "src").sort((x, y) => cmp(x.file, y.file));
  const list = join(root, "files", "list");
  writeFileSync(join(list, "task.info"), `task ${340000 + stamp}\nprev ${339990 + stamp}\n`);
  xzText(srcs.map((r) => `${r.sha256}  ${r.file}\n`).join(""), join(list, "src.hash.xz"));
  for (const a of ARCHS) xzText(records.filter((r) => r.arch === a).sort((x, y) => cmp(x.file, y.file)).map((r) => `${r.sha256}  ${r.file}\n`).join(""), join(list, `${a}.hash.xz`));
  xzText(srcs.map((r) => `${r.name}\t${r.evr}\t${r.file}\n`).sort(cmp).join(""), join(list, "src.list.xz"));
  xzText(records.filter((r) => r.arch !== "src").map((r) => `${r.name}\t${r.evr}\t${r.arch}\t${r.file}\t${r.sourcerpm}\n`).sort(cmp).join(""), join(list, "bin.list.xz"));

  const codename = 1764547200 + stamp * 86400;
  for (const a of ARCHS) {
    for (const r of records) if (r.arch === a) symlinkSync(join("..", "..", "files", a, "RPMS", r.file), join(root, a, "RPMS.classic", r.file));
    symlinkSync(join("..", "files", "SRPMS"), join(root, a, "SRPMS.classic"));
    const base = join(root, a, "base");
    writeFileSync(join(base, "release.classic"), `Archive: Sisyphus\nComponent: classic\nVersion: ${codename}\nOrigin: ALT Linux Team\nLabel: Sisyphus\nArchitecture: ${a}\nNotAutomatic: false\n\n`);
    const lines = [
      { rel: "base/pkglist.classic", d: pkRaw[a] },
      { rel: "base/srclist.classic", d: srcRaw },
      { rel: "base/pkglist.classic.xz", d: digestOf(join(base, "pkglist.classic.xz")) },
      { rel: "base/srclist.classic.xz", d: digestOf(join(base, "srclist.classic.xz")) },
      { rel: "base/release.classic", d: digestOf(join(base, "release.classic")) },
    ];
    const rel = [
      "Origin: ALT Linux Team", "Label: Sisyphus", "Suite: Sisyphus", `Codename: ${codename}`, `Date: ${new Date(codename * 1000).toUTCString().replace("GMT", "+0000")}`,
      `Architectures: ${ARCHS.join(" ")}`, "Components: classic", "Description: ALT Linux Sisyphus (generated for altrepodb benches)",
      "MD5Sum:", ...lines.map((l) => ` ${l.d.md5} ${l.d.size} ${l.rel}`), "BLAKE2b:", ...lines.map((l) => ` ${l.d.blake2b} ${l.d.size} ${l.rel}`), "", "",
    ];
    writeFileSync(join(base, "release"), rel.join("\n"));
  }
  return records;
}

/** Hard-links a tree (symlinks recreated), leaving out the relative paths in `except`. */
function linkTree(src: string, dst: string, except: Set<string>, rel = ""): void {
  mkdirSync(join(dst, rel), { recursive: true });
  for (const e of readdirSync(join(src, rel))) {
    const r = join(rel, e);
    if (except.has(r)) continue;
    const st = lstatSync(join(src, r));
    if (st.isDirectory()) linkTree(src, dst, except, r);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(join(src, r)), join(dst, r));
    else linkSync(join(src, r), join(dst, r));
  }
}

export interface CorpusOptions {
  packages: number;
  dir?: string;
  workers?: number;
  seed?: number;
  log?: (msg: string) => void;
}

export function corpusDir(opts: CorpusOptions): string {
  const base = resolve(opts.dir ?? process.env.ALTREPODB_BENCH_CORPUS ?? join(ROOT, ".tmp", "bench-corpus"));
  return join(base, `${opts.packages}-s${opts.seed ?? 1}-${version()}`);
}

/** The cached corpus of that size, generated first when missing. */
export async function ensureCorpus(opts: CorpusOptions): Promise<CorpusManifest> {
  const dir = corpusDir(opts);
  const mf = join(dir, "manifest.json");
  if (existsSync(mf)) return JSON.parse(readFileSync(mf, "utf8")) as CorpusManifest;
  const log = opts.log ?? ((m: string) => console.error(m));
  const t0 = performance.now();
  const seed = opts.seed ?? 1;
  const workers = opts.workers ?? navigator.hardwareConcurrency ?? 2;
  rmSync(dir, { recursive: true, force: true });
  const tmp = join(dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  const nsrc = Math.max(1, Math.round(opts.packages / 4));
  const nbins = allocate(nsrc, opts.packages - nsrc, seed);
  const plans1 = nbins.map((n, i) => planSource(i, seed, n, 0));
  log(`corpus: ${opts.packages} packages (${nsrc} sources) into ${dir}, ${workers} workers`);
  const day1 = join(dir, "day1");
  const rec1 = await writeDay(day1, plans1, nbins, seed, workers, undefined, tmp, 0);
  log(`corpus: day1 written (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const rnd = mulberry32(seed * 97 + 3);
  const changed = new Set<number>();
  const nchanged = Math.max(1, Math.round(nsrc * 0.01));
  while (changed.size < nchanged) changed.add(Math.floor(rnd() * nsrc));
  const plans2 = nbins.map((n, i) => planSource(i, seed, n, changed.has(i) ? 1 : 0));
  const rec2 = await writeDay(join(dir, "day2"), plans2, nbins, seed, workers, day1, tmp, 1);
  log(`corpus: day2 written, ${nchanged} sources rebuilt (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

  const kinds = ["truncated", "zero-length", "bad-magic"];
  const ncorrupt = Math.max(3, Math.round(opts.packages * 0.001));
  const picked = new Set<number>();
  while (picked.size < ncorrupt) picked.add(Math.floor(rnd() * rec1.length));
  const corrupt = [...picked].map((i, k) => ({ file: relPath(rec1[i].arch, rec1[i].file), kind: kinds[k % kinds.length] }));
  const bad = join(dir, "bad");
  linkTree(day1, bad, new Set(corrupt.map((c) => c.file)));
  for (const c of corrupt) {
    const b = new Uint8Array(readFileSync(join(day1, c.file)));
    const out = c.kind === "truncated" ? b.slice(0, Math.floor(b.length / 2)) : c.kind === "zero-length" ? new Uint8Array(0) : Uint8Array.from(b, (x, i) => (i < 4 ? 0x00 : x));
    writeFileSync(join(bad, c.file), out);
  }
  rmSync(tmp, { recursive: true, force: true });
  const bins = rec1.filter((r) => r.arch !== "src");
  const manifest: CorpusManifest = {
    dir,
    packages: rec1.length,
    sources: rec1.length - bins.length,
    binaries: bins.length,
    day1,
    day2: join(dir, "day2"),
    bad,
    changedSources: nchanged,
    day2Packages: rec2.length,
    corrupt,
    seconds: (performance.now() - t0) / 1000,
    shapes: {
      "files per binary": quantiles(bins.map((r) => r.files)),
      "requires per binary": quantiles(bins.map((r) => r.requires)),
      "changelog entries": quantiles(bins.map((r) => r.changelog)),
      "header bytes (sig+main)": quantiles(rec1.map((r) => r.headerBytes)),
      "binaries per source": quantiles(allocate(nsrc, opts.packages - nsrc, seed)),
    },
  };
  writeFileSync(mf, JSON.stringify(manifest, null, 1));
  log(`corpus: done in ${manifest.seconds.toFixed(1)} s`);
  return manifest;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { packages: { type: "string", default: "5000" }, dir: { type: "string" }, workers: { type: "string" }, "self-test": { type: "boolean", default: false } } });
  const m = await ensureCorpus({ packages: Number(values.packages), dir: values.dir, workers: values.workers ? Number(values.workers) : undefined });
  console.log(`${m.packages} packages (${m.sources} sources, ${m.binaries} binaries) in ${m.dir}; generated in ${m.seconds.toFixed(1)} s`);
  const { selfTest } = await import("./corpus-check.ts");
  if (values["self-test"]) process.exit(selfTest(m) ? 0 : 1);
}
