/**
 * `vuln map load FILE`: a TSV `project<TAB>cpe` (`#` comments, blank lines ignored) into
 * PackagesNameConversion as `pnc_type = 'cpe'`, `pnc_source = 'manual'` rows keyed by the
 * Repology project name (schema-newer-tables.md §2.7). History is append-only: a pair becomes
 * active by a new row, and with `replace` a manual pair missing from the file becomes inactive by
 * a new row; a pair already in the state the file asks for gets no row (a rerun writes nothing).
 */
import { readFileSync } from "node:fs";
import { CpeError, parseCpe } from "../../cpe/index.ts";
import { insertRows } from "../../db/index.ts";
import type { FailedItem, LoadContext } from "../context.ts";
import { InputError } from "../errors.ts";
import type { NameConversionRow } from "./rows.ts";

export interface CpeMapInput {
  file: string;
  /** deactivate manual CPE rows that the file no longer lists */
  replace?: boolean;
  dryRun?: boolean;
}

export interface CpeMapReport {
  file: string;
  pairs: number;
  activated: number;
  deactivated: number;
  unchanged: number;
  rejected: FailedItem[];
  complete: boolean;
}

export const MANUAL = "manual";

export function parseCpeMap(text: string, file: string): { pairs: Map<string, [string, string]>; rejected: FailedItem[] } {
  const pairs = new Map<string, [string, string]>();
  const rejected: FailedItem[] = [];
  text.split("\n").forEach((raw, k) => {
    const line = raw.replace(/\r$/, "");
    if (!line.trim() || line.trimStart().startsWith("#")) return;
    const where = `${file}:${k + 1}`;
    const f = line.split("\t");
    if (f.length !== 2 || !f[0]!.trim() || !f[1]!.trim()) {
      rejected.push({ path: where, error: `expected "project<TAB>cpe", got ${f.length} field(s)` });
      return;
    }
    const project = f[0]!.trim();
    const cpe = f[1]!.trim();
    try {
      parseCpe(cpe);
    } catch (e) {
      if (!(e instanceof CpeError)) throw e;
      rejected.push({ path: where, error: e.message });
      return;
    }
    pairs.set(`${project}\t${cpe}`, [project, cpe]);
  });
  return { pairs, rejected };
}

export async function loadCpeMap(ctx: LoadContext, input: CpeMapInput): Promise<CpeMapReport> {
  let text: string;
  try {
    text = readFileSync(input.file, "utf8");
  } catch (e) {
    throw new InputError(`cannot read: ${(e as Error).message}`, input.file);
  }
  const { pairs, rejected } = parseCpeMap(text, input.file);
  const current = await ctx.db.query<{ pkg_name: string; pnc_result: string; state: string; source: string }>(
    `SELECT pkg_name, pnc_result, argMax(pnc_state, ts) AS state, argMax(pnc_source, ts) AS source
     FROM PackagesNameConversion WHERE pnc_type = 'cpe' GROUP BY pkg_name, pnc_result`,
  );
  const state = new Map(current.map((r) => [`${r.pkg_name}\t${r.pnc_result}`, r]));
  const rows: NameConversionRow[] = [];
  let activated = 0;
  let deactivated = 0;
  for (const [key, [project, cpe]] of pairs) {
    if (state.get(key)?.state === "active") continue;
    rows.push({ pkg_name: project, pnc_state: "active", pnc_result: cpe, pnc_type: "cpe", pnc_source: MANUAL });
    activated++;
  }
  if (input.replace)
    for (const [key, r] of state)
      if (r.state === "active" && r.source === MANUAL && !pairs.has(key)) {
        rows.push({ pkg_name: r.pkg_name, pnc_state: "inactive", pnc_result: r.pnc_result, pnc_type: "cpe", pnc_source: MANUAL });
        deactivated++;
      }
  if (!input.dryRun) await insertRows(ctx.db, "PackagesNameConversion", rows, ["pkg_name", "pnc_state", "pnc_result", "pnc_type", "pnc_source"]);
  return {
    file: input.file,
    pairs: pairs.size,
    activated,
    deactivated,
    unchanged: pairs.size - activated,
    rejected,
    complete: rejected.length === 0,
  };
}
