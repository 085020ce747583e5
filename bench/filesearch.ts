#!/usr/bin/env bun
/**
 * FileSearch: incremental refresh for a next-day snapshot with 1% of packages changed, as a
 * ratio against the full fill of the same snapshot, measured in the same run (goal ≤ 0.1×).
 *
 *   bun bench/filesearch.ts [--packages 20000] [--files 100] [--changed 0.01] [--runs 2]
 *
 * The data is synthetic and written server-side (INSERT … SELECT FROM numbers()) into a fresh
 * embedded database: Packages rows, file rows through Files_insert (so Files and FileNames are
 * filled by the schema's own materialized views), and two package sets of the branch — day A and
 * day B, where B drops `changed` of A's packages and adds as many new ones with new files.
 * Each run adds a day A and a day B set: full fill of A (not timed), incremental refresh to B
 * (timed), full fill of B (timed).
 * The best of --runs is reported, with the rows each wrote. Later runs find the rows the earlier
 * full fills deleted still in the table (masked until a merge drops them), which the
 * incremental refresh's scans of FileSearch read too: run 1 is the production-like one.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../src/config";
import { openDb, type Db } from "../src/db";
import { migrate } from "../src/db/migrations";
import { refreshFileSearch, type FileSearchReport } from "../src/loaders/filesearch";
import { log } from "../src/log";

const { values } = parseArgs({
  options: {
    packages: { type: "string", default: "20000" },
    files: { type: "string", default: "100" },
    changed: { type: "string", default: "0.01" },
    runs: { type: "string", default: "2" },
  },
});
const N = Number(values.packages);
const F = Number(values.files);
const C = Math.max(1, Math.round(N * Number(values.changed)));
const runs = Number(values.runs);

const root = resolve(import.meta.dir, "..");
const work = join(root, ".tmp", "bench-filesearch");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const db: Db = await openDb({ driver: "embedded", database: "bench_filesearch", path: join(work, "db") });
await migrate(db);
const config = loadConfig({ env: {}, cwd: "/nonexistent" });
const ctx = { db, config, log: log.child("bench") };

const secs = async (fn: () => Promise<unknown>) => {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
};

// packages 1..N (day A) and N+1..N+C (new on day B); hash = number, name pkgNNN
const setup = await secs(async () => {
  await db.command(
    `INSERT INTO Packages (pkg_hash, pkg_name, pkg_arch, pkg_sourcepackage)
     SELECT number + 1, concat('pkg', toString(number + 1)), if(number % 5 = 0, 'noarch', 'x86_64'), 0 FROM numbers(${N + C})`,
  );
  // files: package p owns /usr/share/pkg<p>/d<k % 10>/file<k> (and shares /usr/share/doc, /usr/lib64)
  const step = 2_000_000;
  for (let start = 0; start < (N + C) * F; start += step) {
    const count = Math.min(step, (N + C) * F - start);
    await db.command(
      `INSERT INTO Files_insert (pkg_hash, file_name, file_class)
       SELECT intDiv(number, ${F}) + 1 AS p,
              multiIf(number % ${F} = 0, '/usr/share/doc', number % ${F} = 1, '/usr/lib64',
                      concat('/usr/share/pkg', toString(p), '/d', toString(number % 10), '/file', toString(number % ${F}))),
              if(number % ${F} < 2, 'directory', 'file')
       FROM numbers(${start}, ${count})`,
      { settings: { max_insert_block_size: 1_000_000 } },
    );
  }
});

async function packageSet(date: string, members: string): Promise<string> {
  const ruuid = randomUUID();
  const comp = randomUUID();
  const day = Math.floor(Date.parse(`${date}T00:00:00Z`) / 1000);
  await db.command(`INSERT INTO PackageSet (pkgset_uuid, pkg_hash) SELECT toUUID('${comp}'), number + 1 FROM numbers(${N + C}) WHERE ${members}`);
  const row = (uuid: string, puuid: string, depth: number, name: string, kv: string) =>
    `(toUUID('${uuid}'), toUUID('${puuid}'), toUUID('${ruuid}'), ${depth}, '${name}', toDateTime(${day}), '', 1, ${kv})`;
  await db.command(
    `INSERT INTO PackageSetName (pkgset_uuid, pkgset_puuid, pkgset_ruuid, pkgset_depth, pkgset_nodename, pkgset_date, pkgset_tag, pkgset_complete, pkgset_kv.k, pkgset_kv.v) VALUES
     ${row(comp, ruuid, 2, "classic", "[], []")}`,
  );
  await db.command(
    `INSERT INTO PackageSetName (pkgset_uuid, pkgset_puuid, pkgset_ruuid, pkgset_depth, pkgset_nodename, pkgset_date, pkgset_tag, pkgset_complete, pkgset_kv.k, pkgset_kv.v) VALUES
     ${row(ruuid, "00000000-0000-0000-0000-000000000000", 0, "benchbranch", "['class', 'task'], ['repository', '1']")}`,
  );
  return ruuid;
}

const [files] = await db.query<{ n: bigint }>("SELECT count() AS n FROM Files");
console.log(`synthetic data: ${N} packages, ${F} files each (${Number(files.n)} file rows), ${C} packages changed; set up in ${setup.toFixed(1)} s`);

let bestInc: { s: number; r: FileSearchReport } | undefined;
let bestFull: { s: number; r: FileSearchReport } | undefined;
for (let i = 0; i < runs; i++) {
  // day A: packages 1..N; day B (the next day): without 1..C, with N+1..N+C
  await packageSet(`2026-01-${String(2 * i + 1).padStart(2, "0")}`, `number < ${N}`);
  await refreshFileSearch(ctx, "benchbranch", { full: true });
  await packageSet(`2026-01-${String(2 * i + 2).padStart(2, "0")}`, `number >= ${C}`);
  let r!: FileSearchReport;
  const inc = await secs(async () => (r = await refreshFileSearch(ctx, "benchbranch")));
  if (r.mode !== "incremental") throw new Error(`expected an incremental refresh, got ${r.mode}`);
  if (!bestInc || inc < bestInc.s) bestInc = { s: inc, r };
  let f!: FileSearchReport;
  const full = await secs(async () => (f = await refreshFileSearch(ctx, "benchbranch", { full: true })));
  if (!bestFull || full < bestFull.s) bestFull = { s: full, r: f };
  console.log(`run ${i + 1}: incremental ${inc.toFixed(2)} s, full ${full.toFixed(2)} s, ratio ${(inc / full).toFixed(3)}×`);
}
const inc = bestInc!;
const full = bestFull!;
console.log(`full fill:   ${full.s.toFixed(2)} s, ${full.r.rowsInserted} rows written, ${full.r.rowsDeleted} deleted`);
console.log(`incremental: ${inc.s.toFixed(2)} s, ${inc.r.rowsInserted} rows written, ${inc.r.rowsDeleted} deleted (${inc.r.added} packages added, ${inc.r.removed} removed)`);
console.log(`ratio incremental / full: ${(inc.s / full.s).toFixed(3)}× (goal ≤ 0.1×)`);
await db.close();
