/**
 * `[[triggers]]`: programs (and exports) run after a load is committed, by the CLI and the daemon
 * alike — each caller calls fireTriggers once per successful load (never on a dry run; after a
 * failed load only for triggers with on_failure = true).
 *
 * A trigger gets the load's JSON summary (the snake_case JSON `--json` prints) on stdin and
 * ALTREPODB_EVENT, ALTREPODB_TRIGGER, ALTREPODB_STATUS (ok|failed) and, where the load has them,
 * ALTREPODB_BRANCH, ALTREPODB_DATE, ALTREPODB_TASK in its environment (secrets of ours are not
 * passed on: variables named like *PASSWORD*, *TOKEN*, *SECRET*, *API_KEY* are left out). Triggers
 * of one load run side by side. A trigger that fails, is missing, hangs (killed at its timeout)
 * or never reads its stdin is one log line naming it and its program, and a count in
 * triggerStats() (daemon status, metrics); it never fails or blocks the load, and the CLI's exit
 * code stays the load's.
 */
import type { LoadContext } from "../loaders/context";
import { jsonText, snakeKeys } from "../models/json";
import type { TriggerEvent } from "./events";
import { EXPORTERS, exportOptions } from "./exporters";
import { runProgram } from "./run";
import type { TriggerConfig } from "./schema";
import { count } from "./stats";

export { triggerStats, TRIGGER_OUTCOMES, type TriggerStats, type TriggerOutcome } from "./stats";

export { EVENTS, EVENT_NAMES, BRANCH_EVENTS, type TriggerEvent } from "./events";
export { EXPORTERS, type Exporter, type ExportRequest } from "./exporters";

const pending = new Set<Promise<void>>();

/** Waits for triggers still running (at most `ms`); the daemon calls it when stopping. */
export async function settleTriggers(ms: number): Promise<void> {
  if (!pending.size) return;
  await Promise.race([Promise.all([...pending]), Bun.sleep(ms)]);
}

const SECRET_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|CREDENTIAL/i;

/** What a trigger program sees: our environment without secrets, plus the load's facts. */
export function triggerEnv(base: Record<string, string | undefined>, vars: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, val] of Object.entries(base)) if (val !== undefined && !SECRET_NAME.test(k) && !k.startsWith("ALTREPODB_")) env[k] = val;
  for (const [k, val] of Object.entries(vars)) if (val !== undefined) env[k] = val;
  return env;
}

/** Branch, date and task of a summary, where it has them. */
export function summaryFacts(summary: unknown): { branch?: string; date?: string; task?: string } {
  const s = (summary ?? {}) as Record<string, unknown>;
  const str = (x: unknown) => (typeof x === "string" && x ? x : typeof x === "number" ? String(x) : undefined);
  const one = Array.isArray(s.branches) && s.branches.length === 1 ? (s.branches[0] as Record<string, unknown>) : {};
  return { branch: str(s.branch) ?? str(one.branch), date: str(s.date) ?? str(one.date), task: str(s.task_id) ?? str(s.task) };
}

const lastLine = (s: string) => s.trim().split("\n").pop()?.slice(0, 300) ?? "";

async function runExport(ctx: LoadContext, t: TriggerConfig, event: TriggerEvent, facts: ReturnType<typeof summaryFacts>): Promise<boolean> {
  const block = t.export!;
  const what = `trigger ${JSON.stringify(t.name)} (export ${block.kind})`;
  const exporter = EXPORTERS[block.kind];
  if (!exporter) {
    count(t.name, "skipped");
    ctx.log.warn(`${what} skipped after ${event}: exporter ${block.kind} is not in this build (known: ${Object.keys(EXPORTERS).join(", ") || "none"})`);
    return true;
  }
  if (!facts.branch || !facts.date) {
    count(t.name, "error", `${event} names no branch and date`);
    ctx.log.error(`${what} failed after ${event}: the load names no branch and date to export`);
    return false;
  }
  const t0 = performance.now();
  try {
    await exporter(ctx, { kind: block.kind, branch: facts.branch, date: facts.date, options: exportOptions(block, facts.branch, facts.date) });
    ctx.log.info(`${what} done after ${event} of ${facts.branch} ${facts.date} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (!t.run) count(t.name, "ok");
    return true;
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    count(t.name, "error", msg);
    ctx.log.error(`${what} failed after ${event} of ${facts.branch} ${facts.date}: ${msg}`);
    return false;
  }
}

/** Phase 1 of a trigger: its export (if any); false when the program must not run after it. */
async function exportPhase(ctx: LoadContext, t: TriggerConfig, event: TriggerEvent, facts: ReturnType<typeof summaryFacts>, failed: boolean): Promise<boolean> {
  count(t.name, "fired");
  if (t.export && !failed) return runExport(ctx, t, event, facts);
  return true;
}

/** Phase 2: its program. */
async function programPhase(ctx: LoadContext, t: TriggerConfig, event: TriggerEvent, text: string, facts: ReturnType<typeof summaryFacts>, failed: boolean): Promise<void> {
  if (!t.run) return;
  const program = t.run[0];
  const what = `trigger ${JSON.stringify(t.name)} (${program})`;
  const env = triggerEnv(process.env, {
    ALTREPODB_EVENT: event,
    ALTREPODB_TRIGGER: t.name,
    ALTREPODB_STATUS: failed ? "failed" : "ok",
    ALTREPODB_BRANCH: facts.branch,
    ALTREPODB_DATE: facts.date,
    ALTREPODB_TASK: facts.task,
    ALTREPODB_CONFIG: ctx.config.source ?? undefined,
  });
  const r = await runProgram(t.run, { stdin: text + "\n", env, timeoutMs: t.timeout * 1000 });
  const tail = lastLine(r.stderr);
  const reason = `${r.reason}${tail ? `: ${tail}` : ""}`;
  count(t.name, r.outcome, r.outcome === "ok" ? undefined : `${program}: ${reason}`);
  if (r.outcome === "ok") ctx.log.info(`${what} done after ${event} in ${r.seconds.toFixed(2)} s`);
  else ctx.log.error(`${what} ${r.outcome === "timeout" ? "timed out" : "failed"} after ${event}: ${reason} (the load itself is not affected)`);
}

/**
 * Runs the triggers configured for `event` with `summary` (the loader's report, as `--json`
 * prints it). Resolves when they are all over (each is bounded by its timeout); never rejects.
 * `failed`: the load did not complete — only triggers with on_failure = true run, without export.
 * Exports run first, then `release` (the CLI closes its database there, so that with the embedded
 * driver a program may run `altrepodb` on the same data directory), then the programs.
 */
export function fireTriggers(ctx: LoadContext, event: TriggerEvent, summary: unknown, o: { failed?: boolean; release?: () => Promise<void> } = {}): Promise<void> {
  const failed = Boolean(o.failed);
  const wanted = (ctx.config.file.triggers ?? []).filter((t) => t.on.includes(event) && (!failed || t.on_failure));
  if (!wanted.length) return Promise.resolve();
  const text = jsonText(summary);
  const facts = summaryFacts(snakeKeys(summary));
  const guard = (t: TriggerConfig) => (e: unknown) => {
    count(t.name, "error", (e as Error).message);
    ctx.log.error(`trigger ${JSON.stringify(t.name)} (${t.run?.[0] ?? `export ${t.export?.kind}`}) failed after ${event}: ${(e as Error).message}`);
    return false;
  };
  const all = (async () => {
    const go = await Promise.all(wanted.map((t) => exportPhase(ctx, t, event, facts, failed).catch(guard(t))));
    if (o.release && wanted.some((t) => t.run)) await o.release().catch((e) => ctx.log.warn(`cannot release the database before the triggers: ${(e as Error).message}`));
    await Promise.all(wanted.map((t, i) => (go[i] ? programPhase(ctx, t, event, text, facts, failed).catch(guard(t)) : undefined)));
  })();
  pending.add(all);
  void all.finally(() => pending.delete(all));
  return all;
}
