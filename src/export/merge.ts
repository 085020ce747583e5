/**
 * Merging package lists of several sets, first match wins, each package keeping its origin.
 *
 * - `name` (mergerepo_c `--method repo`, Koji tag inheritance): a source package name present in
 *   an earlier set hides every package of that source name (the source and all its binaries) in
 *   the later sets — a later set never mixes its binaries into an earlier set's build.
 * - `nvr`: a package (name, epoch, version, release, arch, source or binary) present in an earlier
 *   set hides the same package in later sets; other versions of the same name are all kept.
 *
 * Pure: plain lists in, a plain list out, sorted by name, arch, EVR, origin order.
 */

/** How several sets merge, as `--method` and a trigger's `export.method` name it. */
export const MERGE_METHODS = ["name", "nvr"] as const;
export type MergeMethod = (typeof MERGE_METHODS)[number];

export interface MergeItem {
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  source: boolean;
  /** Name of the source package (a source package's own name). */
  sourceName: string;
}

export interface MergeInput<T extends MergeItem> {
  /** The set as the user gave it (`p10`, `sisyphus@2026-11-01`). */
  origin: string;
  packages: readonly T[];
}

export type Merged<T> = T & { origin: string };

/** Source package name from a source rpm file name (`foo-bar-1.0-alt1.src.rpm` → `foo-bar`). */
export function sourceNameOf(srpmFile: string): string {
  const base = srpmFile.replace(/\.(no)?src\.rpm$/, "");
  const r = base.lastIndexOf("-");
  if (r <= 0) return base;
  const v = base.lastIndexOf("-", r - 1);
  return v <= 0 ? base.slice(0, r) : base.slice(0, v);
}

function nvrKey(p: MergeItem): string {
  return `${p.name}\0${p.epoch}\0${p.version}\0${p.release}\0${p.arch}\0${p.source ? 1 : 0}`;
}

export function mergePackages<T extends MergeItem>(inputs: readonly MergeInput<T>[], method: MergeMethod): Merged<T>[] {
  const out: { p: Merged<T>; order: number }[] = [];
  const claimed = new Set<string>();
  inputs.forEach((input, order) => {
    const mine = new Set<string>();
    for (const p of input.packages) {
      const key = method === "name" ? p.sourceName : nvrKey(p);
      if (claimed.has(key)) continue;
      mine.add(key);
      out.push({ p: { ...p, origin: input.origin }, order });
    }
    for (const k of mine) claimed.add(k);
  });
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  out.sort(
    (a, b) =>
      cmp(a.p.name, b.p.name) ||
      Number(a.p.source) - Number(b.p.source) ||
      cmp(a.p.arch, b.p.arch) ||
      a.p.epoch - b.p.epoch ||
      cmp(a.p.version, b.p.version) ||
      cmp(a.p.release, b.p.release) ||
      a.order - b.order,
  );
  return out.map((x) => x.p);
}
