/**
 * Package ↔ vulnerability matching as a pure function over rows (no database): source packages
 * with the CPEs their names map to, against CpeMatch rows indexed by part:vendor:product.
 * Every pair whose product is equal yields one PackagesCveMatch row; `is_vulnerable` says whether
 * the package's upstream version is inside the range, so a later "no longer vulnerable" is a new
 * row with 0 (the latest row per key_hash wins, schema-newer-tables.md §2.8).
 */
import { mmhash } from "../hash/index.ts";
import { CpeError, parseCpe, productKey, versionInRange, type Cpe, type CpeRange } from "./index.ts";

/** A CpeMatch row as stored (sql/0003_newer_tables.sql). */
export interface CpeMatchRow {
  vuln_id: string;
  vuln_hash: bigint;
  cpe_hash: bigint;
  cpm_cpe: string;
  cpm_version_start: string;
  cpm_version_end: string;
  cpm_version_start_excluded: number;
  cpm_version_end_excluded: number;
  cpm_version_hash: bigint;
}

/** A source package of a package set with the CPEs its name maps to. */
export interface MatchPackage {
  pkg_hash: bigint;
  pkg_name: string;
  /** upstream version (Packages.pkg_version): CPE ranges speak of upstream versions */
  pkg_version: string;
  cpes: string[];
}

/** A PackagesCveMatch row (without the materialized ts). */
export interface PackageCveMatchRow {
  key_hash: bigint;
  pkg_hash: bigint;
  pkg_name: string;
  pkg_cpe: string;
  pkg_cpe_hash: bigint;
  vuln_id: string;
  vuln_hash: bigint;
  cpm_cpe: string;
  cpm_cpe_hash: bigint;
  cpm_version_hash: bigint;
  is_vulnerable: number;
}

interface IndexedMatch {
  row: CpeMatchRow;
  range: CpeRange;
}

/** CpeMatch rows by part:vendor:product; rows whose CPE cannot be parsed are counted in `bad`. */
export class CpeMatchIndex {
  private readonly byProduct = new Map<string, IndexedMatch[]>();
  readonly bad: { cpe: string; error: string }[] = [];
  size = 0;

  /** parsed criteria (ranges of one product often share one criteria string) */
  private readonly parsed = new Map<string, Cpe | CpeError>();

  add(row: CpeMatchRow): void {
    let cpe = this.parsed.get(row.cpm_cpe);
    if (!cpe) {
      try {
        cpe = parseCpe(row.cpm_cpe);
      } catch (e) {
        if (!(e instanceof CpeError)) throw e;
        cpe = e;
      }
      this.parsed.set(row.cpm_cpe, cpe);
    }
    if (cpe instanceof CpeError) {
      this.bad.push({ cpe: row.cpm_cpe, error: cpe.message });
      return;
    }
    const key = productKey(cpe);
    const range: CpeRange = {
      version: cpe.version,
      update: cpe.update,
      start: row.cpm_version_start,
      startExcluded: row.cpm_version_start_excluded !== 0,
      end: row.cpm_version_end,
      endExcluded: row.cpm_version_end_excluded !== 0,
    };
    let list = this.byProduct.get(key);
    if (!list) this.byProduct.set(key, (list = []));
    list.push({ row, range });
    this.size++;
  }

  get(key: string): readonly IndexedMatch[] {
    return this.byProduct.get(key) ?? [];
  }
}

/** key_hash of a match: mmhash over the five identities, written as decimal numbers one after another. */
export function matchKeyHash(pkgHash: bigint, pkgCpeHash: bigint, vulnHash: bigint, cpmCpeHash: bigint, cpmVersionHash: bigint): bigint {
  return mmhash(`${pkgHash}${pkgCpeHash}${vulnHash}${cpmCpeHash}${cpmVersionHash}`);
}

export interface MatchResult {
  rows: PackageCveMatchRow[];
  /** package CPEs that could not be parsed, with the package name */
  badPackageCpes: { pkg_name: string; cpe: string; error: string }[];
}

/** Every (package, CpeMatch) pair with an equal product, with is_vulnerable set by version. */
export function matchPackages(packages: Iterable<MatchPackage>, index: CpeMatchIndex): MatchResult {
  const rows: PackageCveMatchRow[] = [];
  const badPackageCpes: MatchResult["badPackageCpes"] = [];
  for (const pkg of packages) {
    for (const pkgCpe of pkg.cpes) {
      let key: string;
      try {
        key = productKey(parseCpe(pkgCpe));
      } catch (e) {
        if (!(e instanceof CpeError)) throw e;
        badPackageCpes.push({ pkg_name: pkg.pkg_name, cpe: pkgCpe, error: e.message });
        continue;
      }
      const candidates = index.get(key);
      if (!candidates.length) continue;
      const pkgCpeHash = mmhash(pkgCpe);
      for (const { row, range } of candidates) {
        rows.push({
          key_hash: matchKeyHash(pkg.pkg_hash, pkgCpeHash, row.vuln_hash, row.cpe_hash, row.cpm_version_hash),
          pkg_hash: pkg.pkg_hash,
          pkg_name: pkg.pkg_name,
          pkg_cpe: pkgCpe,
          pkg_cpe_hash: pkgCpeHash,
          vuln_id: row.vuln_id,
          vuln_hash: row.vuln_hash,
          cpm_cpe: row.cpm_cpe,
          cpm_cpe_hash: row.cpe_hash,
          cpm_version_hash: row.cpm_version_hash,
          is_vulnerable: versionInRange(pkg.pkg_version, range) ? 1 : 0,
        });
      }
    }
  }
  return { rows, badPackageCpes };
}
