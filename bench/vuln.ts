/**
 * Vulnerability loading and matching at scale: `bun bench/vuln.ts [cves] [packages]`
 * (defaults 50,000 and 20,000; the production size is 300,000 CVEs with ~1M CPE ranges and
 * a 60,000-package branch: `bun bench/vuln.ts 300000 60000`).
 * Generates an NVD 2.0 feed file (3–4 ranges per CVE over a product space the packages map
 * into), loads it into a fresh embedded database, builds a package set and the CPE map, then runs
 * `vuln match`. Prints records/s (goal ≥ 5,000/s), match seconds (goal ≤ 10 s at full size) and
 * peak RSS (goal ≤ 512 MB), and the ratio of the load to `gzip -c` reading the same file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { insertRows, openDb } from "../src/db";
import { migrate } from "../src/db/migrations";
import { loadCpeMap, loadVulnerabilities, matchVulnerabilities } from "../src/loaders/vuln";
import { loadConfig } from "../src/config";
import { log, setupLogging } from "../src/log";

setupLogging({ level: "warn" });
const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) / 1024;
const CVES = Number(process.argv[2] ?? 50_000);
const PKGS = Number(process.argv[3] ?? 20_000);
const PRODUCTS = Math.max(1000, Math.floor(PKGS / 2));
const dir = mkdtempSync(join(tmpdir(), "altrepodb-bench-vuln-"));

let seed = 7;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const ver = () => `${1 + Math.floor(rand() * 5)}.${Math.floor(rand() * 20)}.${Math.floor(rand() * 10)}`;

// the feed file
const file = join(dir, "nvdcve-2.0-bench.json");
{
  const parts: string[] = ['{"format":"NVD_CVE","version":"2.0","vulnerabilities":['];
  for (let i = 0; i < CVES; i++) {
    const n = 3 + Math.floor(rand() * 2);
    const matches = Array.from({ length: n }, () => {
      const p = Math.floor(rand() * PRODUCTS);
      return { vulnerable: true, criteria: `cpe:2.3:a:vendor${p}:product${p}:*:*:*:*:*:*:*:*`, versionStartIncluding: "1.0", versionEndExcluding: ver(), matchCriteriaId: "x" };
    });
    const item = {
      cve: {
        id: `CVE-2020-${String(i + 10000)}`,
        published: "2020-01-01T00:00:00.000",
        lastModified: "2024-01-01T00:00:00.000",
        vulnStatus: "Analyzed",
        descriptions: [{ lang: "en", value: `Synthetic vulnerability number ${i} in a product of the bench, long enough to look like a real summary line.` }],
        metrics: { cvssMetricV31: [{ type: "Primary", cvssData: { baseScore: 7.5, baseSeverity: "HIGH" } }] },
        configurations: [{ nodes: [{ operator: "OR", negate: false, cpeMatch: matches }] }],
        references: [{ url: `https://example.org/${i}` }],
      },
    };
    parts.push(`${i ? "," : ""}${JSON.stringify(item)}`);
  }
  parts.push("]}");
  writeFileSync(file, parts.join(""));
}
const size = Bun.file(file).size;

const db = await openDb({ driver: "embedded", database: "bench", path: join(dir, "db") });
await migrate(db);
const config = loadConfig({ env: {}, cwd: "/nonexistent" });
const ctx = { db, config, log: log.child("bench") };

const t0 = performance.now();
const lc0 = process.cpuUsage();
const r = await loadVulnerabilities(ctx, { source: "nvd", from: file });
const loadS = (performance.now() - t0) / 1000;
const lc = process.cpuUsage(lc0);
const loadCpu = (lc.user + lc.system) / 1e6;

const g0 = performance.now();
Bun.spawnSync(["gzip", "-1", "-c", file], { stdout: "ignore" });
const gzipS = (performance.now() - g0) / 1000;

// a branch: PKGS source packages, half of them mapped to a product through their own name
const pkgs = Array.from({ length: PKGS }, (_, i) => ({ pkg_hash: BigInt(i + 1), pkg_name: `pkg${i}`, pkg_version: ver(), pkg_release: "alt1", pkg_sourcepackage: 1, pkg_arch: "x86_64" }));
await insertRows(db, "Packages", pkgs, ["pkg_hash", "pkg_name", "pkg_version", "pkg_release", "pkg_sourcepackage", "pkg_arch"]);
const RUUID = "11111111-1111-1111-1111-111111111111";
const SRPM = "22222222-2222-2222-2222-222222222222";
await insertRows(db, "PackageSet", pkgs.map((p) => ({ pkgset_uuid: SRPM, pkg_hash: p.pkg_hash })));
const node = (uuid: string, depth: number, name: string) => ({ pkgset_uuid: uuid, pkgset_puuid: RUUID, pkgset_ruuid: RUUID, pkgset_depth: depth, pkgset_nodename: name, pkgset_date: 1_700_000_000, pkgset_tag: "", pkgset_complete: 1, "pkgset_kv.k": [], "pkgset_kv.v": [] });
await insertRows(db, "PackageSetName", [node(SRPM, 1, "srpm"), node(RUUID, 0, "bench")]);
const map = join(dir, "map.tsv");
writeFileSync(map, Array.from({ length: PKGS / 2 }, (_, i) => `pkg${i}\tcpe:2.3:a:vendor${i % PRODUCTS}:product${i % PRODUCTS}:*:*:*:*:*:*:*:*`).join("\n"));
await loadCpeMap(ctx, { file: map });

// the peak of the match alone: VmHWM is reset here (Linux: "5" to clear_refs)
const loadPeak = hwm();
writeFileSync("/proc/self/clear_refs", "5");
const m0 = performance.now();
const mc0 = process.cpuUsage();
const m = await matchVulnerabilities(ctx, { branch: "bench" });
const matchS = (performance.now() - m0) / 1000;
const mc = process.cpuUsage(mc0);
const matchCpu = (mc.user + mc.system) / 1e6;
const matchPeak = hwm();
const m1 = performance.now();
const again = await matchVulnerabilities(ctx, { branch: "bench" });
const rematchS = (performance.now() - m1) / 1000;
await db.close();
rmSync(dir, { recursive: true, force: true });

console.log(`vuln load nvd: ${CVES.toLocaleString("en")} records (${(size / 1e6).toFixed(0)} MB, ${r.cpe_matches.toLocaleString("en")} ranges) in ${loadS.toFixed(2)} s = ${Math.round(CVES / loadS).toLocaleString("en")} records/s (goal ≥ 5,000; CPU ${loadCpu.toFixed(1)} s); ${(loadS / gzipS).toFixed(1)}× gzip -1 of the same file`);
console.log(`vuln match: ${PKGS.toLocaleString("en")} source packages, ${m.branches[0]!.matches.toLocaleString("en")} matches in ${matchS.toFixed(2)} s, CPU ${matchCpu.toFixed(2)} s (goal ≤ 10 s at 60k packages / 300k CVEs); rerun ${rematchS.toFixed(2)} s writing ${again.branches[0]!.written_matches} rows`);
console.log(`peak RSS of the match ${matchPeak.toFixed(0)} MB (goal ≤ 512 MB; the engine alone ≈ 250 MB), of the load before it ${loadPeak.toFixed(0)} MB`);
