/** `altrepodb pkgset merge`: the merged package list of stored package sets, each package with its origin. */
import { defineCommand } from "citty";
import { MERGE_METHODS } from "../export/merge";
import { jsonText } from "../models/json";
import { mergeSets } from "../loaders/export";
import { cliLoadContext } from "./context";
import { choiceArg } from "./_values";

const merge = defineCommand({
  meta: {
    name: "merge",
    description: "Merge package sets, first match wins: by source package name (name, default; like Koji tag inheritance) or by NEVRA (nvr); sources included",
    examples: ["altrepodb pkgset merge mytask sisyphus --json", "altrepodb pkgset merge p10@2026-11-01 p10@2026-10-01 --method nvr"],
    rest: "repeat",
  },
  args: {
    set: { type: "positional", description: "BRANCH or BRANCH@YYYY-MM-DD, in priority order (two or more)", required: true },
    method: { type: "string", description: "name (default) or nvr" },
    json: { type: "boolean", description: "Print {\"packages\": [...]} as JSON" },
  },
  async run({ args }) {
    const sets = (args._ as string[]).length ? (args._ as string[]) : [String(args.set)];
    const method = choiceArg("--method", args.method, MERGE_METHODS) ?? "name";
    const ctx = await cliLoadContext("pkgset");
    const r = await mergeSets(ctx, sets, method);
    if (args.json) console.log(jsonText({ packages: r.packages }));
    else {
      for (const p of r.packages) {
        const evr = `${p.epoch ? `${p.epoch}:` : ""}${p.version}-${p.release}`;
        console.log(`${p.name}\t${evr}\t${p.source ? "src" : p.arch}\t${p.origin}`);
      }
      console.error(`${r.packages.length} package(s) from ${r.sets.map((s) => `${s.set} (${s.date})`).join(" + ")}, method ${r.method}`);
    }
  },
});

export default defineCommand({
  meta: { name: "pkgset", description: "Stored package sets" },
  subCommands: { merge },
});
