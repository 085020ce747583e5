/** `altrepodb repo load|verify`: repository snapshots. */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { loadRepo } from "../loaders/repo";
import { verifyRepo } from "../loaders/repo/verify";
import { cliLoadContext, closeAll, globalFlags } from "./context";
import { branchArg, dateArg, positiveIntArg } from "./_values";
import { RunFailed } from "./errors";
import { progressReporter } from "./progress";
import { abortOnSignals } from "./signals";
import { fireTriggers } from "../triggers";

const load = defineCommand({
  meta: {
    name: "load",
    description: "Load a repository snapshot (branch + date) into the database",
    examples: ["altrepodb repo load p10 /srv/p10/date/2026-11-20 --date 2026-11-20", "altrepodb repo load p10 /srv/p10 --date 2026-11-20 --dry-run --json"],
  },
  args: {
    branch: { type: "positional", description: "Branch (package set) name, e.g. p10", required: true },
    path: { type: "positional", description: "Snapshot root directory", required: true },
    date: { type: "string", description: "Snapshot date", valueHint: "YYYY-MM-DD", required: true },
    tag: { type: "string", description: "Free text stored with the package set" },
    force: { type: "boolean", description: "Replace an already complete load of this branch and date" },
    workers: { type: "string", description: "Parser threads (default: config load.workers)" },
    "dry-run": { type: "boolean", description: "Read and parse everything, write nothing" },
    json: { type: "boolean", description: "Print the summary as JSON" },
  },
  async run({ args }) {
    const branch = branchArg("BRANCH", args.branch);
    const date = dateArg("--date", args.date);
    const workers = positiveIntArg("--workers", args.workers);
    const ctx = await cliLoadContext("repo", abortOnSignals());
    ctx.progress = progressReporter(ctx.log, globalFlags.quiet || Boolean(args.json));
    const report = await loadRepo(ctx, {
      branch,
      path: String(args.path),
      date,
      tag: args.tag,
      force: args.force,
      workers,
      dryRun: args["dry-run"],
    });
    if (args.json) console.log(jsonText(report));
    else {
      const p = report.packages;
      console.log(`${report.branch} ${report.date}: ${p.seen} packages, ${p.known} already known, ${p.parsed} parsed, ${p.failed} failed in ${report.seconds.toFixed(2)} s`);
      if (report.unchangedFrom) console.log(`the snapshot's lists are unchanged since load ${report.unchangedFrom}: its package set was copied`);
      console.log(`rows: ${Object.entries(report.rows).map(([t, n]) => `${t} ${n}`).join(", ")}`);
      for (const f of report.failures.slice(0, 20)) console.log(`failed: ${f.path}: ${f.error}`);
      if (report.failures.length > 20) console.log(`… and ${report.failures.length - 20} more failures (--json lists all)`);
      const fs = report.fileSearch;
      if (fs && fs.mode !== "unchanged") console.log(`FileSearch (${fs.mode}, set of ${fs.date}): ${fs.added} packages added, ${fs.removed} removed, ${fs.rowsInserted} rows written, ${fs.rowsDeleted} deleted`);
    }
    if (!report.dryRun) await fireTriggers(ctx, "repo.load", report, { failed: !report.complete, release: closeAll });
    if (report.fileSearchError) throw new RunFailed(`package set ${report.branch} ${report.date} is loaded, but FileSearch was not refreshed: ${report.fileSearchError} (run altrepodb search rebuild --branch ${report.branch})`);
    if (report.failures.length) throw new RunFailed(`package set ${report.branch} ${report.date} is incomplete: ${report.failures.length} package(s) could not be loaded`);
  },
});

const verify = defineCommand({
  meta: { name: "verify", description: "Check the database against a snapshot's files (package set, sizes, digests)", examples: ["altrepodb repo verify p10 /srv/p10/date/2026-11-20 --date 2026-11-20"] },
  args: {
    branch: { type: "positional", description: "Branch (package set) name", required: true },
    path: { type: "positional", description: "Snapshot root directory", required: true },
    date: { type: "string", description: "Date of the load to check (default: the newest)", valueHint: "YYYY-MM-DD" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const branch = branchArg("BRANCH", args.branch);
    const date = args.date === undefined ? undefined : dateArg("--date", args.date);
    const ctx = await cliLoadContext("verify");
    ctx.progress = progressReporter(ctx.log, globalFlags.quiet || Boolean(args.json));
    const report = await verifyRepo(ctx, { branch, path: String(args.path), date });
    if (args.json) console.log(jsonText(report));
    else {
      for (const d of report.differences) console.log(`${d.path}: ${d.problem}`);
      console.log(`${report.branch} ${report.date}: ${report.checked} files checked, ${report.differences.length} difference(s)`);
    }
    if (report.differences.length) throw new RunFailed(`${report.differences.length} difference(s) between the database and ${args.path}`);
  },
});

export default defineCommand({
  meta: { name: "repo", description: "Repository snapshots" },
  subCommands: { load, verify },
});
