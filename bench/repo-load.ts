#!/usr/bin/env bun
/**
 * Cold load and reload of a generated snapshot (≥ 2,000 real RPMs from rpmbuild), as ratios
 * against `createrepo_c --workers 2` on the same files, measured in the same run; plus peak RSS.
 *
 *   bun bench/repo-load.ts [--sources 40] [--binaries 50] [--runs 3] [--bin dist/altrepodb]
 *
 * Each run uses a fresh embedded database; times are wall-clock of whole processes (startup
 * included, as for createrepo_c). The best of --runs is reported.
 */
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildBulkPackages } from "../tests/fixtures/bulk";
import { makeSnapshot } from "../tests/fixtures/snapshot";
import { freshWorkDir, altrepodbCommand } from "./_util.ts";

const { values } = parseArgs({
  options: {
    sources: { type: "string", default: "40" },
    binaries: { type: "string", default: "50" },
    runs: { type: "string", default: "3" },
    bin: { type: "string" },
  },
});
const work = freshWorkDir("bench-repo-load");

const m = await buildBulkPackages(undefined, { sources: Number(values.sources), binariesPerSource: Number(values.binaries) });
const snapDir = join(work, "snapshot");
const snap = makeSnapshot(snapDir, { packages: [...m.srpms, ...m.rpms] });
const total = snap.srpms.length + snap.rpms.length;

const bin = altrepodbCommand(values.bin);

interface Timed {
  seconds: number;
  maxRssMb: number;
  code: number | null;
  stderr: string;
}

/** Wall time and peak RSS of a whole process (GNU time's %M, in KiB). */
function timed(argv: string[], env: Record<string, string> = {}): Timed {
  const t0 = performance.now();
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "@@rss %M", ...argv], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  const seconds = (performance.now() - t0) / 1000;
  const stderr = r.stderr.toString();
  const rss = /@@rss (\d+)/.exec(stderr);
  return { seconds, maxRssMb: rss ? Number(rss[1]) / 1024 : NaN, code: r.exitCode, stderr };
}

function best(runs: Timed[]): Timed {
  for (const r of runs) if (r.code !== 0) throw new Error(`a run failed:\n${r.stderr}`);
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

const runs = Number(values.runs);
// createrepo_c on the same package files
const crDir = join(work, "createrepo");
const crRuns: Timed[] = [];
for (let i = 0; i < runs; i++) {
  rmSync(crDir, { recursive: true, force: true });
  mkdirSync(crDir);
  for (const d of ["SRPMS", ...snap.archs.filter((a) => a !== "src")]) {
    const src = d === "SRPMS" ? join(snapDir, "files", "SRPMS") : join(snapDir, "files", d, "RPMS");
    if (existsSync(src)) cpSync(src, join(crDir, d), { recursive: true });
  }
  crRuns.push(timed(["createrepo_c", "--workers", "2", "--quiet", crDir]));
}
const cr = best(crRuns);

const coldRuns: Timed[] = [];
const reloadRuns: Timed[] = [];
for (let i = 0; i < runs; i++) {
  const dbDir = join(work, `db-${i}`);
  const cfg = join(work, `config-${i}.toml`);
  writeFileSync(cfg, `[database.embedded]\npath = "${dbDir}"\n[log]\nlevel = "warn"\n`);
  if (timed([...bin, "-c", cfg, "db", "init"]).code !== 0) throw new Error("db init failed");
  coldRuns.push(timed([...bin, "-c", cfg, "repo", "load", "bench", snapDir, "--date", "2026-11-01"]));
  reloadRuns.push(timed([...bin, "-c", cfg, "repo", "load", "bench", snapDir, "--date", "2026-11-02"]));
}
const engineRuns: Timed[] = [];
for (let i = 0; i < runs; i++) engineRuns.push(timed([...bin, "-c", join(work, "config-0.toml"), "sql", "SELECT 1"]));
const engine = best(engineRuns);
const cold = best(coldRuns);
const reload = best(reloadRuns);
const peak = Math.max(...coldRuns.map((r) => r.maxRssMb), ...reloadRuns.map((r) => r.maxRssMb));

const f = (s: number) => `${s.toFixed(3)} s`;
console.log(`snapshot: ${total} packages (${snap.srpms.length} source), best of ${runs} runs, ${bin.length === 1 ? "compiled binary" : "bun src/cli/main.ts"}`);
console.log(`createrepo_c --workers 2   ${f(cr.seconds)}   peak RSS ${cr.maxRssMb.toFixed(0)} MB`);
console.log(`repo load, cold            ${f(cold.seconds)}   ratio to createrepo_c ${(cold.seconds / cr.seconds).toFixed(2)} (target ≤ 1.00)`);
console.log(`repo load, reload          ${f(reload.seconds)}   ratio to cold ${(reload.seconds / cold.seconds).toFixed(2)} (target ≤ 0.10)`);
console.log(`engine start + stop alone  ${f(engine.seconds)}   (\`altrepodb sql "SELECT 1"\`: dlopen of libchdb and opening the data directory)`);
console.log(`cold minus engine start    ${f(cold.seconds - engine.seconds)}   ratio to createrepo_c ${((cold.seconds - engine.seconds) / cr.seconds).toFixed(2)}`);
console.log(`reload minus engine start  ${f(reload.seconds - engine.seconds)}   ratio to cold minus engine start ${((reload.seconds - engine.seconds) / (cold.seconds - engine.seconds)).toFixed(2)}`);
console.log(`peak RSS of repo load      ${peak.toFixed(0)} MB (target < 512 MB; libchdb alone holds about 250 MB)`);
console.log(`packages per second, cold  ${(total / cold.seconds).toFixed(0)}`);
