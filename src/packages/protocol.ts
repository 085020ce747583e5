/** Messages between the package store (main thread) and its parser workers. */
import type { LayoutColumn } from "../db";
import type { PackageFile } from "./types";

export type Layouts = Record<string, LayoutColumn[]>;

/**
 * Requests carry several files: one message per package cost more on the main thread than the
 * parsing did in the workers.
 */
export type ToWorker =
  | { type: "init"; layouts: Layouts }
  | { type: "sources"; hashes: Map<string, bigint> }
  /** Read the headers only and report each pkg_hash. */
  | { type: "identify"; id: number; paths: string[] }
  /** Parse, digest, build and encode every row of each package. */
  | { type: "load"; id: number; files: PackageFile[] };

export interface EncodedTable {
  data: Uint8Array;
  rows: number;
}

export type Identified = { ok: true; pkgHash: bigint } | { ok: false; error: string };

export type Loaded =
  | {
      ok: true;
      pkgHash: bigint;
      md5: Uint8Array;
      warnings: string[];
      /** table → [start, end, rows] in that table's buffer of the reply. */
      spans: Record<string, [number, number, number]>;
    }
  | { ok: false; error: string };

export type FromWorker =
  | { type: "identified"; id: number; results: Identified[] }
  /** One buffer per table holds the rows of every package of the request, back to back. */
  | { type: "loaded"; id: number; results: Loaded[]; buffers: Record<string, Uint8Array> }
  /** The whole request failed (the worker died): each file is tried again on its own. */
  | { type: "failed"; id: number; error: string };

/** The encoded tables of one package of a reply, as views of the reply's buffers. */
export function tablesOf(result: Extract<Loaded, { ok: true }>, buffers: Record<string, Uint8Array>): Record<string, EncodedTable> {
  const out: Record<string, EncodedTable> = {};
  for (const [table, [start, end, rows]] of Object.entries(result.spans)) out[table] = { data: buffers[table].subarray(start, end), rows };
  return out;
}
