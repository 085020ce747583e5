/** Messages between the package store (main thread) and its parser workers. */
import type { LayoutColumn } from "../db";
import type { PackageFile } from "./types";

export type Layouts = Record<string, LayoutColumn[]>;

export type ToWorker =
  | { type: "init"; layouts: Layouts }
  | { type: "sources"; hashes: Map<string, bigint> }
  /** Read the header only and report its pkg_hash. */
  | { type: "identify"; id: number; path: string }
  /** Parse, digest, build and encode every row of one package. */
  | { type: "load"; id: number; file: PackageFile };

export interface EncodedTable {
  data: Uint8Array;
  rows: number;
}

export type FromWorker =
  | { type: "identified"; id: number; pkgHash: bigint }
  | {
      type: "loaded";
      id: number;
      pkgHash: bigint;
      md5: Uint8Array;
      tables: Record<string, EncodedTable>;
      /** PackageHash row alone (written even when the package rows are dropped as duplicates). */
      warnings: string[];
    }
  | { type: "failed"; id: number; error: string };
