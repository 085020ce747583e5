/**
 * Repology: which upstream project each ALT source package belongs to, per ALT repo
 * (PackagesNameConversion rows `pkg_name = <source package>`, `pnc_result = <project>`,
 * `pnc_type = altsisyphus | alt_p10 | alt_p11 | alt_p9`, `pnc_source = 'repology'`; one row per
 * (source package, project, repo)), and each project's newest version (RepologyLatestVersions).
 * Read from the API's project pages (`/api/v1/projects/<from>/?inrepo=<repo>`, 200 projects a
 * page, at most one request a second as Repology asks, with our User-Agent), or from a local JSON
 * file holding the same `{project: [packages]}` object (a dump). Pairs that left the feed become
 * `inactive`; a pair in the state the feed says gets no row; the newest version is written when it
 * changed. Options: repos (default altsisyphus, alt_p10, alt_p11), interval (seconds, default 1).
 */
import { getPart, isUrl, notHtml } from "./source.ts";
import type { FeedContext, FeedModule } from "./runner.ts";
import { partsHash, Rejects } from "./util.ts";

const ALT = /^(altsisyphus|alt_p\d+)$/;

interface RepologyPackage {
  repo?: string;
  srcname?: string;
  version?: string;
  status?: string;
}

async function pages(ctx: FeedContext, parts: { name: string; body: Uint8Array }[]): Promise<Record<string, RepologyPackage[]>> {
  const all: Record<string, RepologyPackage[]> = {};
  const parse = (body: Uint8Array, what: string) => {
    notHtml(body, what);
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(body));
    } catch (e) {
      throw new Error(`${what}: not complete JSON (${(e as Error).message})`);
    }
    if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new Error(`${what}: expected an object of projects`);
    return doc as Record<string, RepologyPackage[]>;
  };
  if (!isUrl(ctx.src.root)) {
    const dir = ctx.src.root.replace(/[^/]+$/, "") || ".";
    const p = await getPart({ ...ctx.src, root: dir }, ctx.src.root.slice(dir.length));
    if (p === "missing" || p === "not-modified") throw new Error(`${ctx.src.root}: not found`);
    parts.push(p);
    return parse(p.body, ctx.src.root);
  }
  const repos = (ctx.settings.options.repos as string[] | undefined) ?? ["altsisyphus", "alt_p10", "alt_p11"];
  const interval = Number(ctx.settings.options.interval ?? 1) * 1000;
  let last = 0;
  for (const repo of repos) {
    let from = "";
    for (let page = 0; page < 100_000; page++) {
      const wait = last + interval - Date.now();
      if (wait > 0) await Bun.sleep(wait);
      last = Date.now();
      const rel = `projects/${from ? `${encodeURIComponent(from)}/` : ""}?inrepo=${encodeURIComponent(repo)}`;
      const url = `${ctx.src.root.replace(/\/+$/, "")}/${rel}`;
      const p = await getPart({ ...ctx.src, root: url }, "");
      if (p === "missing" || p === "not-modified") throw new Error(`${url}: not found`);
      parts.push({ name: rel, body: p.body });
      const doc = parse(p.body, url);
      const names = Object.keys(doc).sort();
      let fresh = 0;
      for (const n of names) {
        if (!(n in all)) fresh++;
        all[n] = doc[n]!;
      }
      // the next page starts at the last project of this one (inclusive)
      if (names.length < 2 || fresh === 0 || names.at(-1) === from) break;
      from = names.at(-1)!;
    }
  }
  return all;
}

export const repology: FeedModule = {
  name: "repology",
  description: "Repology projects of ALT source packages and their newest versions (PackagesNameConversion, RepologyLatestVersions)",
  defaultSource: "https://repology.org/api/v1",
  minRows: 1,
  async read(ctx) {
    const parts: { name: string; body: Uint8Array }[] = [];
    const projects = await pages(ctx, parts);
    const rejects = new Rejects();
    const pairs = new Map<string, { pkg: string; project: string; repo: string }>();
    const newest = new Map<string, { version: string; repos: string[] }>();
    for (const [project, pkgs] of Object.entries(projects)) {
      if (!Array.isArray(pkgs)) {
        rejects.add(project, "not a list of packages");
        continue;
      }
      for (const p of pkgs) {
        if (!p || typeof p !== "object") continue;
        if (p.status === "newest" && typeof p.version === "string") {
          const n = newest.get(project) ?? { version: p.version, repos: [] };
          if (n.version === p.version && p.repo && !n.repos.includes(p.repo)) n.repos.push(p.repo);
          newest.set(project, n);
        }
        if (typeof p.repo !== "string" || !ALT.test(p.repo)) continue;
        if (typeof p.srcname !== "string" || !p.srcname) {
          rejects.add(`${project}/${p.repo}`, "ALT package without srcname");
          continue;
        }
        pairs.set(`${p.srcname}\t${project}\t${p.repo}`, { pkg: p.srcname, project, repo: p.repo });
      }
    }
    const state = new Map(
      (
        await ctx.db.query<{ k: string; s: string }>(
          "SELECT concat(pkg_name, '\\t', pnc_result, '\\t', toString(pnc_type)) AS k, argMax(pnc_state, ts) AS s FROM PackagesNameConversion WHERE pnc_source = 'repology' GROUP BY pkg_name, pnc_result, pnc_type",
        )
      ).map((r) => [r.k, r.s]),
    );
    const pnc: object[] = [];
    for (const [k, p] of pairs) if (state.get(k) !== "active") pnc.push({ pkg_name: p.pkg, pnc_state: "active", pnc_result: p.project, pnc_type: p.repo, pnc_source: "repology" });
    for (const [k, s] of state)
      if (s === "active" && !pairs.has(k)) {
        const [pkg, project, repo] = k.split("\t");
        pnc.push({ pkg_name: pkg, pnc_state: "inactive", pnc_result: project, pnc_type: repo, pnc_source: "repology" });
      }
    const have = new Map(
      (await ctx.db.query<{ p: string; v: string }>("SELECT rlv_project AS p, argMax(rlv_version, ts) AS v FROM RepologyLatestVersions GROUP BY rlv_project")).map((r) => [r.p, r.v]),
    );
    const latest: object[] = [];
    for (const [project, n] of newest) if (have.get(project) !== n.version) latest.push({ rlv_project: project, rlv_version: n.version, rlv_repos: n.repos.sort() });
    return {
      records: pairs.size,
      tables: [
        { table: "PackagesNameConversion", rows: pnc, columns: ["pkg_name", "pnc_state", "pnc_result", "pnc_type", "pnc_source"] },
        { table: "RepologyLatestVersions", rows: latest, columns: ["rlv_project", "rlv_version", "rlv_repos"] },
      ],
      rejected: rejects.items,
      etag: "",
      lastModified: "",
      contentHash: partsHash(parts),
    };
  },
};
