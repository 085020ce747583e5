/** `altrepodb task load|clean`: girar build tasks. */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { InputError } from "../loaders/errors";
import { loadTask, type TaskLoadReport } from "../loaders/task";
import type { DependsBackfill } from "../loaders/task/types";
import { cleanTasks, unclearLine } from "../loaders/task/clean";
import { cliLoadContext, closeAll, globalFlags } from "./context";
import { choiceArg, positiveIntArg } from "./_values";
import { RunFailed } from "./errors";
import { progressReporter } from "./progress";
import { abortOnSignals } from "./signals";
import { fireTriggers } from "../triggers";

function printReport(r: TaskLoadReport): void {
  const p = r.packages;
  const rows = Object.entries(r.rows).filter(([, n]) => n > 0);
  console.log(
    `task ${r.taskId} ${r.state}${r.dryRun ? " (dry run)" : ""}: ${p.seen} packages (${p.known} known, ${p.parsed} parsed, ${p.failed} failed), ` +
      `${r.logs.length} logs, ${r.complete ? "complete" : "INCOMPLETE"} in ${r.seconds.toFixed(2)} s`,
  );
  console.log(`  rows ${r.dryRun ? "to write" : "written"}: ${rows.length ? rows.map(([t, n]) => `${t} ${n}`).join(", ") : "none (already loaded)"}`);
  for (const s of r.skipped) console.log(`  skipped: ${s.path}: ${s.error}`);
  for (const w of r.warnings) console.log(`  note: ${w.path}: ${w.error}`);
  if (!r.complete) console.log("  state not written: the task's state is stored once every file loads (fix the files named above and run again)");
}

const load = defineCommand({
  meta: {
    name: "load",
    description: "Load girar task directories (state, subtasks, iterations, plan, approvals, logs, packages)",
    examples: ["altrepodb task load /tasks/283337", "altrepodb task load /archive/tasks/done/_276/283337 /tasks/283340 --json"],
    rest: "repeat",
  },
  args: {
    path: { type: "positional", description: "Task directory, e.g. /tasks/283337 (several allowed)", required: true },
    force: { type: "boolean", description: "Parse and insert every package of the task again, even if known" },
    "dry-run": { type: "boolean", description: "Read and parse everything, compare with the database, write nothing" },
    backfill: { type: "string", description: "Depends file back-fill: task (names the task touches, default), full (whole database, as the reference), off", valueHint: "task|full|off" },
    workers: { type: "string", description: "Package parser threads (default: config load.workers)" },
    json: { type: "boolean", description: "Print one JSON report per task" },
  },
  async run({ args }) {
    const paths = (args._ as string[]).length ? (args._ as string[]) : [String(args.path)];
    const backfill = choiceArg<DependsBackfill>("--backfill", args.backfill, ["task", "full", "off"]);
    const workers = positiveIntArg("--workers", args.workers);
    const ctx = await cliLoadContext("task", abortOnSignals());
    ctx.progress = progressReporter(ctx.log, globalFlags.quiet || Boolean(args.json));
    const bad: string[] = [];
    const triggers: Promise<void>[] = [];
    for (const path of paths) {
      let report: TaskLoadReport;
      try {
        report = await loadTask(ctx, {
          path,
          force: args.force,
          dryRun: args["dry-run"],
          storeApprovals: true,
          storeLogsForNew: true,
          dependsBackfill: backfill,
          workers,
        });
      } catch (e) {
        if (!(e instanceof InputError)) throw e;
        ctx.log.error(`not loaded: ${e.message}`);
        if (args.json) console.log(jsonText({ path, complete: false, error: e.message }));
        bad.push(`${path}: ${e.message}`);
        if (!args["dry-run"]) triggers.push(fireTriggers(ctx, "task.load", { path, complete: false, error: e.message }, { failed: true }));
        continue;
      }
      if (args.json) console.log(jsonText(report));
      else printReport(report);
      if (!report.complete) bad.push(`task ${report.taskId} (${report.path}): ${report.skipped.length} item(s) skipped`);
      // the next task loads while this one's triggers run
      if (!report.dryRun) triggers.push(fireTriggers(ctx, "task.load", report, { failed: !report.complete }));
    }
    await Promise.all(triggers);
    if (bad.length) throw new RunFailed(`${bad.length} of ${paths.length} task(s) not loaded completely: ${bad.join("; ")}`);
  },
});

const clean = defineCommand({
  meta: {
    name: "clean",
    description: "Mark open tasks whose directory is gone as DELETED; list tasks whose state differs (task_cleaner)",
    examples: ["altrepodb task clean /tasks --dry-run"],
  },
  args: {
    tasksDir: { type: "positional", description: "The girar tasks root, e.g. /tasks", required: true },
    task: { type: "string", description: "Only this task id", valueHint: "ID" },
    "dry-run": { type: "boolean", description: "Report only, write nothing" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const taskId = positiveIntArg("--task", args.task);
    const ctx = await cliLoadContext("clean");
    const r = await cleanTasks(ctx, { tasksDir: String(args.tasksDir), taskId, dryRun: args["dry-run"] });
    const fired = r.dryRun ? undefined : fireTriggers(ctx, "task.clean", r, { release: closeAll });
    if (args.json) console.log(jsonText(r));
    else {
      for (const u of r.unclear) console.log(unclearLine(u));
      console.error(
        `${r.checked} open task(s) checked, ${r.deleted.length} ${r.dryRun ? "would be" : ""} marked DELETED${r.deleted.length ? ` (${r.deleted.join(", ")})` : ""}, ${r.unclear.length} with an unclear state`,
      );
    }
    await fired;
  },
});

export default defineCommand({
  meta: { name: "task", description: "Girar build tasks" },
  subCommands: { load, clean },
});
