/**
 * `config check` of `[[triggers]]` beyond the schema: the program is an absolute path to an
 * executable regular file, an export follows only branch loads and names an exporter of this
 * build (a warning: the export loader may not be built in yet).
 */
import { accessSync, constants, statSync } from "node:fs";
import { isAbsolute } from "node:path";
import type { Config } from "../config";
import { BRANCH_EVENTS } from "./events";
import { EXPORTERS } from "./exporters";

export interface TriggerProblem {
  /** Dotted key, e.g. "triggers.0.run". */
  key: (string | number)[];
  message: string;
  /** A warning does not make `config check` fail. */
  warning?: boolean;
}

/** Why `program` cannot be run, or undefined. */
export function programProblem(program: string): string | undefined {
  if (!isAbsolute(program)) return `${JSON.stringify(program)} is not an absolute path (triggers run without a shell or PATH search)`;
  try {
    if (!statSync(program).isFile()) return `${program} is not a regular file`;
    accessSync(program, constants.X_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `${program} does not exist` : code === "EACCES" ? `${program} is not executable` : `${program}: ${code ?? (e as Error).message}`;
  }
}

export function checkTriggers(config: Config): TriggerProblem[] {
  const out: TriggerProblem[] = [];
  (config.file.triggers ?? []).forEach((t, i) => {
    if (t.run) {
      const why = programProblem(t.run[0]);
      if (why) out.push({ key: ["triggers", i, "run"], message: `trigger ${JSON.stringify(t.name)}: ${why}` });
    }
    if (t.export) {
      const other = t.on.filter((e) => !BRANCH_EVENTS.includes(e));
      if (other.length) out.push({ key: ["triggers", i, "export"], message: `trigger ${JSON.stringify(t.name)}: export follows branch loads only (${BRANCH_EVENTS.join(", ")}), not ${other.join(", ")}` });
      if (!EXPORTERS[t.export.kind])
        out.push({ key: ["triggers", i, "export", "kind"], warning: true, message: `trigger ${JSON.stringify(t.name)}: exporter ${t.export.kind} is not in this build (known: ${Object.keys(EXPORTERS).join(", ") || "none"}); it will be skipped` });
    }
  });
  return out;
}
