/**
 * `loadRepo`: one repository snapshot (branch + date) into the database (reference §2).
 * Called by `altrepodb repo load` and by the daemon's repo.load messages.
 *
 * Order: layout and lists → an unchanged snapshot is copied from its earlier load → otherwise
 * the packages not yet known are parsed and written (src/packages) → PackageSet/PackageSetName of
 * srpm, arch and component nodes → root node last (tree.ts). The root row is the "complete" mark;
 * everything before it can be rerun without doubling rows.
 */
import { join } from "node:path";
import { PackageStore, type PackageFile, type PackageLoadOptions, type PackageOutcome } from "../../packages";
import type { LoadContext } from "../context";
import { AlreadyLoaded, InputError, throwIfAborted } from "../errors";
import { withLoadLock } from "../lock";
import { indexFiles } from "./search";
import { readSnapshot, type Snapshot } from "./layout";
import { cloneLoad, recordLoad, sameSnapshot, snapshotFingerprint, storedFiles } from "./unchanged";
import { checkFiles } from "./files";
import { badEntryName, binaryPaths, readListing, type Digests, type Listing } from "./lists";
import { deleteLoad, existingLoads, hasPartialRows, nodeUuid } from "./pkgset";
import { buildTree, writeTree } from "./tree";
import type { FailedItem, RepoLoadInput, RepoLoadReport } from "./types";

export type { RepoLoadInput, RepoLoadReport } from "./types";

function parseDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== date) throw new InputError(`date must be YYYY-MM-DD, got ${JSON.stringify(date)}`);
  return t / 1000;
}

function fileOf(path: string, name: string, d: Digests | undefined, source: boolean): PackageFile {
  return { path, name, source, md5: d?.md5, sha256: d?.sha256, blake2b: d?.blake2b };
}

/**
 * Loads the snapshot holding the lease on its branch and date (src/loaders/lock.ts): a second
 * load of the same key, in any process on any host, waits for the first or fails with
 * LoadLocked. A dry run writes nothing and takes no lease.
 */
export async function loadRepo(ctx: LoadContext, input: RepoLoadInput): Promise<RepoLoadReport> {
  if (input.dryRun) return loadRepoHeld(ctx, input);
  // bad input is reported before the database is asked for anything
  const branch = checkBranch(input.branch);
  parseDate(input.date);
  const snap = readSnapshot(input.path);
  const report = await withLoadLock(ctx, `repo ${branch} ${input.date}`, (c) => loadRepoHeld(c, input, snap), ctx.lock);
  // FileSearch follows the branch's latest package set (after the lease: it has its own)
  await indexFiles(ctx, report, input);
  return report;
}

function checkBranch(name: string): string {
  const branch = name.toLowerCase();
  if (!/^[a-z0-9][a-z0-9_.+-]*$/.test(branch)) throw new InputError(`branch name ${JSON.stringify(name)} is not a plain name`);
  return branch;
}

async function loadRepoHeld(ctx: LoadContext, input: RepoLoadInput, layout?: Snapshot): Promise<RepoLoadReport> {
  const t0 = performance.now();
  const branch = checkBranch(input.branch);
  const dateEpoch = parseDate(input.date);
  const db = ctx.db;
  const log = ctx.log;
  const dryRun = input.dryRun ?? false;

  let mark = t0;
  const phase = (name: string) => {
    const now = performance.now();
    const mem = process.memoryUsage();
    log.debug(`phase ${name}`, { ms: Math.round(now - mark), rssMb: Math.round(mem.rss / 1048576), heapMb: Math.round(mem.heapUsed / 1048576), externalMb: Math.round(mem.external / 1048576) });
    mark = now;
  };
  const snap = layout ?? readSnapshot(input.path);
  const ruuid = nodeUuid(branch, input.date, "/");

  if (!dryRun) {
    const loads = await existingLoads(db, branch, dateEpoch);
    const complete = loads.filter((l) => l.complete);
    if (complete.length && !input.force) {
      throw new AlreadyLoaded(`package set ${branch} ${input.date} is already loaded (use --force to replace it)`);
    }
    for (const l of input.force ? loads : loads.filter((x) => !x.complete)) {
      log.info(input.force ? "replacing the existing load" : "replacing an incomplete load", { ruuid: l.ruuid });
      await deleteLoad(db, l.ruuid);
    }
    if (await hasPartialRows(db, ruuid)) {
      log.info("finishing an interrupted load", { ruuid });
      await deleteLoad(db, ruuid);
    }
  }

  phase("check");

  // an unchanged snapshot (same lists as an earlier complete load): copy that package set, after
  // the same file checks as a full load (a file deleted or truncated since is not copied as complete)
  const fingerprint = dryRun ? undefined : snapshotFingerprint(snap);
  const same = fingerprint && !input.force ? await sameSnapshot(db, branch, fingerprint) : undefined;
  if (fingerprint && same && same !== ruuid) {
    // the files as the database knows them from that load (cheaper than reading the lists); any
    // problem sends the load down the full path, which reads the lists and reports it
    const stored = await storedFiles(db, same);
    const usable = stored.length > 0 && stored.every((f) => f.dir !== "" && !badEntryName(f.name));
    const problems = usable ? checkFiles(snap.root, stored.map((f) => ({ path: join(snap.root, f.dir, f.name), size: f.size || undefined }))) : undefined;
    phase("files checked");
    if (problems && problems.size === 0) {
      const c = await cloneLoad(db, same, branch, input.date, dateEpoch, input.tag ?? "");
      await recordLoad(db, branch, input.date, ruuid, fingerprint);
      phase("package set copied");
      const report: RepoLoadReport = {
        branch,
        date: input.date,
        path: snap.root,
        complete: true,
        dryRun,
        unchangedFrom: same,
        packages: { seen: c.packages, known: c.packages, parsed: 0, failed: 0 },
        failures: [],
        rows: c.rows,
        seconds: (performance.now() - t0) / 1000,
      };
      log.info("package set loaded (snapshot unchanged: copied from an earlier load)", { branch, date: input.date, from: same, packages: c.packages, seconds: report.seconds.toFixed(2) });
      return report;
    }
    log.warn("the snapshot's lists are unchanged since an earlier load, but some of its files are not: loading it in full", { from: same, problems: problems?.size });
  }

  // the parser workers start (and load their code) while the lists are read
  const store = await PackageStore.open(ctx, { workers: input.workers ?? ctx.config.load.workers, dryRun });
  let listing: Listing;
  try {
    listing = await readListing(snap);
  } catch (e) {
    await store.close();
    throw e;
  }
  for (const w of listing.warnings) log.warn(w);
  phase("lists");
  throwIfAborted(ctx.signal);

  const failures: FailedItem[] = listing.rejected.map((r) => ({ path: `${r.list}: ${r.entry}`, error: r.error }));
  const srcNames = [...listing.sources.keys()];
  const binNames = [...listing.binaries.keys()];
  let srcOut: PackageOutcome[] = [];
  let binOut: PackageOutcome[] = [];
  try {
    // sources and binaries in one pass: the store reads the sources' hashes first (binaries
    // refer to them) and parses both side by side; each binary file once, from the first
    // component that lists it (noarch files repeat)
    const srcFiles = srcNames.map((n) => fileOf(join(snap.root, "files", "SRPMS", n), n, listing.sources.get(n), true));
    const where = binaryPaths(snap.root, listing);
    const binFiles = binNames.map((n) => fileOf(where.get(n) ?? n, n, listing.binaries.get(n), false));
    const beforeParse = async (files: readonly PackageFile[]) => {
      if (!files.some((f) => !f.source)) return;
      await listing.loadBinarySha256();
      for (const f of files) if (!f.source) f.sha256 ??= listing.binaries.get(f.name ?? "")?.sha256;
    };
    log.info("loading packages", { sources: srcFiles.length, binaries: binFiles.length });
    const sizes = new Map<string, number | undefined>();
    for (const f of srcFiles) sizes.set(f.path, listing.sources.get(f.name ?? "")?.size);
    for (const f of binFiles) sizes.set(f.path, listing.binaries.get(f.name ?? "")?.size);
    const out = await loadPresent(store, snap.root, [...srcFiles, ...binFiles], sizes, failures, { beforeParse });
    srcOut = out.slice(0, srcFiles.length);
    binOut = out.slice(srcFiles.length);
    phase("packages");
  } finally {
    await store.close();
  }
  for (const w of store.warnings) log.debug(w.warning, { path: w.path });
  const outcomes = [...srcOut, ...binOut];
  const complete = failures.length === 0;

  const tree = buildTree(snap, listing, branch, input.date, hashByName(srcNames, srcOut), hashByName(binNames, binOut));
  const treeRows = dryRun ? {} : await writeTree(db, tree, { dateEpoch, tag: input.tag ?? "", complete, signal: ctx.signal });
  if (!dryRun && complete && fingerprint) await recordLoad(db, branch, input.date, ruuid, fingerprint);
  phase("package set");

  const rows = { ...store.rows, ...treeRows };
  const count = (s: PackageOutcome["status"]) => outcomes.filter((o) => o.status === s).length;
  const report: RepoLoadReport = {
    branch,
    date: input.date,
    path: snap.root,
    complete: complete && !dryRun,
    dryRun,
    packages: { seen: outcomes.length, known: count("known"), parsed: count("loaded") + count("duplicate"), failed: failures.length },
    failures,
    rows,
    seconds: (performance.now() - t0) / 1000,
  };
  log.info(complete ? "package set loaded" : "package set loaded INCOMPLETE", {
    branch,
    date: input.date,
    packages: report.packages.seen,
    known: report.packages.known,
    parsed: report.packages.parsed,
    failed: report.packages.failed,
    seconds: report.seconds.toFixed(2),
  });
  return report;
}

function hashByName(names: readonly string[], out: readonly PackageOutcome[]): Map<string, bigint> {
  const m = new Map<string, bigint>();
  names.forEach((n, i) => {
    const o = out[i];
    if (o.status !== "failed") m.set(n, o.pkgHash);
  });
  return m;
}

/**
 * Loads the files that pass checkFiles (present, regular, inside the root, of the listed size);
 * each other one is a failure naming the path and the reason.
 */
async function loadPresent(
  store: PackageStore,
  root: string,
  files: PackageFile[],
  sizes: ReadonlyMap<string, number | undefined>,
  failures: FailedItem[],
  opts?: PackageLoadOptions,
): Promise<PackageOutcome[]> {
  const problems = checkFiles(root, files.map((f) => ({ path: f.path, size: sizes.get(f.path) })));
  const present = files.filter((f) => !problems.has(f.path));
  const loaded = await store.load(present, opts);
  const byPath = new Map(present.map((f, i) => [f.path, loaded[i]]));
  return files.map((f) => {
    const o = byPath.get(f.path) ?? { status: "failed" as const, error: problems.get(f.path) ?? "not loaded" };
    if (o.status === "failed") failures.push({ path: f.path, error: o.error });
    return o;
  });
}
