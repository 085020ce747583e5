/** Paths of the shared real-file corpus and helpers to list it (tests only). */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO_ROOT = resolve(import.meta.dir, "..", "..");
/** The shared corpus, vendored into tests/corpus-real (origins in its README.md and MANIFEST.tsv). */
export const CORPUS = process.env.ALTREPODB_CORPUS ?? resolve(REPO_ROOT, "tests", "corpus-real");
export const CORPUS_RPM = join(CORPUS, "rpm");
export const P10_PKGLIST = join(CORPUS, "aptrpm", "p10-x86_64-checkinstall", "base", "pkglist.classic.xz");
export const P10_RELEASE = join(CORPUS, "aptrpm", "p10-x86_64-checkinstall", "base", "release");
export const hasCorpus = existsSync(CORPUS_RPM);

/** Every file below `dir` whose name contains ".rpm", sorted. */
export function rpmFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((f) => join(dir, f))
    .filter((f) => f.includes(".rpm") && statSync(f).isFile())
    .sort();
}

export function corpusFile(rel: string): string {
  return join(CORPUS_RPM, rel);
}

export function scratchDir(name: string): string {
  const base = process.env.ALTREPODB_TEST_SCRATCH ?? join(REPO_ROOT, ".tmp", "test");
  const dir = join(base, `rpm-${name}-${process.pid}`);
  return dir;
}
