/**
 * Exporters a trigger's `export = { kind = "…", … }` can run after a branch load. Empty in this
 * build: the export loader (src/loaders/export) registers its formats here, one line each, e.g.
 *
 *   EXPORTERS["rpm-md"] = (ctx, req) => exportRpmMd(ctx, { sets: [`${req.branch}@${req.date}`], ...req.options });
 *
 * A trigger whose kind is not registered is reported by `config check` (a warning) and skipped,
 * with a log line, when it would fire.
 */
import type { LoadContext } from "../loaders/context";

export interface ExportRequest {
  kind: string;
  branch: string;
  date: string;
  /** The export block without `kind`; "{branch}" and "{date}" in string values replaced. */
  options: Record<string, unknown>;
}

export type Exporter = (ctx: LoadContext, req: ExportRequest) => Promise<unknown>;

export const EXPORTERS: Record<string, Exporter> = {};

/** The block's values with {branch} and {date} filled in (strings and arrays of strings). */
export function exportOptions(block: Record<string, unknown>, branch: string, date: string): Record<string, unknown> {
  const fill = (x: unknown): unknown => (typeof x === "string" ? x.replaceAll("{branch}", branch).replaceAll("{date}", date) : Array.isArray(x) ? x.map(fill) : x);
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(block)) if (k !== "kind") out[k] = fill(val);
  return out;
}
