#!/usr/bin/env bun
/**
 * `export rpm-md` of a loaded snapshot (≥ 2,000 real RPMs from rpmbuild) against
 * `createrepo_c --workers 2` on the same files, and an incremental export of the next day's
 * snapshot (1% of the packages changed) against a full export of it — ratios measured in the
 * same run; plus peak RSS.
 *
 *   bun bench/export.ts [--sources 40] [--binaries 50] [--runs 3] [--bin dist/altrepodb]
 *
 * Day 1 leaves out the last 1% of the binaries, day 2 the first 1% instead: day 2 has 1% of
 * packages that day 1's export never wrote. Ratios are of CPU time (user + system, libchdb's
 * threads included) of whole processes — engine start included, as createrepo_c's start is —
 * because wall time on a shared 2-core machine says little; wall times and the exports' own
 * `seconds` (from --json) are printed too. Best (least CPU) of --runs.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildBulkPackages } from "../tests/fixtures/bulk";
import { makeSnapshot } from "../tests/fixtures/snapshot";
import { ROOT, freshWorkDir, altrepodbCommand, timeProcess as timed, type TimedProcess as Timed } from "./_util.ts";

const { values } = parseArgs({
  options: {
    sources: { type: "string", default: "40" },
    binaries: { type: "string", default: "50" },
    runs: { type: "string", default: "3" },
    bin: { type: "string" },
  },
});
const root = ROOT;
const work = freshWorkDir("bench-export");

const m = await buildBulkPackages(undefined, { sources: Number(values.sources), binariesPerSource: Number(values.binaries) });
const k = Math.max(1, Math.ceil(m.rpms.length / 100));
const day1 = makeSnapshot(join(work, "day1"), { packages: [...m.srpms, ...m.rpms.slice(0, m.rpms.length - k)] });
const day2 = makeSnapshot(join(work, "day2"), { packages: [...m.srpms, ...m.rpms.slice(k)] });
const arch = day1.rpms.find((r) => r.arch !== "noarch")?.arch ?? "x86_64";
const published = day1.rpms.filter((r) => r.arch === arch || r.arch === "noarch");

const bin = altrepodbCommand(values.bin);

function best(runs: Timed[]): Timed {
  for (const r of runs) if (r.code !== 0) throw new Error(`a run failed:\n${r.stderr}`);
  return runs.reduce((a, b) => (b.cpu < a.cpu ? b : a));
}
const inner = (t: Timed) => (JSON.parse(t.stdout) as { seconds: number }).seconds;

const runs = Number(values.runs);
const cfg = join(work, "config.toml");
writeFileSync(cfg, `[database.embedded]\npath = "${join(work, "db")}"\n[log]\nlevel = "warn"\n`);
for (const argv of [["db", "init"], ["repo", "load", "bench", day1.root, "--date", "2026-11-01"], ["repo", "load", "bench", day2.root, "--date", "2026-11-02"]]) {
  const r = timed([...bin, "-c", cfg, ...argv]);
  if (r.code !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
}

// createrepo_c on the same files (day 1, the published arch and noarch, their snapshot paths)
const list = join(work, "pkglist.txt");
writeFileSync(list, published.map((r) => `${r.arch}/RPMS.${r.component}/${r.name}`).join("\n") + "\n");
const crRuns: Timed[] = [];
for (let i = 0; i < runs; i++) {
  const out = join(work, `cr-${i}`);
  mkdirSync(out, { recursive: true });
  crRuns.push(timed(["createrepo_c", "--workers", "2", "--quiet", "--no-database", "--pkglist", list, "-o", out, day1.root]));
}
const cr = best(crRuns);

const fullRuns: Timed[] = [];
const full2Runs: Timed[] = [];
const incRuns: Timed[] = [];
for (let i = 0; i < runs; i++) {
  fullRuns.push(timed([...bin, "-c", cfg, "export", "rpm-md", "bench@2026-11-01", "--arch", arch, "--out", join(work, `full1-${i}`), "--json"]));
  full2Runs.push(timed([...bin, "-c", cfg, "export", "rpm-md", "bench@2026-11-02", "--arch", arch, "--out", join(work, `full2-${i}`), "--json"]));
  const inc = join(work, `inc-${i}`);
  const seed = timed([...bin, "-c", cfg, "export", "rpm-md", "bench@2026-11-01", "--arch", arch, "--out", inc, "--incremental", "--json"]);
  if (seed.code !== 0) throw new Error(seed.stderr);
  incRuns.push(timed([...bin, "-c", cfg, "export", "rpm-md", "bench@2026-11-02", "--arch", arch, "--out", inc, "--incremental", "--json"]));
}
const engine = best(Array.from({ length: runs }, () => timed([...bin, "-c", cfg, "sql", "SELECT 1"])));
const full = best(fullRuns);
const full2 = best(full2Runs);
const inc = best(incRuns);
const peak = Math.max(...fullRuns.map((r) => r.maxRssMb), ...incRuns.map((r) => r.maxRssMb));

const f = (s: number) => `${s.toFixed(3)} s`;
const w = (t: Timed) => `cpu ${f(t.cpu)}, wall ${f(t.seconds)}`;
console.log(`set: ${published.length} ${arch}+noarch packages published (${day1.rpms.length} binaries, ${day1.srpms.length} sources loaded), ${k} changed on day 2; best of ${runs}; ${bin.length === 1 ? "compiled binary" : "bun src/cli/main.ts"}`);
console.log(`createrepo_c --workers 2        ${w(cr)}   peak RSS ${cr.maxRssMb.toFixed(0)} MB`);
console.log(`export rpm-md, full             ${w(full)}   CPU ratio to createrepo_c ${(full.cpu / cr.cpu).toFixed(2)} (target ≤ 0.50); own time ${f(inner(full))}`);
console.log(`engine start + stop alone       ${w(engine)}`);
console.log(`full minus engine start         cpu ${f(full.cpu - engine.cpu)}   CPU ratio to createrepo_c ${((full.cpu - engine.cpu) / cr.cpu).toFixed(2)}`);
console.log(`export day 2, full              ${w(full2)}   own time ${f(inner(full2))}`);
console.log(`export day 2, --incremental     ${w(inc)}   CPU ratio to full ${(inc.cpu / full2.cpu).toFixed(2)}; minus engine start ${((inc.cpu - engine.cpu) / (full2.cpu - engine.cpu)).toFixed(2)} (target ≤ 0.10); own time ${f(inner(inc))}`);
console.log(`peak RSS of export              ${peak.toFixed(0)} MB`);
