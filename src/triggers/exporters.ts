/**
 * Exporters a trigger's `export = { kind = "…", … }` can run after a branch load: the export
 * loader's formats (src/loaders/export), one entry each. `kind = "rpm-md"` takes `arch` and
 * `out` (required), `method`, `compress`, `incremental` and `sign`, as `export rpm-md` does.
 *
 * A trigger whose kind is not registered is reported by `config check` (a warning) and skipped,
 * with a log line, when it would fire.
 */
import type { LoadContext } from "../loaders/context";
import { MERGE_METHODS } from "../export/merge";
import { COMPRESSIONS } from "../export/rpmmd";
import { exportRpmmd, type RpmmdExportOptions } from "../loaders/export";

export interface ExportRequest {
  kind: string;
  branch: string;
  date: string;
  /** The export block without `kind`; "{branch}" and "{date}" in string values replaced. */
  options: Record<string, unknown>;
}

export type Exporter = (ctx: LoadContext, req: ExportRequest) => Promise<unknown>;

/** The options of an rpm-md export block, checked by name and type (a wrong one names its key). */
function rpmmdOptions(req: ExportRequest): RpmmdExportOptions {
  const o = req.options;
  const str = (k: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined && !required) return undefined;
    if (typeof v !== "string" || v === "") throw new Error(`export.${k} must be a non-empty string`);
    return v;
  };
  const known = new Set(["arch", "out", "method", "compress", "incremental", "sign"]);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`export.${k}: unknown key for kind "rpm-md"`);
  const method = str("method", false);
  if (method !== undefined && !(MERGE_METHODS as readonly string[]).includes(method)) throw new Error(`export.method must be "name" or "nvr"`);
  const compress = str("compress", false);
  if (compress !== undefined && !(COMPRESSIONS as readonly string[]).includes(compress)) throw new Error(`export.compress must be "gz", "zstd" or "xz"`);
  if (o.incremental !== undefined && typeof o.incremental !== "boolean") throw new Error("export.incremental must be true or false");
  return {
    sets: [`${req.branch}@${req.date}`],
    arch: str("arch", true)!,
    out: str("out", true)!,
    method: method as RpmmdExportOptions["method"],
    compress: compress as RpmmdExportOptions["compress"],
    incremental: o.incremental as boolean | undefined,
    sign: str("sign", false),
  };
}

export const EXPORTERS: Record<string, Exporter> = {
  "rpm-md": (ctx, req) => exportRpmmd(ctx, rpmmdOptions(req)),
};

/** The block's values with {branch} and {date} filled in (strings and arrays of strings). */
export function exportOptions(block: Record<string, unknown>, branch: string, date: string): Record<string, unknown> {
  const fill = (x: unknown): unknown => (typeof x === "string" ? x.replaceAll("{branch}", branch).replaceAll("{date}", date) : Array.isArray(x) ? x.map(fill) : x);
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(block)) if (k !== "kind") out[k] = fill(val);
  return out;
}
