/**
 * vuln: vulnerability loads, matching and errata, through the same loader functions as
 * `altrepodb vuln …` and `altrepodb errata build`:
 *   vuln.load     {"source": "nvd"|"cpe"|"bdu"|"ghsa", "from"?, "since"?: "YYYY-MM-DD", "match"?: true}
 *   vuln.match    {"branch"?}
 *   errata.build  {"branch"?, "task"?}
 *   repo.load     {"branch", "date"}  (a done message of the repo service) → vuln.match of that branch
 *   task.state    {"taskid", "state"} (a done message of the task service) → errata of a DONE task
 * To run after every branch and task load, let the repo and task services publish_on_done and
 * give this service their done_exchange as its exchange. A scheduled pull: `schedule = "daily at
 * 03:00"` with `schedule_message = { source = "nvd", match = true }`.
 */
import * as v from "valibot";
import { buildErrata } from "../../loaders/errata";
import { loadVulnerabilities, matchVulnerabilities } from "../../loaders/vuln";
import type { LoadContext } from "../../loaders/context";
import { InputError } from "../../loaders/errors";
import type { HandleResult, ServiceContext, ServiceModule } from "../types";
import { fireTriggers } from "../../triggers";

const day = v.pipe(v.string(), v.regex(/^\d{4}-\d{2}-\d{2}$/, "a date YYYY-MM-DD"));
const branch = v.pipe(v.string(), v.minLength(1), v.maxLength(100), v.regex(/^[A-Za-z0-9_.+-]+$/, "a branch name"));

const LoadPayload = v.looseObject({
  source: v.picklist(["nvd", "cpe", "bdu", "ghsa"]),
  from: v.optional(v.pipe(v.string(), v.minLength(1))),
  since: v.optional(day),
  match: v.optional(v.boolean(), false),
});
const MatchPayload = v.looseObject({ branch: v.optional(branch) });
const ErrataPayload = v.looseObject({ branch: v.optional(branch), task: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))) });
const RepoDone = v.looseObject({ branch, date: day });
const TaskDone = v.looseObject({ taskid: v.pipe(v.number(), v.integer(), v.minValue(1)), state: v.string() });

type Payload =
  | v.InferOutput<typeof LoadPayload>
  | v.InferOutput<typeof MatchPayload>
  | v.InferOutput<typeof ErrataPayload>
  | v.InferOutput<typeof RepoDone>
  | v.InferOutput<typeof TaskDone>;

const Options = v.strictObject({});

const DEFAULT_FROM: Record<string, string> = {
  nvd: "https://services.nvd.nist.gov/rest/json/cves/2.0",
  cpe: "https://services.nvd.nist.gov/rest/json/cpes/2.0",
};

function loadContext(ctx: ServiceContext): LoadContext {
  return { db: ctx.db, config: ctx.config, log: ctx.log, signal: ctx.signal };
}

async function match(ctx: ServiceContext, branchName?: string): Promise<HandleResult> {
  const lc = loadContext(ctx);
  const r = await matchVulnerabilities(lc, { branch: branchName });
  const written = r.branches.reduce((n, b) => n + b.written_matches + b.written_status, 0);
  const after = () => void fireTriggers(lc, "vuln.match", r, { failed: !r.complete });
  return { summary: `vuln match: ${r.branches.map((b) => `${b.branch} ${b.vulnerable} vulnerable`).join(", ") || "no branch"}; ${written} rows`, skipped: written === 0, after };
}

export const vuln: ServiceModule<Payload, v.InferOutput<typeof Options>> = {
  name: "vuln",
  description: "Vulnerability records, package matching and errata (vuln.load, vuln.match, errata.build; repo.load/task.state done messages)",
  defaults: { queue: "altrepodb-vuln-q", exchange: "repodb-ex", routingKeys: ["vuln.load", "vuln.match", "errata.build", "repo.load", "task.state"] },
  schema: (key) =>
    (({ "vuln.load": LoadPayload, "vuln.match": MatchPayload, "errata.build": ErrataPayload, "repo.load": RepoDone, "task.state": TaskDone }) as Record<string, v.GenericSchema<unknown, Payload>>)[key],
  options: Options,
  async handle(ctx, msg) {
    const p = msg.payload as Record<string, unknown>;
    switch (msg.routingKey) {
      case "vuln.load": {
        const l = p as v.InferOutput<typeof LoadPayload>;
        const file = ctx.config.file.vuln ?? {};
        const from = l.from ?? (l.source === "nvd" ? file.nvd_url : l.source === "cpe" ? file.cpe_url : undefined) ?? DEFAULT_FROM[l.source];
        if (!from) throw new InputError(`vuln.load of ${l.source} needs "from" (a file or directory)`);
        const lc = loadContext(ctx);
        const r = await loadVulnerabilities(lc, { source: l.source, from, since: l.since ? new Date(`${l.since}T00:00:00Z`) : undefined, apiKey: process.env.ALTREPODB_NVD_API_KEY });
        if (r.rejected.length) ctx.log.warn(`vuln load ${l.source}: ${r.rejected.length} record(s) skipped`, { first: `${r.rejected[0]!.path}: ${r.rejected[0]!.error}` });
        const summary = `vuln load ${l.source}: ${r.records} records, ${r.written} new or changed, ${r.rejected.length} skipped`;
        const loaded = () => void fireTriggers(lc, "vuln.load", r, { failed: !r.complete });
        if (!l.match) return { summary, skipped: r.written === 0, after: loaded };
        const m = await match(ctx);
        return {
          summary: `${summary}; ${m.summary}`,
          after: () => {
            loaded();
            m.after?.();
          },
        };
      }
      case "vuln.match":
        return match(ctx, (p as { branch?: string }).branch);
      case "repo.load":
        return match(ctx, (p as { branch: string }).branch);
      case "errata.build":
      case "task.state": {
        const t = msg.routingKey === "task.state" ? (p as { taskid: number; state: string }) : undefined;
        if (t && t.state.toUpperCase() !== "DONE") return { summary: `task ${t.taskid} is ${t.state}: no errata`, skipped: true };
        const e = p as { branch?: string; task?: number };
        const lc = loadContext(ctx);
        const r = await buildErrata(lc, { branch: e.branch, task: t ? t.taskid : e.task });
        const n = r.created.length + r.updated.length + r.discarded.length;
        return { summary: `errata: ${r.created.length} created, ${r.updated.length} updated, ${r.discarded.length} discarded`, skipped: n === 0, after: () => void fireTriggers(lc, "errata.build", r) };
      }
      default:
        throw new Error(`vuln service: no handler for ${msg.routingKey}`);
    }
  },
  fire: [
    {
      name: "vuln-load",
      usage: "<nvd|cpe|bdu|ghsa> [from] [match]",
      description: "Load vulnerability records (from: a file, directory or API URL); `match` matches the branches afterwards",
      build(args) {
        const then = args.at(-1) === "match";
        const rest = then ? args.slice(0, -1) : [...args];
        if (rest.length < 1 || rest.length > 2 || !["nvd", "cpe", "bdu", "ghsa"].includes(rest[0]!)) throw new Error("vuln-load takes <nvd|cpe|bdu|ghsa> [from] [match]");
        return { routingKey: "vuln.load", payload: { source: rest[0], ...(rest[1] ? { from: rest[1] } : {}), match: then } };
      },
    },
    {
      name: "vuln-match",
      usage: "[branch]",
      description: "Match source packages of the latest package sets against CPE ranges",
      build(args) {
        if (args.length > 1) throw new Error("vuln-match takes [branch]");
        return { routingKey: "vuln.match", payload: args[0] ? { branch: args[0] } : {} };
      },
    },
    {
      name: "errata-build",
      usage: "[branch]",
      description: "Build errata of DONE tasks and branch bulletins",
      build(args) {
        if (args.length > 1) throw new Error("errata-build takes [branch]");
        return { routingKey: "errata.build", payload: args[0] ? { branch: args[0] } : {} };
      },
    },
  ],
};
