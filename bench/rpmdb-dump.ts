#!/usr/bin/env bun
/**
 * `altrepodb rpmdb dump` of a 3,000-package Berkeley DB `Packages` (written with db5.3_load from
 * real headers installed by Debian's rpm), as a ratio to `rpm -qa --dbpath` (librpm's bdb_ro
 * reading the same file, NEVRA only), measured in the same run; plus peak RSS.
 *
 *   bun bench/rpmdb-dump.ts [--packages 3000] [--runs 3] [--bin dist/altrepodb]
 *
 * Times are wall-clock of whole processes (startup included, as for rpm) and their CPU time
 * (user + system, GNU time), which a loaded machine does not inflate; output goes to /dev/null.
 * The best of --runs is reported. Target: the dump ≤ 1 s.
 */
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openRpmdb } from "../src/rpmdb/index.ts";
import { installedHeaders, writeBdb } from "../tests/rpmdb/_fixtures.ts";
import { freshWorkDir, altrepodbCommand, timeProcess, type TimedProcess as Timed } from "./_util.ts";

const { values } = parseArgs({
  options: {
    packages: { type: "string", default: "3000" },
    runs: { type: "string", default: "3" },
    bin: { type: "string" },
  },
});
const work = freshWorkDir("bench-rpmdb-dump");

const n = Number(values.packages);
const headers = (await installedHeaders()).map((h) => h.blob);
const blobs = Array.from({ length: n }, (_, i) => headers[i % headers.length]);
const file = writeBdb(work, blobs, { pageSize: 4096 });
const bin = altrepodbCommand(values.bin);

/** Wall time, CPU time and peak RSS of a whole process (GNU time); stdout to /dev/null. */
const timed = (argv: string[]): Timed => timeProcess(argv, "ignore");

function best(argv: string[]): Timed {
  const runs: Timed[] = [];
  for (let i = 0; i < Number(values.runs); i++) runs.push(timed(argv));
  for (const r of runs) if (r.code !== 0) throw new Error(`${argv.join(" ")} failed:\n${r.stderr}`);
  return runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
}

const rpm = best(["rpm", "--dbpath", work, "--define", "_db_backend bdb_ro", "-qa"]);
const json = best([...bin, "rpmdb", "dump", "--json", file]);
const textDump = best([...bin, "rpmdb", "dump", file]);
const startup = best([...bin, "--version"]);

// in-process: open + read + parse every header, no output (CPU time)
let inProc = Infinity;
for (let i = 0; i < Number(values.runs); i++) {
  const u0 = process.cpuUsage();
  const db = openRpmdb(file);
  let k = 0;
  for await (const r of db.records()) if (r.package) k++;
  db.close();
  if (k !== n) throw new Error(`read ${k} of ${n}`);
  const u = process.cpuUsage(u0);
  inProc = Math.min(inProc, (u.user + u.system) / 1e6);
}

const f = (s: number) => `${s.toFixed(3)} s`;
const row = (what: string, t: Timed, extra = "") =>
  console.log(
    `${what.padEnd(27)} wall ${f(t.seconds)}  cpu ${f(t.cpu)}  ratio to rpm -qa: wall ${(t.seconds / rpm.seconds).toFixed(2)}, cpu ${(t.cpu / rpm.cpu).toFixed(2)}  peak RSS ${t.maxRssMb.toFixed(0)} MB${extra}`,
  );
const load = (await Bun.file("/proc/loadavg").text()).split(" ")[0];
console.log(
  `database: ${n} packages, Berkeley DB hash, 4 KiB pages, ${(statSync(file).size / 1048576).toFixed(1)} MB; best of ${values.runs} runs, ${bin.length === 1 ? "compiled binary" : "bun src/cli/main.ts"}; load average ${load}`,
);
console.log(`${"rpm -qa --dbpath (bdb_ro)".padEnd(27)} wall ${f(rpm.seconds)}  cpu ${f(rpm.cpu)}  peak RSS ${rpm.maxRssMb.toFixed(0)} MB`);
row("rpmdb dump --json", json, " (target ≤ 1 s)");
row("rpmdb dump (text)", textDump);
row("altrepodb --version alone", startup, " (process start)");
console.log(`${"read + parse, in process".padEnd(27)} cpu ${f(inProc)}  ${(n / inProc).toFixed(0)} packages/s`);
rmSync(work, { recursive: true, force: true });
