/**
 * package_loader (reference bin/package_loader, repo-and-task-loaders.md §3.11): single RPM
 * files into Packages/Files/Depends/Changelog/Specfiles/PackageHash through the PackageStore.
 *
 * Differences: binary packages are accepted too (the reference refused them). A binary's
 * pkg_srcrpm_hash is its source package's pkg_hash: from a source package given in the same
 * command, else from the database (the latest source package stored under that file name),
 * else 0 with a warning. Several files per run; a file whose digest is already stored is not
 * parsed again unless --force.
 */
import { statSync, type Stats } from "node:fs";
import { basename, resolve } from "node:path";
import { quoteString, type Db, type RowCounts } from "../../db";
import { PackageStore, type PackageFile, type PackageOutcome } from "../../packages";
import { fileTypeOf } from "../../rpm";
import { readPackage } from "../../rpm/package";
import type { LoadContext } from "../context";
import type { FailedItem } from "../context";

export interface PackageLoadInput {
  files: string[];
  force?: boolean;
  dryRun?: boolean;
  workers?: number;
}

export interface PackageFileReport {
  path: string;
  source: boolean;
  status: PackageOutcome["status"] | "missing";
  pkgHash?: string;
  error?: string;
}

export interface PackageLoadReport {
  complete: boolean;
  dryRun: boolean;
  files: PackageFileReport[];
  packages: { seen: number; known: number; parsed: number; failed: number };
  failures: FailedItem[];
  warnings: FailedItem[];
  rows: RowCounts;
  seconds: number;
}

/** Source file name → pkg_hash of the latest source package stored under that name. */
async function storedSources(db: Db, names: string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  if (names.length === 0) return out;
  const rows = await db.query<{ n: string; h: bigint }>(
    `SELECT pkg_filename AS n, argMax(pkg_hash, pkg_buildtime) AS h FROM Packages
     WHERE pkg_filename IN (${names.map(quoteString).join(", ")}) AND pkg_sourcerpm = pkg_filename GROUP BY pkg_filename`,
  );
  for (const r of rows) out.set(r.n, BigInt(r.h));
  return out;
}

export async function loadPackages(ctx: LoadContext, input: PackageLoadInput): Promise<PackageLoadReport> {
  const started = performance.now();
  const report: PackageLoadReport = { complete: false, dryRun: !!input.dryRun, files: [], packages: { seen: 0, known: 0, parsed: 0, failed: 0 }, failures: [], warnings: [], rows: {}, seconds: 0 };
  const sources: string[] = [];
  const binaries: string[] = [];
  const missing = (path: string, error: string) => {
    report.files.push({ path, source: false, status: "missing", error });
    report.failures.push({ path, error });
    report.packages.seen++;
    report.packages.failed++;
  };
  for (const f of input.files) {
    const path = resolve(f);
    let st: Stats;
    try {
      st = statSync(path);
    } catch (e) {
      missing(path, (e as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : `cannot read: ${(e as Error).message}`);
      continue;
    }
    // a FIFO, socket or device is never opened (opening a FIFO waits for a writer)
    if (!st.isFile()) {
      missing(path, `not a regular file (${fileTypeOf(st)})`);
      continue;
    }
    (path.endsWith(".src.rpm") ? sources : binaries).push(path);
  }
  // a binary's source package, when it is not in this run: by SOURCERPM name in the DB
  const wanted = new Set<string>();
  const sourceNames = new Set(sources.map((p) => basename(p)));
  for (const b of binaries) {
    try {
      const srpm = new TextDecoder().decode(readPackage(b).sourcerpm);
      if (srpm && !sourceNames.has(srpm)) wanted.add(srpm);
    } catch {
      // unreadable: the store reports it
    }
  }
  const sourceHashes = await storedSources(ctx.db, [...wanted]);

  if (sources.length + binaries.length > 0) {
    const store = await PackageStore.open(ctx, { workers: input.workers ?? ctx.config.load.workers, dryRun: input.dryRun });
    const record = (paths: string[], outs: PackageOutcome[], source: boolean) =>
      paths.forEach((path, i) => {
        const o = outs[i];
        report.packages.seen++;
        if (o.status === "failed") {
          report.packages.failed++;
          report.failures.push({ path, error: o.error });
          report.files.push({ path, source, status: "failed", error: o.error });
          return;
        }
        if (o.status === "known") report.packages.known++;
        else report.packages.parsed++;
        if (source) sourceHashes.set(basename(path), o.pkgHash);
        report.files.push({ path, source, status: o.status, pkgHash: String(o.pkgHash) });
      });
    try {
      const srcFiles: PackageFile[] = sources.map((path) => ({ path, source: true }));
      record(sources, await store.load(srcFiles, { force: input.force }), true);
      const binFiles: PackageFile[] = binaries.map((path) => ({ path, source: false }));
      record(binaries, await store.load(binFiles, { force: input.force, sourceHashes }), false);
    } finally {
      report.rows = await store.close();
      for (const w of store.warnings) report.warnings.push({ path: w.path, error: w.warning });
    }
  }
  report.complete = report.failures.length === 0;
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
