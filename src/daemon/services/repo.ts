/**
 * repo: `repo.load` {"branch": "p10", "date": "YYYY-MM-DD"} loads the snapshot directory
 * repo_dirs[branch] with loadRepo (tag "uploaderd"), like `altrepodb repo load`.
 * Refused at once (dead-lettered): a branch not in repo_dirs, a date that is not a date or,
 * with validate_date, not today (today's local OR UTC date, so a message sent around midnight
 * from another time zone is not refused), a path that is not a directory. Already loaded = done.
 * A load with failed packages counts as a failure (retried, then dead-lettered).
 */
import { statSync } from "node:fs";
import * as v from "valibot";
import { loadRepo } from "../../loaders/repo";
import { InputError } from "../../loaders/errors";
import type { ServiceModule } from "../types";
import { fireTriggers } from "../../triggers";

const isoDay = v.pipe(
  v.string(),
  v.regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD"),
  v.check((s) => {
    const t = Date.UTC(Number(s.slice(0, 4)), Number(s.slice(5, 7)) - 1, Number(s.slice(8, 10)));
    return new Date(t).toISOString().slice(0, 10) === s;
  }, "no such day"),
);

export const RepoPayload = v.looseObject({
  branch: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
  date: isoDay,
});
type Payload = v.InferOutput<typeof RepoPayload>;

const Options = v.strictObject({
  /** The message date must be today (local or UTC). */
  validate_date: v.optional(v.boolean(), false),
  /** Parser threads; 0 = [load] workers. */
  workers: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
});
type Opts = v.InferOutput<typeof Options>;

function localDay(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** Today's date in local time and in UTC (they differ around midnight). */
export function todays(now = new Date()): string[] {
  return [...new Set([localDay(now), now.toISOString().slice(0, 10)])];
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export const repo: ServiceModule<Payload, Opts> = {
  name: "repo",
  description: "Loads repository snapshots (repo.load: branch + date → repo_dirs[branch])",
  defaults: { queue: "repo-loader-q", exchange: "repodb-ex", routingKeys: ["repo.load"] },
  schema: (key) => (key === "repo.load" ? RepoPayload : undefined),
  options: Options,
  // one load of a branch and date at a time (two would write two package sets for one date)
  key: (msg) => `repo ${msg.payload.branch} ${msg.payload.date}`,
  async handle(ctx, msg) {
    const { branch, date } = msg.payload;
    const dirs = ctx.config.repoDirs;
    const path = Object.hasOwn(dirs, branch) ? dirs[branch] : undefined;
    if (!path) throw new InputError(`branch ${JSON.stringify(branch)} is not in repo_dirs (known: ${Object.keys(dirs).sort().join(", ") || "none"})`);
    if (ctx.options.validate_date && !todays().includes(date)) throw new InputError(`date ${date} is not today (${todays().join(" / ")}); validate_date is on`);
    if (!isDir(path)) throw new InputError(`repo_dirs.${branch} is not a directory`, path);
    const lc = { db: ctx.db, config: ctx.config, log: ctx.log, signal: ctx.signal };
    const report = await loadRepo(
      lc,
      { branch, path, date, tag: "uploaderd", workers: ctx.options.workers || undefined },
    );
    const p = report.packages;
    const summary = `${report.branch} ${report.date}: ${p.seen} packages, ${p.known} known, ${p.parsed} parsed, ${p.failed} failed in ${report.seconds.toFixed(1)} s`;
    if (!report.complete) {
      void fireTriggers(lc, "repo.load", report, { failed: true });
      const first = report.failures.slice(0, 3).map((f) => `${f.path}: ${f.error}`).join("; ");
      throw new Error(`package set ${report.branch} ${report.date} is incomplete: ${report.failures.length} package(s) failed (${first})`);
    }
    return { summary, rows: report.rows, after: () => void fireTriggers(lc, "repo.load", report) };
  },
  fire: [
    {
      name: "repo",
      usage: "<branch> <YYYY-MM-DD>",
      description: "Load the snapshot of a branch (repo_dirs[branch]) for a date",
      build(args, config) {
        if (args.length !== 2) throw new Error("repo takes <branch> <YYYY-MM-DD>");
        const [branch, date] = args;
        const known = Object.keys(config.repoDirs);
        if (known.length && !known.includes(branch)) throw new Error(`unknown branch ${JSON.stringify(branch)}: not in repo_dirs (${known.sort().join(", ")})`);
        return { routingKey: "repo.load", payload: { branch, date } };
      },
    },
  ],
};
