/** `altrepodb package load`: single RPM files. */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { loadPackages } from "../loaders/package";
import { cliLoadContext, closeAll, globalFlags } from "./context";
import { positiveIntArg } from "./_values";
import { RunFailed } from "./errors";
import { progressReporter } from "./progress";
import { abortOnSignals } from "./signals";
import { fireTriggers } from "../triggers";

const load = defineCommand({
  meta: { name: "load", description: "Load RPM files (source or binary) into the package tables", examples: ["altrepodb package load foo-1.0-alt1.src.rpm foo-1.0-alt1.x86_64.rpm"], rest: "repeat" },
  args: {
    file: { type: "positional", description: "An .rpm or .src.rpm file (several allowed)", required: true },
    force: { type: "boolean", description: "Parse and insert even when the file is already known" },
    workers: { type: "string", description: "Parser threads (default: config load.workers)" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const files = (args._ as string[]).length ? (args._ as string[]) : [String(args.file)];
    const workers = positiveIntArg("--workers", args.workers);
    const ctx = await cliLoadContext("package", abortOnSignals());
    ctx.progress = progressReporter(ctx.log, globalFlags.quiet || Boolean(args.json));
    const r = await loadPackages(ctx, { files, force: args.force, workers });
    if (args.json) console.log(jsonText(r));
    else {
      for (const f of r.files) console.log(`${f.status.padEnd(9)} ${f.pkgHash ?? "-"} ${f.path}${f.error ? `: ${f.error}` : ""}`);
      for (const w of r.warnings) console.log(`note: ${w.path}: ${w.error}`);
      const p = r.packages;
      console.error(`${p.seen} file(s): ${p.known} known, ${p.parsed} parsed, ${p.failed} failed in ${r.seconds.toFixed(2)} s`);
    }
    await fireTriggers(ctx, "package.load", r, { failed: !r.complete, release: closeAll });
    if (!r.complete) throw new RunFailed(`${r.failures.length} of ${files.length} file(s) not loaded`);
  },
});

export default defineCommand({
  meta: { name: "package", description: "Single RPM files" },
  subCommands: { load },
});
