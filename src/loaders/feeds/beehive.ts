/**
 * Beehive (reference §2.2): rebuild results per branch and arch from
 * `logs/<Branch>/<arch>/latest/{time.list,error/,success/}` and `stats/<Branch>/<arch>/ftbfs-since`.
 * One run of one arch is one `bh_updated` (the `latest` entry's day at 12:00 in the feed's zone),
 * as the API expects; a (branch, arch) whose run is already stored is skipped. Package hashes come
 * from the branch's package set of that day (or the last one before it) and, for packages not in
 * it, from the branch's tasks. A branch that answers 404 is skipped with a note. Unlike the
 * reference, one package without a hash or a status is rejected (counted), not the whole run; a
 * time.list that disagrees with the error/success listings is refused for that arch.
 * Options: branches (default Sisyphus, p11, p10), archs (default i586, x86_64).
 */
import { quoteString, type Db } from "../../db/index.ts";
import { srpmHashesSql } from "../pkgset-sql.ts";
import { getPart, listDir, notHtml } from "./source.ts";
import type { FeedContext, FeedModule } from "./runner.ts";
import { lines, partsHash, Rejects } from "./util.ts";
import { zonedToEpoch } from "./time.ts";

/** name-version-release of a time.list entry, as the reference splits it. */
export function splitNvr(s: string): { name: string; version: string; release: string } {
  const base = s.replace(/\.src\.rpm$/, "");
  const parts = base.split("-");
  if (parts.length >= 3 && parts.at(-1)!.startsWith("alt")) {
    const release = parts.at(-1)!;
    const version = parts.at(-2)!.replace(/^\d+:/, "");
    return { name: parts.slice(0, -2).join("-"), version, release };
  }
  return { name: base, version: "", release: "" };
}

interface ArchRun {
  branch: string;
  arch: string;
  updated: number;
  times: [string, number][];
  errors: Set<string>;
  successes: Set<string>;
  ftbfs: Map<string, number>;
}

async function hashes(db: Db, branch: string, day: number, names: string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (!names.length) return out;
  const root = await db.query<{ r: string }>(
    `SELECT toString(pkgset_ruuid) AS r FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = ${quoteString(branch)} AND pkgset_date <= toDateTime(${day + 86400})
     ORDER BY pkgset_date DESC LIMIT 1`,
  );
  const inList = names.map(quoteString).join(",");
  const add = (rows: { n: string; v: string; r: string; h: bigint }[]) => {
    for (const x of rows) if (!out.has(`${x.n}-${x.v}-${x.r}`)) out.set(`${x.n}-${x.v}-${x.r}`, BigInt(x.h));
  };
  if (root[0])
    add(
      await db.query(
        `SELECT pkg_name AS n, pkg_version AS v, pkg_release AS r, pkg_hash AS h FROM Packages WHERE pkg_sourcepackage = 1 AND pkg_name IN (${inList}) AND pkg_hash IN
         (${srpmHashesSql(root[0].r)})`,
      ),
    );
  add(
    await db.query(
      `SELECT pkg_name AS n, pkg_version AS v, pkg_release AS r, pkg_hash AS h FROM Packages WHERE pkg_sourcepackage = 1 AND pkg_name IN (${inList}) AND pkg_hash IN
       (SELECT titer_srcrpm_hash FROM TaskIterations WHERE task_id IN (SELECT task_id FROM Tasks WHERE task_repo = ${quoteString(branch)}))`,
    ),
  );
  return out;
}

async function fetchRun(ctx: FeedContext, branch: string, arch: string, parts: { name: string; body: Uint8Array }[], notes: string[]): Promise<ArchRun | undefined> {
  const logs = `logs/${branch}/${arch}`;
  const dir = await listDir(ctx.src, logs);
  if (dir === "missing") {
    notes.push(`${branch}/${arch}: not on the server (404), skipped`);
    return undefined;
  }
  const latest = dir.find((e) => e.name === "latest" || e.name === "latest/");
  if (!latest?.modified) throw new Error(`${logs}/: no "latest" entry with a time in the listing`);
  const d = new Date(latest.modified * 1000);
  // the day of `latest` in the feed's zone, at 12:00 there
  const parts2 = Object.fromEntries(new Intl.DateTimeFormat("en-CA", { timeZone: ctx.src.tz, year: "numeric", month: "2-digit", day: "2-digit" }).formatToParts(d).map((p) => [p.type, p.value]));
  const updated = zonedToEpoch(Number(parts2.year), Number(parts2.month), Number(parts2.day), 12, 0, 0, ctx.src.tz);
  const get = async (rel: string) => {
    const p = await getPart(ctx.src, rel);
    if (p === "missing" || p === "not-modified") throw new Error(`${rel}: not found`);
    notHtml(p.body, rel);
    parts.push(p);
    return new TextDecoder().decode(p.body);
  };
  const times: [string, number][] = [];
  for (const [, l] of lines(await get(`${logs}/latest/time.list`))) {
    const [name, t] = l.split("\t");
    if (name && t !== undefined && Number.isFinite(Number(t))) times.push([name.trim(), Number(t)]);
  }
  const names = async (rel: string) => {
    const e = await listDir(ctx.src, rel);
    if (e === "missing") throw new Error(`${rel}/: not found`);
    return new Set(e.filter((x) => !x.name.endsWith("/")).map((x) => x.name));
  };
  const errors = await names(`${logs}/latest/error`);
  const successes = await names(`${logs}/latest/success`);
  const ftbfs = new Map<string, number>();
  for (const [, l] of lines(await get(`stats/${branch}/${arch}/ftbfs-since`))) {
    const [name, t] = l.split("\t");
    if (name && Number.isFinite(Number(t))) ftbfs.set(name.trim(), Number(t));
  }
  return { branch, arch, updated, times, errors, successes, ftbfs };
}

export const beehive: FeedModule = {
  name: "beehive",
  description: "Beehive rebuild results per branch and arch (BeehiveStatus)",
  defaultSource: "https://git.altlinux.org/beehive",
  minRows: 1,
  async read(ctx) {
    const branches = (ctx.settings.options.branches as string[] | undefined) ?? ["Sisyphus", "p11", "p10"];
    const archs = (ctx.settings.options.archs as string[] | undefined) ?? ["i586", "x86_64"];
    const stored = new Map(
      (await ctx.db.query<{ k: string; u: number }>("SELECT concat(pkgset_name, '/', toString(bh_arch)) AS k, toUnixTimestamp(max(bh_updated)) AS u FROM BeehiveStatus GROUP BY k")).map((r) => [
        r.k,
        Number(r.u),
      ]),
    );
    const parts: { name: string; body: Uint8Array }[] = [];
    const notes: string[] = [];
    const runs: ArchRun[] = [];
    for (const b of branches)
      for (const a of archs) {
        const run = await fetchRun(ctx, b, a, parts, notes);
        if (run) runs.push(run);
      }
    const rows: object[] = [];
    const rejects = new Rejects();
    let records = 0;
    for (const run of runs) {
      const branch = run.branch.toLowerCase();
      records += run.times.length;
      if (!ctx.force && stored.get(`${branch}/${run.arch}`) === run.updated) {
        notes.push(`${run.branch}/${run.arch}: the run of ${new Date(run.updated * 1000).toISOString().slice(0, 10)} is already stored`);
        continue;
      }
      if (run.times.length !== new Set([...run.errors, ...run.successes]).size) {
        rejects.add(`${run.branch}/${run.arch}`, `time.list has ${run.times.length} packages, the error and success listings ${run.errors.size + run.successes.size}: arch skipped`);
        continue;
      }
      const nvrs = run.times.map(([n]) => splitNvr(n));
      const known = await hashes(ctx.db, branch, run.updated, [...new Set(nvrs.map((x) => x.name))]);
      run.times.forEach(([file, t], k) => {
        const nvr = nvrs[k]!;
        const hash = known.get(`${nvr.name}-${nvr.version}-${nvr.release}`);
        const status = run.successes.has(file) ? "success" : run.errors.has(file) ? "error" : undefined;
        if (hash === undefined) return rejects.add(`${run.branch}/${run.arch}/${file}`, "no such source package in the branch or its tasks");
        if (!status) return rejects.add(`${run.branch}/${run.arch}/${file}`, "neither in error/ nor in success/");
        const since = status === "error" ? (run.ftbfs.get(nvr.name) ?? run.updated) : run.updated;
        rows.push({ pkg_hash: hash, pkg_name: nvr.name, pkg_version: nvr.version, pkg_release: nvr.release, pkgset_name: branch, bh_arch: run.arch, bh_status: status, bh_build_time: t, bh_updated: run.updated, bh_ftbfs_since: since });
      });
    }
    return { records, tables: [{ table: "BeehiveStatus", rows }], rejected: rejects.items, etag: "", lastModified: "", contentHash: partsHash(parts), notes };
  },
};
