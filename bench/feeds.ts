/**
 * Feed loads at production size: `bun bench/feeds.ts [scale]` (scale 1 = the size: ACL for
 * 60,000 packages × 6 branches, 300,000 Bugzilla bugs, Repology 60,000 projects, Watch 60,000
 * lines). Generates the feeds as a local mirror, then loads each one with `loadFeed` (the function
 * the CLI and the daemon call) in a fresh process on one embedded database, and prints per feed
 * seconds, records/s and the process's peak RSS (VmHWM; goals: ≤ 2 s, ≤ 256 MB). The embedded
 * engine's own memory is part of that RSS.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const SELF = import.meta.path;

if (process.argv[2] === "--one") {
  const [, , , name, source, dbPath] = process.argv;
  const { openDb } = await import("../src/db");
  const { loadConfig } = await import("../src/config");
  const { loadFeed } = await import("../src/loaders/feeds");
  const { log, setupLogging } = await import("../src/log");
  setupLogging({ level: "warn" });
  const db = await openDb({ driver: "embedded", database: "bench", path: dbPath! });
  const config = loadConfig({ env: {}, cwd: "/nonexistent" });
  (config.file as Record<string, unknown>).feeds = { [name!]: { min_fraction: 0.5, deadline: 600, timeout: 600, timezone: "UTC", stale_after: 86400, options: { repos: ["altsisyphus", "alt_p10", "alt_p11"] } } };
  await db.query("SELECT count() FROM Acl");
  const base = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await loadFeed({ db, config, log: log.child("bench") }, { name: name!, source });
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  await db.close();
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;
  console.log(JSON.stringify({ feed: name, result: r.result, records: r.records, written: r.written, seconds, cpu: (c.user + c.system) / 1e6, rss_mb: hwm, base_mb: base }));
  process.exit(0);
}

const scale = Number(process.argv[2] ?? 1);
const N = Math.round(60_000 * scale);
const BUGS = Math.round(300_000 * scale);
const dir = mkdtempSync(join(tmpdir(), "altrepodb-bench-feeds-"));
const users = Array.from({ length: 500 }, (_, i) => `user${i}`);

// ACL: 6 branches × N packages, plus groups
mkdirSync(join(dir, "acl"));
for (const b of ["sisyphus", "p11", "p10", "p9", "c10f2", "c9f2"]) {
  writeFileSync(join(dir, "acl", `list.packages.${b}`), Array.from({ length: N }, (_, i) => `package-${i}\t${users[i % 500]} @group${i % 40} ${users[(i * 7) % 500]}\n`).join(""));
  writeFileSync(join(dir, "acl", `list.groups.${b}`), Array.from({ length: 40 }, (_, i) => `@group${i}\t${users.slice(i * 10, i * 10 + 10).join(" ")}\n`).join(""));
}
// Bugzilla: the CSV export
{
  const head = '"Bug ID","Status","Resolution","Severity","Priority","Product","Version","Platform","Component","Assignee","Reporter","Summary","Changed"\n';
  const rows: string[] = [head];
  for (let i = 1; i <= BUGS; i++)
    rows.push(`${i},"${i % 3 ? "NEW" : "CLOSED"}","${i % 3 ? " ---" : "FIXED"}","normal","P3","Sisyphus","unstable","all","package-${i % N}","${users[i % 500]}@altlinux.org","${users[(i * 3) % 500]}@altlinux.org","Synthetic bug ${i}: something does not work, ""quoted"" part","2026-11-${String(1 + (i % 28)).padStart(2, "0")} 12:${String(i % 60).padStart(2, "0")}:00"\n`);
  writeFileSync(join(dir, "bugs.csv"), rows.join(""));
}
// Repology: a dump of N projects, each in 3 ALT repos and 2 others
{
  const o: Record<string, unknown[]> = {};
  for (let i = 0; i < N; i++) {
    const p = (repo: string, v: string, status: string) => ({ repo, srcname: `package-${i}`, visiblename: `package-${i}`, version: v, status });
    o[`project-${i}`] = [p("altsisyphus", `1.${i % 10}`, "newest"), p("alt_p11", `1.${i % 10}`, "newest"), p("alt_p10", "1.0", "outdated"), p("debian_13", `1.${i % 10}`, "newest"), p("arch", `1.${i % 10}`, "newest")];
  }
  writeFileSync(join(dir, "repology.json"), JSON.stringify(o));
}
// Watch: N lines
mkdirSync(join(dir, "watch"));
writeFileSync(join(dir, "watch", "watch-total.txt"), Array.from({ length: N }, (_, i) => `${users[i % 500]}\tpackage-${i}\t1.${i % 10}\t1.${(i % 10) + 1}\thttps://example.org/package-${i}/\n`).join(""));

const dbPath = join(dir, "db");
{
  const { openDb } = await import("../src/db");
  const { migrate } = await import("../src/db/migrations");
  const db = await openDb({ driver: "embedded", database: "bench", path: dbPath });
  await migrate(db);
  await db.close();
}

console.log(`feeds at scale ${scale} in ${dir}`);
console.log("feed\trecords\tseconds\tCPU s\trecords/s (CPU)\tpeak RSS MB (engine alone)\tresult");
for (const [name, source] of [
  ["acl", join(dir, "acl")],
  ["bugzilla", join(dir, "bugs.csv")],
  ["repology", join(dir, "repology.json")],
  ["watch", join(dir, "watch")],
] as const) {
  const p = Bun.spawnSync([process.execPath, SELF, "--one", name, source, dbPath], { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) {
    console.log(`${name}\tfailed: ${p.stderr.toString().trim().split("\n").slice(-3).join(" | ")}`);
    continue;
  }
  const r = JSON.parse(p.stdout.toString().trim().split("\n").at(-1)!);
  console.log(`${name}\t${r.records}\t${r.seconds.toFixed(2)}\t${r.cpu.toFixed(2)}\t${Math.round(r.records / r.cpu)}\t${r.rss_mb.toFixed(0)} (${r.base_mb.toFixed(0)})\t${r.result} ${JSON.stringify(r.written)}`);
}
