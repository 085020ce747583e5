/** Input and report of the repository snapshot loader (CLI `repo load`, daemon `repo.load`). */
import type { RowCounts } from "../../db";
import type { FileSearchReport } from "../filesearch";

export interface RepoLoadInput {
  /** Branch / package set name, e.g. "p10" (lower-cased). */
  branch: string;
  /** Snapshot root directory. */
  path: string;
  /** Snapshot date, YYYY-MM-DD. */
  date: string;
  /** Free text stored in PackageSetName.pkgset_tag. */
  tag?: string;
  /** Replace an already complete load of the same branch and date. */
  force?: boolean;
  /** Parser threads (default: config load.workers). */
  workers?: number;
  /** Read and parse everything, write nothing. */
  dryRun?: boolean;
  /** Do not refresh FileSearch after the load (default: refresh; `altrepodb search rebuild` does it later). */
  noFileSearch?: boolean;
}

export type { FailedItem } from "../context";
import type { FailedItem } from "../context";

export interface RepoLoadReport {
  branch: string;
  date: string;
  path: string;
  /** True when the package set (root row) was written: nothing is missing. */
  complete: boolean;
  /** Set when the snapshot's lists were byte-identical to this earlier load's: its package set was copied. */
  unchangedFrom?: string;
  dryRun: boolean;
  packages: { seen: number; known: number; parsed: number; failed: number };
  failures: FailedItem[];
  rows: RowCounts;
  seconds: number;
  /** FileSearch refresh after the load (src/loaders/filesearch.ts); absent for a dry run or when skipped. */
  fileSearch?: FileSearchReport;
  /** Why the FileSearch refresh failed (the package set itself is loaded; `search rebuild` redoes it). */
  fileSearchError?: string;
}
