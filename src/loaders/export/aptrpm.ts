/**
 * `export apt-rpm`: the lists of one arch directory (`<arch>/base/pkglist.<comp>`, srclist,
 * release) of stored package sets, from the database only: each entry is built from the
 * package's stored main header (PackageHeaderBlob, sql/0109) with genpkglist's rules
 * (src/export/aptrpm). Written to a temporary directory, renamed into place at the end.
 */
import type { Merged } from "../../export/merge";
import type { MergeMethod } from "../../export/merge";
import { binariesBySource, buildPkglist, buildSrclist, CHANGELOG_SINCE, cmp, pkglistOrder, writeArchLists, type AptPackage, type WrittenFile } from "../../export/aptrpm";
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
  if (lacking.length) throw lackingError([...new Set(lacking.map((p) => p.fileName))], byHash.size);
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

/** Names the packages that have no stored header (loaded before migration 0109). */
async function checkHeaders(db: Db, pkgs: readonly SetPackage[]): Promise<void> {
  const hashes = [...new Set(pkgs.map((p) => p.pkgHash))];
  const have = new Set<bigint>();
  for (let i = 0; i < hashes.length; i += 20_000) {
    const rows = await db.query<{ h: bigint }>(`SELECT DISTINCT pkg_hash AS h FROM PackageHeaderBlob WHERE pkg_hash IN ${quoteIntList(hashes.slice(i, i + 20_000))}`, BIG);
    for (const r of rows) have.add(BigInt(r.h));
  }
  const names = [...new Set(pkgs.filter((p) => !have.has(p.pkgHash)).map((p) => p.fileName))];
  if (names.length) throw lackingError(names, hashes.length);
}

function lackingError(names: string[], of: number): InputError {
  return new InputError(
    `${names.length} of ${of} packages lack what apt-rpm needs (the stored header, kept by loads since migration 0109), e.g. ${names.slice(0, 5).join(", ")}; ` +
      "load them again with `altrepodb package load --force FILE…`",
  );
}

/** `build` over the rows of `pkgs`, batch by batch, in order; the parts concatenated. */
async function inBatches(ctx: LoadContext, pkgs: readonly SetPackage[], build: (rows: AptPackage[]) => Uint8Array): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let i = 0; i < pkgs.length; i += BATCH) {
    throwIfAborted(ctx.signal);
    const batch = pkgs.slice(i, i + BATCH);
    const rows = await readAptPackages(ctx.db, batch);
    const part = build(batch.map((p) => rows.get(p.pkgHash)!));
    parts.push(part);
    size += part.length;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
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
  await checkHeaders(ctx.db, [...placed.map((x) => x.p), ...sources.values()]);
  throwIfAborted(ctx.signal);
  const deps = await readDepFiles(ctx.db, [...allBinaries.keys()]);
  const revision = Math.max(...m.sets.map((s) => s.dateEpoch));
  const { out, tmp } = prepareOut(opts.out);
  try {
    // entries are made batch by batch in list order: memory holds one batch of headers and the lists
    const lists = [];
    for (const comp of comps) {
      const bins = pkglistOrder(placed.filter((x) => x.comp === comp).map((x) => x.p));
      const pkglist = await inBatches(ctx, bins, (rows) => buildPkglist(rows, { directory: `RPMS.${comp}`, changelogSince: CHANGELOG_SINCE, depFiles: deps, keepOrder: true }).bytes);
      const srcNames = new Set(bins.map((b) => b.sourceRpm));
      const srcs = [...sources.values()].filter((s) => srcNames.has(s.fileName)).sort((a, b) => cmp(a.fileName, b.fileName));
      const binaries = binariesBySource(bins);
      const srclist = await inBatches(ctx, srcs, (rows) => buildSrclist(rows, { directory: `../SRPMS.${comp}`, binaries, keepOrder: true }).bytes);
      lists.push({ comp, pkglist, srclist, packages: bins.length, sources: srcs.length });
    }
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
