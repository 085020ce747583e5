/** `altrepodb search rebuild`: the FileSearch table (the API's file search) for every branch. */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { checkBranchName, fileSearchBranches, refreshFileSearch, type FileSearchReport } from "../loaders/filesearch";
import { cliLoadContext } from "./context";
import { RunFailed, UsageError } from "./errors";
import { abortOnSignals } from "./signals";

const rebuild = defineCommand({
  meta: {
    name: "rebuild",
    description: "Write FileSearch for the latest package set of every branch (or one): all rows, or with --incremental only those of packages that changed",
    examples: ["altrepodb search rebuild", "altrepodb search rebuild --branch sisyphus --incremental --json"],
  },
  args: {
    branch: { type: "string", description: "Only this branch (default: every branch with a package set or FileSearch rows)", valueHint: "BRANCH" },
    incremental: { type: "boolean", description: "Write only the rows of packages that entered or left the set since the last refresh" },
    json: { type: "boolean", description: "Print one report per branch as JSON" },
  },
  async run({ args }) {
    let only: string | undefined;
    if (args.branch !== undefined) {
      try {
        only = checkBranchName(String(args.branch));
      } catch (e) {
        throw new UsageError(`--branch: ${(e as Error).message}`);
      }
    }
    const ctx = await cliLoadContext("search", abortOnSignals());
    const branches = only ? [only] : await fileSearchBranches(ctx.db);
    const reports: FileSearchReport[] = [];
    const failed: string[] = [];
    for (const b of branches) {
      try {
        reports.push(await refreshFileSearch(ctx, b, { full: !args.incremental }));
      } catch (e) {
        failed.push(`${b}: ${(e as Error).message}`);
        ctx.log.error("FileSearch not rebuilt", { branch: b, error: (e as Error).message });
      }
    }
    if (args.json) console.log(jsonText(reports));
    else {
      for (const r of reports) {
        const set = r.date ? `set of ${r.date}, ${r.packages} packages` : "no package set";
        console.log(`${r.branch} (${set}): ${r.mode}, ${r.added} packages added, ${r.removed} removed, ${r.rowsInserted} rows written, ${r.rowsDeleted} deleted in ${r.seconds.toFixed(2)} s`);
      }
      if (branches.length === 0) console.log("no branch has a package set");
    }
    if (failed.length) throw new RunFailed(`FileSearch not rebuilt for ${failed.length} branch(es): ${failed.join("; ")}`);
  },
});

export default defineCommand({
  meta: { name: "search", description: "Search tables the API reads (FileSearch)" },
  subCommands: { rebuild },
});
