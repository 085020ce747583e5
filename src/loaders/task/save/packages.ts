/**
 * The task's RPMs through the shared PackageStore (never parsed twice): the source packages of
 * the iterations, then their binaries (pkg_srcrpm_hash = the iteration's source), then the arepo
 * packages (pkg_srcrpm_hash = 0). Digests known from the plan and pkglist.task.xz are passed
 * along; noarch binaries get theirs computed from the file, because the same noarch package is
 * built on every arch with differing files (reference §3.5).
 */
import { basename } from "node:path";
import { PackageStore, type PackageFile, type PackageOutcome } from "../../../packages";
import type { RowCounts } from "../../../db";
import type { FailedItem } from "../../context";
import type { LoadContext } from "../../context";
import type { TaskFs } from "../fs";
import type { Task } from "../model";
import { fsName } from "../text";

export interface TaskPackages {
  /** pkg_hash by task-relative path; absent: the file could not be loaded. */
  hashes: Map<string, bigint>;
  /** Task-relative paths of the files that could not be loaded. */
  failed: Set<string>;
  stats: { seen: number; known: number; parsed: number; failed: number };
  failures: FailedItem[];
  rows: RowCounts;
  warnings: FailedItem[];
}

function digestsFor(task: Task, rel: string, noarchRule: boolean): Pick<PackageFile, "md5" | "sha256" | "blake2b"> {
  const name = basename(rel);
  if (noarchRule && name.includes(".noarch.rpm")) return {};
  const d = task.digests.get(name);
  return d ? { md5: d.md5, sha256: d.sha256, blake2b: d.blake2b } : {};
}

export async function loadTaskPackages(ctx: LoadContext, task: Task, fs: TaskFs, opts: { force: boolean; dryRun: boolean; workers: number }): Promise<TaskPackages> {
  const out: TaskPackages = { hashes: new Map(), failed: new Set(), stats: { seen: 0, known: 0, parsed: 0, failed: 0 }, failures: [], rows: {}, warnings: [] };
  const srpms: string[] = [];
  const seen = new Set<string>();
  const present = (rel: string, why: string): boolean => {
    if (seen.has(rel)) return false;
    seen.add(rel);
    if (!fs.confined(rel)) {
      // a path out of the task directory: never read (the refusal is among the task's problems)
      out.stats.seen++;
      out.stats.failed++;
      out.failed.add(rel);
      return false;
    }
    if (fs.isFile(rel)) return true;
    fail(rel, `${why} not found`);
    return false;
  };
  const fail = (rel: string, error: string) => {
    out.stats.seen++;
    out.stats.failed++;
    out.failed.add(rel);
    out.failures.push({ path: fs.abs(rel), error });
  };
  for (const it of task.iterations) if (it.srpm && present(fsName(it.srpm), "source package of the iteration")) srpms.push(fsName(it.srpm));
  let bins: { rel: string; srpm?: string; arepo: boolean }[] = [];
  for (const it of task.iterations)
    for (const r of it.rpms) if (present(fsName(r), "binary package of the iteration")) bins.push({ rel: fsName(r), srpm: it.srpm ? fsName(it.srpm) : undefined, arepo: false });
  for (const r of task.arepo) if (present(r, "arepo package")) bins.push({ rel: r, arepo: true });
  if (srpms.length + bins.length === 0) return out;

  const store = await PackageStore.open(ctx, { workers: opts.workers, dryRun: opts.dryRun });
  const record = (rel: string, o: PackageOutcome) => {
    if (o.status === "failed") return fail(rel, o.error);
    out.stats.seen++;
    if (o.status === "known") out.stats.known++;
    else out.stats.parsed++;
    out.hashes.set(rel, o.pkgHash);
  };
  try {
    const srcFiles: PackageFile[] = srpms.map((rel) => ({ path: fs.abs(rel), source: true, ...digestsFor(task, rel, false) }));
    const srcOut = await store.load(srcFiles, { force: opts.force });
    srpms.forEach((rel, i) => record(rel, srcOut[i]));
    // a binary stores its source's pkg_hash, and a stored package is never parsed again: binaries
    // whose source package could not be read wait for it (else they would keep pkg_srcrpm_hash 0)
    const orphans = bins.filter((b) => b.srpm && out.failed.has(b.srpm));
    for (const b of orphans) fail(b.rel, `not loaded: its source package ${b.srpm} could not be read`);
    bins = bins.filter((b) => !orphans.includes(b));
    const binFiles: PackageFile[] = bins.map((b) => ({
      path: fs.abs(b.rel),
      source: false,
      srcrpmHash: b.srpm ? (out.hashes.get(b.srpm) ?? 0n) : 0n,
      ...digestsFor(task, b.rel, !b.arepo),
    }));
    const binOut = await store.load(binFiles, { force: opts.force });
    bins.forEach((b, i) => record(b.rel, binOut[i]));
  } finally {
    out.rows = await store.close();
    for (const w of store.warnings) out.warnings.push({ path: w.path, error: w.warning });
  }
  return out;
}
