/** `altrepodb vuln load|map|match`: vulnerability records, package→CPE mapping, matching. */
import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { loadCpeMap, loadVulnerabilities, matchVulnerabilities } from "../loaders/vuln/index.ts";
import { cliLoadContext, closeAll, globalFlags } from "./context";
import { RunFailed, UsageError } from "./errors";
import { progressReporter } from "./progress";
import { abortOnSignals } from "./signals";
import { fireTriggers } from "../triggers";
import { jsonText } from "../models/json.ts";

const NVD_API = "https://services.nvd.nist.gov/rest/json/cves/2.0";
const CPE_API = "https://services.nvd.nist.gov/rest/json/cpes/2.0";

function printFailures(items: { path: string; error: string }[]): void {
  for (const f of items.slice(0, 20)) console.error(`skipped: ${f.path}: ${f.error}`);
  if (items.length > 20) console.error(`… and ${items.length - 20} more`);
}

const load = defineCommand({
  meta: {
    name: "load",
    description: "Load vulnerability records: nvd (CVE API 2.0 or its JSON files), cpe (the NVD CPE dictionary, products API 2.0 or its files), bdu (FSTEC export zip/xml), ghsa (OSV JSON tree)",
    examples: ["altrepodb vuln load nvd", "altrepodb vuln load nvd --source nvd-json/ --json", "altrepodb vuln load bdu --source vulxml.zip"],
  },
  args: {
    kind: { type: "positional", description: "nvd, cpe, bdu or ghsa", required: true },
    source: { type: "string", description: `nvd: a file, a directory of *.json(.gz), or the API URL (default ${NVD_API}); cpe: the same for ${CPE_API}; bdu: vulxml.zip or its XML; ghsa: a tree of OSV *.json files` },
    since: { type: "string", description: "API: load records modified since this date (YYYY-MM-DD); default: where the last run stopped" },
    "api-key-file": { type: "string", description: "API: file holding the NVD API key (or $ALTREPODB_NVD_API_KEY)" },
    "dry-run": { type: "boolean", description: "Read and check, write nothing" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const kind = String(args.kind);
    if (kind !== "nvd" && kind !== "cpe" && kind !== "bdu" && kind !== "ghsa") throw new UsageError(`unknown source ${JSON.stringify(args.kind)} (known: nvd, cpe, bdu, ghsa)`);
    if ((kind === "bdu" || kind === "ghsa") && args.source === undefined) throw new UsageError(`vuln load ${kind} needs --source (a file or directory)`);
    let since: Date | undefined;
    if (args.since !== undefined) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(String(args.since)) || !Number.isFinite(Date.parse(`${args.since}T00:00:00Z`)))
        throw new UsageError(`--since must be a date YYYY-MM-DD, not ${JSON.stringify(args.since)}`);
      since = new Date(`${args.since}T00:00:00Z`);
    }
    const ctx = await cliLoadContext("vuln", abortOnSignals());
    const conf = ctx.config.file.vuln ?? {};
    let apiKey = process.env.ALTREPODB_NVD_API_KEY;
    const keyFile = args["api-key-file"] ?? conf.nvd_api_key_file;
    if (keyFile) {
      try {
        apiKey = readFileSync(String(keyFile), "utf8").split("\n")[0]!.trim();
      } catch (e) {
        throw new UsageError(`cannot read the NVD API key file ${keyFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    ctx.progress = progressReporter(ctx.log, globalFlags.quiet || Boolean(args.json));
    const r = await loadVulnerabilities(ctx, { source: kind, from: String(args.source ?? (kind === "cpe" ? (conf.cpe_url ?? CPE_API) : (conf.nvd_url ?? NVD_API))), since, apiKey, dryRun: Boolean(args["dry-run"]) });
    if (args.json) console.log(jsonText(r));
    else {
      printFailures(r.rejected);
      console.error(
        `${r.records} record(s): ${r.written} new or changed, ${r.unchanged} unchanged, ${r.rejected.length} skipped; ${r.cpe_matches} CPE ranges${r.cursor ? `; up to ${r.cursor}` : ""} in ${r.seconds.toFixed(2)} s`,
      );
    }
    if (!args["dry-run"]) await fireTriggers(ctx, "vuln.load", r, { failed: !r.complete, release: closeAll });
    if (!r.complete) throw new RunFailed(`${r.rejected.length} record(s) or file(s) could not be loaded`);
  },
});

const mapLoad = defineCommand({
  meta: { name: "load", description: "Load a project→CPE map (TSV project<TAB>cpe)", examples: ["altrepodb vuln map load cpe-map.tsv --replace"] },
  args: {
    file: { type: "positional", description: "TSV file", required: true },
    replace: { type: "boolean", description: "Deactivate manual CPE rows the file does not list" },
    "dry-run": { type: "boolean", description: "Check, write nothing" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const ctx = await cliLoadContext("vuln", abortOnSignals());
    const r = await loadCpeMap(ctx, { file: String(args.file), replace: Boolean(args.replace), dryRun: Boolean(args["dry-run"]) });
    if (args.json) console.log(jsonText(r));
    else {
      printFailures(r.rejected);
      console.error(`${r.pairs} pair(s): ${r.activated} activated, ${r.deactivated} deactivated, ${r.unchanged} unchanged, ${r.rejected.length} line(s) skipped`);
    }
    if (!args["dry-run"]) await fireTriggers(ctx, "vuln.map", r, { failed: !r.complete, release: closeAll });
    if (!r.complete) throw new RunFailed(`${r.rejected.length} line(s) of ${r.file} could not be read`);
  },
});

const map = defineCommand({
  meta: { name: "map", description: "Package→CPE mapping (PackagesNameConversion)" },
  subCommands: { load: mapLoad },
});

const match = defineCommand({
  meta: { name: "match", description: "Match source packages of the latest package sets against CPE ranges", examples: ["altrepodb vuln match --branch p10"] },
  args: {
    branch: { type: "string", description: "Only this branch (default: every branch with a complete package set)" },
    "dry-run": { type: "boolean", description: "Compute, write nothing" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const ctx = await cliLoadContext("vuln", abortOnSignals());
    const r = await matchVulnerabilities(ctx, { branch: args.branch ? String(args.branch) : undefined, dryRun: Boolean(args["dry-run"]) });
    if (args.json) console.log(jsonText(r));
    else {
      printFailures(r.rejected);
      for (const b of r.branches)
        console.log(`${b.branch}\t${b.date}\t${b.packages} source packages, ${b.mapped_packages} with CPEs, ${b.matches} matches (${b.vulnerable} vulnerable), ${b.written_matches} new match rows, ${b.written_status} status rows`);
    }
    if (!args["dry-run"]) await fireTriggers(ctx, "vuln.match", r, { failed: !r.complete, release: closeAll });
    if (!r.complete) throw new RunFailed(`${r.rejected.length} CPE name(s) could not be read`);
  },
});

export default defineCommand({
  meta: { name: "vuln", description: "Vulnerabilities: NVD records, package→CPE mapping, matching" },
  subCommands: { load, map, match },
});
