/** `altrepodb errata build`: errata from changelogs of DONE tasks, and branch bulletins. */
import { defineCommand } from "citty";
import { buildErrata } from "../loaders/errata/index.ts";
import { cliLoadContext, closeAll } from "./context";
import { UsageError } from "./errors";
import { abortOnSignals } from "./signals";
import { fireTriggers } from "../triggers";
import { jsonText } from "../models/json.ts";

const build = defineCommand({
  meta: { name: "build", description: "Create or update ALT-PU errata of DONE tasks and ALT-BU bulletins of branch snapshots", examples: ["altrepodb errata build --branch p10", "altrepodb errata build --task 412345 --dry-run --json"] },
  args: {
    branch: { type: "string", description: "Only this branch" },
    task: { type: "string", description: "Only this task (no bulletins)" },
    "dry-run": { type: "boolean", description: "Decide, allocate and write nothing" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    let task: number | undefined;
    if (args.task !== undefined) {
      task = Number(args.task);
      if (!Number.isInteger(task) || task <= 0) throw new UsageError(`--task must be a task number, not ${JSON.stringify(args.task)}`);
    }
    const ctx = await cliLoadContext("errata", abortOnSignals());
    const r = await buildErrata(ctx, { branch: args.branch ? String(args.branch) : undefined, task, dryRun: Boolean(args["dry-run"]) });
    if (args.json) console.log(jsonText(r));
    else {
      for (const id of r.created) console.log(`created\t${id}`);
      for (const id of r.updated) console.log(`updated\t${id}`);
      for (const id of r.discarded) console.log(`discarded\t${id}`);
      for (const i of r.ignored.slice(0, 20)) console.error(`not an id: ${i.where}: ${JSON.stringify(i.text)}`);
      console.error(`${r.created.length} created, ${r.updated.length} updated, ${r.discarded.length} discarded, ${r.unchanged} unchanged; ${r.ignored.length} id-like string(s) not taken`);
    }
    if (!args["dry-run"]) await fireTriggers(ctx, "errata.build", r, { release: closeAll });
  },
});

export default defineCommand({
  meta: { name: "errata", description: "Errata (ALT-PU, ALT-BU) from changelogs" },
  subCommands: { build },
});
