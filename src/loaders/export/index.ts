/**
 * `export rpm-md` and `pkgset merge`: read stored package sets (set.ts), merge them
 * (src/export/merge.ts), feed the rpm-md writers (src/export/rpmmd) from the database only.
 * The output goes to a temporary directory beside --out, renamed into place at the end.
 */
import { mergePackages, type MergeMethod, type Merged } from "../../export/merge";
import { filelistsFragment, otherFragment, primaryFragment, RpmmdWriter, signDetached, type Compression, type Fragments, type RepomdRecord } from "../../export/rpmmd";
import { join } from "node:path";
import type { LoadContext } from "../context";
import { InputError, throwIfAborted } from "../errors";
import { FragmentCache } from "./cache";
import { commitOut, discardTmp, prepareOut } from "./outdir";
import { ExportBatches, lackingRpmmdFields, readRpmmdRows, type PackagePlace } from "./rpmmd-rows";
import { parseSetSpec, readSetPackages, resolveSet, type ResolvedSet, type SetPackage } from "./set";

export { parseSetSpec, resolveSet, readSetPackages, type SetPackage, type ResolvedSet } from "./set";

/**
 * Packages read from the database per batch: each batch scans FileNames once (it has no index
 * by fn_hash), so batches are large; memory stays bounded by the batch.
 */
const BATCH = 2000;

export interface MergedSets {
  sets: ResolvedSet[];
  packages: Merged<SetPackage>[];
}

/** Resolves and reads every set, then merges them (first match wins). */
export async function readMergedSets(ctx: LoadContext, specs: readonly string[], method: MergeMethod): Promise<MergedSets> {
  if (specs.length === 0) throw new InputError("no package set given");
  const parsed = specs.map(parseSetSpec);
  const sets: ResolvedSet[] = [];
  for (const p of parsed) sets.push(await resolveSet(ctx.db, p));
  const inputs = [];
  for (const s of sets) inputs.push({ origin: s.spec.given, packages: await readSetPackages(ctx.db, s) });
  return { sets, packages: mergePackages(inputs, method) };
}

export interface PkgsetMergeReport {
  sets: { set: string; date: string }[];
  method: MergeMethod;
  packages: { name: string; epoch: number; version: string; release: string; arch: string; source: boolean; origin: string }[];
}

export async function mergeSets(ctx: LoadContext, specs: readonly string[], method: MergeMethod = "name"): Promise<PkgsetMergeReport> {
  const m = await readMergedSets(ctx, specs, method);
  const seen = new Set<string>();
  const packages: PkgsetMergeReport["packages"] = [];
  for (const p of m.packages) {
    const key = `${p.pkgHash}\0${p.origin}`;
    if (seen.has(key)) continue; // one package under two components of a set
    seen.add(key);
    packages.push({ name: p.name, epoch: p.epoch, version: p.version, release: p.release, arch: p.arch, source: p.source, origin: p.origin });
  }
  return { sets: m.sets.map((s) => ({ set: s.spec.given, date: s.date })), method, packages };
}

export interface RpmmdExportOptions {
  sets: readonly string[];
  arch: string;
  out: string;
  method?: MergeMethod;
  compress?: Compression;
  incremental?: boolean;
  /** gpg key (id, fingerprint or user id) for repodata/repomd.xml.asc. */
  sign?: string;
}

export interface RpmmdExportReport {
  sets: { set: string; date: string }[];
  arch: string;
  out: string;
  method: MergeMethod;
  packages: number;
  /** Packages whose fragments came from the cache of the previous export (--incremental). */
  reused: number;
  /** Packages read from the database. */
  read: number;
  revision: number;
  files: RepomdRecord[];
  seconds: number;
}

/** The binaries of `arch` and noarch, one per package, sorted by file name (createrepo_c's order). */
export function selectArch(packages: readonly Merged<SetPackage>[], arch: string): Merged<SetPackage>[] {
  const chosen = packages.filter((p) => !p.source && (p.arch === arch || p.arch === "noarch"));
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  chosen.sort((a, b) => cmp(a.fileName, b.fileName) || cmp(a.dir, b.dir));
  const seen = new Set<bigint>();
  return chosen.filter((p) => (seen.has(p.pkgHash) ? false : (seen.add(p.pkgHash), true)));
}

export async function exportRpmmd(ctx: LoadContext, opts: RpmmdExportOptions): Promise<RpmmdExportReport> {
  const t0 = performance.now();
  const method = opts.method ?? "name";
  const m = await readMergedSets(ctx, opts.sets, method);
  const chosen = selectArch(m.packages, opts.arch);
  ctx.log.debug("export: sets read", { packages: m.packages.length, chosen: chosen.length, ms: Math.round(performance.now() - t0) });
  if (chosen.length === 0) {
    const archs = [...new Set(m.packages.filter((p) => !p.source).map((p) => p.arch))].sort();
    throw new InputError(`no ${opts.arch} or noarch binary packages in ${opts.sets.join(" + ")} (its binaries are: ${archs.join(", ") || "none"})`);
  }
  const batches = await ExportBatches.create(ctx.db, chosen.map((p) => p.pkgHash));
  try {
    return await exportChosen(ctx, opts, method, m, chosen, batches, t0);
  } finally {
    await batches.drop();
  }
}

async function exportChosen(
  ctx: LoadContext,
  opts: RpmmdExportOptions,
  method: MergeMethod,
  m: MergedSets,
  chosen: Merged<SetPackage>[],
  batches: ExportBatches,
  t0: number,
): Promise<RpmmdExportReport> {
  const lacking = await lackingRpmmdFields(ctx.db, batches);
  if (lacking.size) {
    const names = chosen.filter((p) => lacking.has(p.pkgHash)).map((p) => p.fileName);
    throw new InputError(
      `${lacking.size} of ${chosen.length} packages lack what rpm-md needs (header range, dependency order, sha256 — stored by loads since migration 0108), e.g. ${names.slice(0, 5).join(", ")}; ` +
        `load them again with \`altrepodb package load --force FILE…\``,
    );
  }
  ctx.log.debug("export: fields checked", { ms: Math.round(performance.now() - t0) });
  const revision = Math.max(...m.sets.map((s) => s.dateEpoch));
  const { out, tmp, previous } = prepareOut(opts.out);
  const cache = opts.incremental ? FragmentCache.dirs(previous, tmp) : undefined;
  let read = 0;
  let writer: RpmmdWriter | undefined;
  try {
    writer = new RpmmdWriter(tmp, chosen.length, { compress: opts.compress ?? "gz", revision });
    for (let i = 0; i < chosen.length; i += BATCH) {
      throwIfAborted(ctx.signal);
      const batch = chosen.slice(i, i + BATCH);
      const frags: (Fragments | undefined)[] = batch.map((p) => cache?.take(p.pkgHash, href(p)));
      const todo = batch.filter((_, k) => !frags[k]);
      if (todo.length) {
        const t1 = performance.now();
        // a batch of mostly cached packages names its few misses; a full one its seq range
        const list = todo.length === batch.length ? batches.range(i, i + batch.length) : `(${todo.map((p) => p.pkgHash).join(", ")})`;
        const rows = await readRpmmdRows(ctx.db, todo.map(place), list);
        ctx.log.debug("export: rows read", { packages: rows.length, ms: Math.round(performance.now() - t1) });
        read += rows.length;
        let j = 0;
        batch.forEach((p, k) => {
          if (frags[k]) return;
          const r = rows[j++];
          const f = { primary: primaryFragment(r), filelists: filelistsFragment(r), other: otherFragment(r) };
          cache?.put(p.pkgHash, href(p), f);
          frags[k] = f;
        });
      }
      for (const f of frags) writer.add(f!);
      ctx.progress?.({ phase: "export", done: Math.min(i + BATCH, chosen.length), total: chosen.length });
    }
    ctx.log.debug("export: fragments written", { ms: Math.round(performance.now() - t0) });
    const files = await writer.finish();
    ctx.log.debug("export: compressed", { ms: Math.round(performance.now() - t0) });
    if (opts.sign) {
      try {
        await signDetached(join(tmp, "repodata", "repomd.xml"), opts.sign);
      } catch (e) {
        throw new InputError(`${(e as Error).message}; nothing was changed in ${out}`);
      }
    }
    throwIfAborted(ctx.signal);
    commitOut(out, tmp, { tool: "altrepodb export rpm-md", sets: m.sets.map((s) => `${s.spec.branch}@${s.date}`), arch: opts.arch, method });
    const report: RpmmdExportReport = {
      sets: m.sets.map((s) => ({ set: s.spec.given, date: s.date })),
      arch: opts.arch,
      out,
      method,
      packages: chosen.length,
      reused: cache?.hits ?? 0,
      read,
      revision,
      files,
      seconds: (performance.now() - t0) / 1000,
    };
    ctx.log.info("rpm-md repository written", { out, packages: report.packages, reused: report.reused, seconds: report.seconds.toFixed(2) });
    return report;
  } catch (e) {
    writer?.abort();
    discardTmp(tmp);
    if (e instanceof Error && "code" in e && typeof (e as NodeJS.ErrnoException).syscall === "string") {
      throw new ExportWriteError(`cannot write the repository beside ${out}: ${e.message}; nothing was changed in ${out}`);
    }
    throw e;
  }
}

/** The output could not be written (full disk, read-only directory): exit 1, nothing left in place. */
export class ExportWriteError extends Error {
  override name = "ExportWriteError";
}

function href(p: SetPackage): string {
  return `${p.dir}/${p.fileName}`;
}

function place(p: SetPackage): PackagePlace {
  return { pkgHash: p.pkgHash, name: p.name, arch: p.arch, epoch: p.epoch, version: p.version, release: p.release, href: href(p) };
}
export { exportAptrpm, type AptrpmExportOptions, type AptrpmExportReport } from "./aptrpm";
