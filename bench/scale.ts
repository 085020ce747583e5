#!/usr/bin/env bun
/**
 * Sisyphus-scale benches on the generated corpus (bench/corpus.ts), every ratio against a
 * reference measured in the same run:
 *
 *   bun bench/scale.ts [--size 5000[,20000,80000]] [--runs 1] [--bin dist/altrepodb] [--sample 3000]
 *
 * Per size: cold `repo load` vs `createrepo_c --workers 2` on the same package files; reload of
 * the unchanged snapshot under a new date and load of the next day (1% rebuilt) vs cold; the
 * damaged tree (0.1% bad files) loaded cold: failures reported vs expected; `rpm dump --json` vs
 * librpm (python3-rpm printing the same fields, tests/rpm/oracle.py) on a sample; whole-file
 * digests (MD5 + SHA-256 + BLAKE2b, what a load computes when lists give none) vs `openssl dgst`
 * of the three; `altrepodb sql "SELECT 1"` in ms; peak RSS of the loads. Wall times of whole
 * processes; each load in a fresh embedded database; best of --runs.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { digestFileSync } from "../src/hash/index.ts";
import { ensureCorpus, type CorpusManifest } from "./corpus.ts";
import { ROOT, altrepodbCommand, timeProcess as timed, type TimedProcess as Timed } from "./_util.ts";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "5000" },
    runs: { type: "string", default: "1" },
    bin: { type: "string" },
    sample: { type: "string", default: "3000" },
    workers: { type: "string" },
  },
});
const bin = altrepodbCommand(values.bin);
const runs = Math.max(1, Number(values.runs));

function ok(t: Timed, what: string): Timed {
  if (t.code !== 0) throw new Error(`${what} exited with ${t.code}:\n${t.stderr.slice(-3000)}`);
  return t;
}

const best = (xs: Timed[]) => xs.reduce((a, b) => (b.seconds < a.seconds ? b : a));

interface Row {
  measure: string;
  value: string;
  ratio?: number;
  goal: string;
  met?: boolean;
}

function packageFiles(root: string): string[] {
  const out: string[] = [];
  for (const d of ["SRPMS", "x86_64/RPMS", "noarch/RPMS"]) {
    const dir = join(root, "files", d);
    if (existsSync(dir)) for (const f of readdirSync(dir).sort()) out.push(join(dir, f));
  }
  return out;
}

function newDb(work: string, name: string): string {
  const dbDir = join(work, `db-${name}`);
  rmSync(dbDir, { recursive: true, force: true });
  const cfg = join(work, `config-${name}.toml`);
  writeFileSync(cfg, `[database.embedded]\npath = "${dbDir}"\n[log]\nlevel = "warn"\n`);
  ok(timed([...bin, "-c", cfg, "db", "init"]), "db init");
  return cfg;
}

function benchSize(m: CorpusManifest, work: string): Row[] {
  const rows: Row[] = [];
  const files = packageFiles(m.day1);
  const w = values.workers ? ["--workers", values.workers] : [];

  // createrepo_c on the same package files (its output kept out of the tree)
  const crRuns: Timed[] = [];
  for (let i = 0; i < runs; i++) {
    const out = join(work, "createrepo");
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    crRuns.push(ok(timed(["createrepo_c", "--workers", "2", "--quiet", "--outputdir", out, join(m.day1, "files")]), "createrepo_c"));
  }
  const cr = best(crRuns);

  const cold: Timed[] = [];
  const reload: Timed[] = [];
  const next: Timed[] = [];
  let cfg = "";
  for (let i = 0; i < runs; i++) {
    cfg = newDb(work, `r${i}`);
    cold.push(ok(timed([...bin, "-c", cfg, "repo", "load", "sisyphus", m.day1, "--date", "2026-01-01", ...w]), "cold load"));
    reload.push(ok(timed([...bin, "-c", cfg, "repo", "load", "sisyphus", m.day1, "--date", "2026-01-02", ...w]), "unchanged reload"));
    next.push(ok(timed([...bin, "-c", cfg, "repo", "load", "sisyphus", m.day2, "--date", "2026-01-03", ...w]), "next-day load"));
  }
  const c = best(cold);
  const rl = best(reload);
  const nx = best(next);
  const engine = best(Array.from({ length: 5 }, () => ok(timed([...bin, "-c", cfg, "sql", "SELECT 1"]), "sql SELECT 1")));
  const peak = Math.max(...[...cold, ...reload, ...next].map((t) => t.maxRssMb));

  const f = (s: number) => `${s.toFixed(2)} s`;
  const cpu = (t: Timed) => `${t.cpu.toFixed(2)} s CPU`;
  rows.push({ measure: "createrepo_c --workers 2", value: `${f(cr.seconds)}, ${cpu(cr)}`, goal: "reference" });
  rows.push({ measure: "repo load, cold", value: `${f(c.seconds)}, ${cpu(c)}`, ratio: c.seconds / cr.seconds, goal: "≤ 1.0× createrepo_c", met: c.seconds <= cr.seconds });
  rows.push({ measure: "  same, CPU time ratio", value: "", ratio: c.cpu / cr.cpu, goal: "(informative)" });
  rows.push({ measure: "cold load rate", value: `${Math.round(m.packages / c.seconds)} packages/s`, goal: "≥ 5,000/s at 80k", met: m.packages / c.seconds >= 5000 });
  rows.push({ measure: "unchanged reload, new date", value: `${f(rl.seconds)}, ${cpu(rl)}`, ratio: rl.seconds / c.seconds, goal: "≤ 0.05× cold, ≤ 1 s per 10k", met: rl.seconds <= 0.05 * c.seconds && rl.seconds <= m.packages / 10000 });
  rows.push({ measure: `next day, ${m.changedSources} sources rebuilt`, value: `${f(nx.seconds)}, ${cpu(nx)}`, ratio: nx.seconds / c.seconds, goal: "≤ 0.1× cold", met: nx.seconds <= 0.1 * c.seconds });
  rows.push({ measure: "altrepodb sql \"SELECT 1\"", value: `${Math.round(engine.seconds * 1000)} ms, ${Math.round(engine.cpu * 1000)} ms CPU`, goal: "≤ 150 ms", met: engine.seconds <= 0.15 });
  rows.push({ measure: "peak RSS of the loads", value: `${peak.toFixed(0)} MB (createrepo_c ${cr.maxRssMb.toFixed(0)} MB)`, goal: "≤ 512 MB", met: peak <= 512 });

  // the damaged tree, cold: the good packages load, each bad one is reported
  const badCfg = newDb(work, "bad");
  const bad = timed([...bin, "-c", badCfg, "repo", "load", "sisyphus", m.bad, "--date", "2026-01-01", "--json", ...w]);
  let failed = -1;
  try {
    failed = (JSON.parse(bad.stdout) as { failures: unknown[] }).failures.length;
  } catch {
    // reported below
  }
  rows.push({
    measure: `damaged tree (${m.corrupt.length} bad files), cold`,
    value: `${f(bad.seconds)}, exit ${bad.code}, ${failed} failures reported`,
    ratio: bad.seconds / c.seconds,
    goal: "every bad file reported, the rest loaded",
    met: failed === m.corrupt.length && bad.code !== 0,
  });

  // rpm dump --json vs librpm (python3-rpm, tests/rpm/oracle.py: the same fields as JSON)
  const n = Math.min(files.length, Number(values.sample));
  const step = files.length / n;
  const sample = Array.from({ length: n }, (_, i) => files[Math.floor(i * step)]);
  const dump = best(Array.from({ length: runs }, () => ok(timed([...bin, "rpm", "dump", "--json", ...sample], "ignore"), "rpm dump")));
  const py = best(Array.from({ length: runs }, () => ok(timed(["/usr/bin/python3", join(ROOT, "tests", "rpm", "oracle.py"), ...sample], "ignore"), "oracle.py")));
  rows.push({ measure: `rpm dump --json, ${n} files`, value: `${cpu(dump)} vs librpm ${cpu(py)}`, ratio: py.cpu / dump.cpu, goal: "rate ≥ 1.0× librpm (CPU)", met: dump.cpu <= py.cpu });

  // whole-file digests (what a load computes when no list gives them) vs openssl, same files
  const t0 = performance.now();
  for (const p of files) digestFileSync(p, ["md5", "sha256", "blake2b"]);
  const ours = (performance.now() - t0) / 1000;
  let ossl = 0;
  for (const algo of ["-md5", "-sha256", "-blake2b512"]) {
    for (let k = 0; k < files.length; k += 2000) ossl += ok(timed(["openssl", "dgst", algo, ...files.slice(k, k + 2000)], "ignore"), "openssl dgst").seconds;
  }
  rows.push({ measure: `digests MD5+SHA-256+BLAKE2b, ${files.length} files`, value: `${f(ours)} vs openssl dgst ${f(ossl)}`, ratio: ours / ossl, goal: "≤ 1.2× openssl", met: ours <= 1.2 * ossl });
  return rows;
}

for (const size of values.size.split(",").map(Number)) {
  const m = await ensureCorpus({ packages: size });
  const work = join(ROOT, ".tmp", "bench-scale", String(size));
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const rows = benchSize(m, work);
  console.log(`\n${m.packages} packages (${m.sources} sources), ${bin.length === 1 ? "compiled binary" : "bun src/cli/main.ts"}, best of ${runs}, load average ${(await Bun.file("/proc/loadavg").text()).split(" ")[0]}`);
  for (const r of rows) {
    const ratio = r.ratio === undefined ? "" : `${r.ratio.toFixed(3)}×`;
    const met = r.met === undefined ? "" : r.met ? "met" : "NOT met";
    console.log(`  ${r.measure.padEnd(46)} ${r.value.padEnd(44)} ${ratio.padStart(8)}  ${r.goal.padEnd(30)} ${met}`);
  }
  rmSync(work, { recursive: true, force: true });
}
process.exit(0); // the corpus workers may keep the event loop alive
