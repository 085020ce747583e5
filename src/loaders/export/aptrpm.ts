/**
 * `export apt-rpm`: the lists of one arch directory (`<arch>/base/pkglist.<comp>`, srclist,
 * release) of stored package sets, from the database only: each entry is built from the
 * package's stored main header (PackageHeaderBlob, sql/0109) with genpkglist's rules
 * (src/export/aptrpm). Written to a temporary directory, renamed into place at the end.
 */
import type { Merged } from "../../export/merge";
import type { MergeMethod } from "../../export/merge";
import { binariesBySource, buildPkglist, buildSrclist, CHANGELOG_SINCE, cmp, writeArchLists, type AptPackage, type WrittenFile } from "../../export/aptrpm";
import { join } from "node:path";
import { quoteIntList, type Db } from "../../db";
import type { LoadContext } from "../context";
import { InputError, throwIfAborted } from "../errors";
import { commitOut, discardTmp, prepareOut } from "./outdir";
import { readMergedSets } from "./index";
import type { SetPackage } from "./set";

const BATCH = 2000;
const BIG = { settings: { max_query_size: 64 * 1024 * 1024 } };

export interface AptrpmExportOptions {
  sets: readonly string[];
  /** One arch directory of the branch (noarch is its own). */
  arch: string;
  out: string;
  /** Only this component (default: every component of the arch directory). */
  component?: string;
  method?: MergeMethod;
}

export interface AptrpmExportReport {
  sets: { set: string; date: string }[];
  arch: string;
  out: string;
  method: MergeMethod;
  components: { component: string; packages: number; sources: number }[];
  files: WrittenFile[];
  seconds: number;
}

interface Placed {
  p: Merged<SetPackage>;
  comp: string;
}

/** Binaries of the arch directory `arch`, with their component (`<arch>/RPMS.<comp>`). */
function binariesOf(packages: readonly Merged<SetPackage>[], arch: string): Placed[] {
  const out: Placed[] = [];
  const seen = new Set<string>();
  for (const p of packages) {
    if (p.source) continue;
    const m = /^([^/]+)\/RPMS\.([^/]+)$/.exec(p.dir);
    if (!m || m[1] !== arch) continue;
    const key = `${p.pkgHash}\0${m[2]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ p, comp: m[2] });
  }
  return out;
}

interface RowFacts {
  h: bigint;
  hdr: string;
  md5: string;
  b2: string;
  size: number;
}

/** Header blob, digests and size of each package; names what lacks a header blob. */
async function readAptPackages(db: Db, pkgs: readonly SetPackage[]): Promise<Map<bigint, AptPackage>> {
  const out = new Map<bigint, AptPackage>();
  const byHash = new Map(pkgs.map((p) => [p.pkgHash, p]));
  const hashes = [...byHash.keys()];
  for (let i = 0; i < hashes.length; i += BATCH) {
    const list = quoteIntList(hashes.slice(i, i + BATCH));
    const rows = await db.query<RowFacts>(
      `SELECT b.h AS h, b.hdr AS hdr, d.md5 AS md5, d.b2 AS b2, s.size AS size
       FROM (SELECT pkg_hash AS h, base64Encode(any(phb_header)) AS hdr FROM PackageHeaderBlob WHERE pkg_hash IN ${list} GROUP BY pkg_hash) AS b
       INNER JOIN (SELECT pkgh_mmh AS h, lower(hex(min(pkgh_md5))) AS md5, lower(hex(min(pkgh_blake2b))) AS b2 FROM PackageHash WHERE pkgh_mmh IN ${list} GROUP BY pkgh_mmh) AS d ON d.h = b.h
       INNER JOIN (SELECT pkg_hash AS h, any(pkg_filesize) AS size FROM Packages WHERE pkg_hash IN ${list} GROUP BY pkg_hash) AS s ON s.h = b.h`,
      BIG,
    );
    for (const r of rows) {
      const p = byHash.get(BigInt(r.h))!;
      out.set(p.pkgHash, {
        header: new Uint8Array(Buffer.from(r.hdr, "base64")),
        fileName: p.fileName,
        fileSize: Number(r.size),
        md5: r.md5,
        blake2b: r.b2,
        name: p.name,
        sourceRpm: p.source ? "" : p.sourceRpm,
      });
    }
  }
  const lacking = pkgs.filter((p) => !out.has(p.pkgHash));
  if (lacking.length) {
    const names = [...new Set(lacking.map((p) => p.fileName))];
    throw new InputError(
      `${names.length} of ${byHash.size} packages lack what apt-rpm needs (the stored header, kept by loads since migration 0109), e.g. ${names.slice(0, 5).join(", ")}; ` +
        "load them again with `altrepodb package load --force FILE…`",
    );
  }
  return out;
}

/** File paths named by the dependencies of `hashes` (Depends: requires, provides, conflicts, obsoletes). */
async function readDepFiles(db: Db, hashes: readonly bigint[]): Promise<Set<string>> {
  const out = new Set<string>();
  const dec = new TextDecoder();
  for (let i = 0; i < hashes.length; i += 20_000) {
    const rows = await db.query<{ n: string }>(
      `SELECT DISTINCT base64Encode(dp_name) AS n FROM Depends WHERE startsWith(dp_name, '/') AND pkg_hash IN ${quoteIntList(hashes.slice(i, i + 20_000))}`,
      BIG,
    );
    for (const r of rows) out.add(dec.decode(Buffer.from(r.n, "base64")));
  }
  return out;
}

export async function exportAptrpm(ctx: LoadContext, opts: AptrpmExportOptions): Promise<AptrpmExportReport> {
  const t0 = performance.now();
  const method = opts.method ?? "name";
  const m = await readMergedSets(ctx, opts.sets, method);
  let placed = binariesOf(m.packages, opts.arch);
  if (placed.length === 0) {
    const dirs = [...new Set(m.packages.filter((p) => !p.source).map((p) => p.dir.split("/")[0]))].sort();
    throw new InputError(`no binary packages in arch directory ${opts.arch} of ${opts.sets.join(" + ")} (its arch directories are: ${dirs.join(", ") || "none"})`);
  }
  if (opts.component !== undefined) {
    const comps = [...new Set(placed.map((x) => x.comp))].sort();
    placed = placed.filter((x) => x.comp === opts.component);
    if (placed.length === 0) throw new InputError(`no component ${opts.component} in ${opts.arch} of ${opts.sets.join(" + ")} (its components are: ${comps.join(", ")})`);
  }
  const comps = [...new Set(placed.map((x) => x.comp))].sort(cmp);
  // sources of the binaries listed, one per file name
  const wanted = new Set(placed.map((x) => x.p.sourceRpm));
  const sources = new Map<string, SetPackage>();
  for (const p of m.packages) if (p.source && wanted.has(p.fileName) && !sources.has(p.fileName)) sources.set(p.fileName, p);
  // useful files: named by the dependencies of any binary of the set (all arch directories)
  const allBinaries = new Map<bigint, SetPackage>();
  for (const p of m.packages) if (!p.source) allBinaries.set(p.pkgHash, p);
  const rows = await readAptPackages(ctx.db, [...placed.map((x) => x.p), ...sources.values()]);
  throwIfAborted(ctx.signal);
  const deps = await readDepFiles(ctx.db, [...allBinaries.keys()]);
  const revision = Math.max(...m.sets.map((s) => s.dateEpoch));
  const { out, tmp } = prepareOut(opts.out);
  try {
    const lists = comps.map((comp) => {
      const bins = placed.filter((x) => x.comp === comp).map((x) => rows.get(x.p.pkgHash)!);
      const pk = buildPkglist(bins, { directory: `RPMS.${comp}`, changelogSince: CHANGELOG_SINCE, depFiles: deps });
      const srcNames = new Set(bins.map((b) => b.sourceRpm));
      const srcs = [...sources.values()].filter((s) => srcNames.has(s.fileName)).map((s) => rows.get(s.pkgHash)!);
      const sr = buildSrclist(srcs, { directory: `../SRPMS.${comp}`, binaries: binariesBySource(bins) });
      return { comp, pkglist: pk.bytes, srclist: sr.bytes, packages: pk.packages.length, sources: sr.packages.length };
    });
    throwIfAborted(ctx.signal);
    const branch = m.sets[0].spec.branch;
    const files = writeArchLists(join(tmp, opts.arch), opts.arch, lists, { branch, time: revision }).map((f) => ({ ...f, path: `${opts.arch}/${f.path}` }));
    commitOut(out, tmp, { tool: "altrepodb export apt-rpm", sets: m.sets.map((s) => `${s.spec.branch}@${s.date}`), arch: opts.arch, method });
    const report: AptrpmExportReport = {
      sets: m.sets.map((s) => ({ set: s.spec.given, date: s.date })),
      arch: opts.arch,
      out,
      method,
      components: lists.map((l) => ({ component: l.comp, packages: l.packages, sources: l.sources })),
      files,
      seconds: (performance.now() - t0) / 1000,
    };
    ctx.log.info("apt-rpm lists written", { out, arch: opts.arch, packages: placed.length, seconds: report.seconds.toFixed(2) });
    return report;
  } catch (e) {
    discardTmp(tmp);
    if (e instanceof Error && "code" in e && typeof (e as NodeJS.ErrnoException).syscall === "string") {
      throw new InputError(`cannot write the lists beside ${out}: ${e.message}; nothing was changed in ${out}`);
    }
    throw e;
  }
}
