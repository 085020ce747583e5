/**
 * `feed load NAME` / `feed status`: the QA and metadata feeds, each one module of the same shape
 * run by runner.ts. The CLI, the daemon services and the scheduler call loadFeed alike.
 */
import type { LoadContext } from "../context.ts";
import { InputError } from "../errors.ts";
import { quoteString } from "../../db/index.ts";
import { acl } from "./acl.ts";
import { beehive } from "./beehive.ts";
import { bugzilla } from "./bugzilla.ts";
import { licenseAliases } from "./license-aliases.ts";
import { repocop } from "./repocop.ts";
import { repology } from "./repology.ts";
import { runFeed, type FeedModule, type FeedReport, type FeedSettings } from "./runner.ts";
import { spdx } from "./spdx.ts";
import { checkTimeZone } from "./time.ts";
import { watch } from "./watch.ts";

export { FeedRefused, type FeedReport } from "./runner.ts";

export const FEEDS: Readonly<Record<string, FeedModule>> = { acl, beehive, bugzilla, repocop, repology, watch, spdx, "license-aliases": licenseAliases };

export interface FeedInput {
  name: string;
  /** overrides the configured url/path */
  source?: string;
  force?: boolean;
  dryRun?: boolean;
}

type FeedFile = { url?: string; path?: string; min_rows?: number; min_fraction: number; deadline: number; timeout: number; timezone: string; stale_after: number; options: Record<string, unknown> };

export function feedSettings(ctx: LoadContext, name: string, source?: string): FeedSettings {
  const mod = FEEDS[name];
  if (!mod) throw new InputError(`unknown feed ${JSON.stringify(name)} (known: ${Object.keys(FEEDS).join(", ")})`);
  const f = ((ctx.config.file as { feeds?: Record<string, FeedFile> }).feeds ?? {})[name];
  const tz = f?.timezone ?? "UTC";
  try {
    checkTimeZone(tz);
  } catch {
    throw new InputError(`[feeds.${name}] timezone: unknown time zone ${JSON.stringify(tz)}`);
  }
  return {
    source: source ?? f?.path ?? f?.url ?? mod.defaultSource,
    minRows: f?.min_rows ?? mod.minRows,
    minFraction: f?.min_fraction ?? 0.5,
    deadlineMs: (f?.deadline ?? 60) * 1000,
    timeoutMs: (f?.timeout ?? 30) * 1000,
    tz,
    staleAfter: f?.stale_after ?? 2 * 86400,
    options: f?.options ?? {},
  };
}

export function loadFeed(ctx: LoadContext, input: FeedInput): Promise<FeedReport> {
  const settings = feedSettings(ctx, input.name, input.source);
  return runFeed(ctx, FEEDS[input.name]!, settings, { force: input.force, dryRun: input.dryRun });
}

export interface FeedStatus {
  feed: string;
  last_attempt: string | null;
  last_result: string | null;
  last_message: string;
  last_success: string | null;
  age_seconds: number | null;
  rows: number;
  stale: boolean;
  failed: boolean;
}

/**
 * Per feed: last attempt and its result, last success, its age and rows, stale by stale_after.
 * Without names: the feeds configured in [feeds.*] and those ever loaded.
 */
export async function feedStatus(ctx: LoadContext, only?: string[]): Promise<FeedStatus[]> {
  for (const n of only ?? []) if (!FEEDS[n]) throw new InputError(`unknown feed ${JSON.stringify(n)} (known: ${Object.keys(FEEDS).join(", ")})`);
  const configured = Object.keys((ctx.config.file as { feeds?: Record<string, unknown> }).feeds ?? {}).filter((n) => FEEDS[n]);
  const loaded = (await ctx.db.query<{ feed: string }>("SELECT DISTINCT feed FROM altrepodb_feed_loads")).map((r) => r.feed).filter((n) => FEEDS[n]);
  const names = only ?? [...new Set([...configured, ...loaded])].sort();
  if (!names.length) return [];
  const rows = await ctx.db.query<{ feed: string; la: string; lr: string; lm: string; ls: string; n: number; rows: number }>(
    `SELECT feed, toString(max(started)) AS la, argMax(result, started) AS lr, argMax(message, started) AS lm,
            toString(maxIf(finished, result IN ('ok', 'unchanged'))) AS ls, countIf(result IN ('ok', 'unchanged')) AS n,
            argMaxIf(rows, started, result IN ('ok', 'unchanged')) AS rows
     FROM altrepodb_feed_loads WHERE feed IN (${names.map(quoteString).join(",")}) GROUP BY feed`,
  );
  const by = new Map(rows.map((r) => [r.feed, r]));
  const now = Date.now() / 1000;
  return names.map((name) => {
    const r = by.get(name);
    const settings = feedSettings(ctx, name);
    const success = r && Number(r.n) > 0 ? r.ls : null;
    const age = success ? now - Date.parse(`${success.replace(" ", "T")}Z`) / 1000 : null;
    return {
      feed: name,
      last_attempt: r?.la ?? null,
      last_result: r?.lr ?? null,
      last_message: r?.lm ?? "",
      last_success: success,
      age_seconds: age === null ? null : Math.round(age),
      rows: Number(r?.rows ?? 0),
      stale: age === null || age > settings.staleAfter,
      failed: r?.lr === "failed" || r?.lr === "refused",
    };
  });
}
