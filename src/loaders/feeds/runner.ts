/**
 * The one shape of every feed load: fetch → parse → gate → write, with the attempt recorded in
 * altrepodb_feed_loads. Everything a feed needs is fetched and parsed before the first row is
 * written, so a fault on its last file leaves every table as it was. Gates refuse a feed that
 * parsed to fewer records than `min_rows` or than `min_fraction` of the last good load (the
 * previous data stays current). An unchanged source — 304, the same validators or the same
 * content hash as the last good load — writes nothing.
 */
import { EncodedRows, insertRows, quoteString, type Db } from "../../db/index.ts";
import type { FailedItem, LoadContext } from "../context.ts";
import { InputError, LoadAborted } from "../errors.ts";
import type { FeedSource } from "./source.ts";

export interface FeedSettings {
  source: string;
  minRows: number;
  minFraction: number;
  deadlineMs: number;
  timeoutMs: number;
  tz: string;
  /** seconds after the last success when `feed status` calls the feed stale */
  staleAfter: number;
  options: Record<string, unknown>;
}

export interface LastGood {
  etag: string;
  lastModified: string;
  contentHash: bigint;
  rows: number;
}

export interface FeedContext extends LoadContext {
  src: FeedSource;
  settings: FeedSettings;
  last?: LastGood;
  force: boolean;
}

/** Rows of one table: objects (small feeds), or encoded as they were parsed (large ones). */
export type FeedRows = { table: string; rows: object[]; columns?: readonly string[] } | EncodedRows;

const rowCount = (t: FeedRows): number => (t instanceof EncodedRows ? t.rows : t.rows.length);
const writeRows = (db: Db, t: FeedRows): Promise<number> => (t instanceof EncodedRows ? t.insert(db) : insertRows(db, t.table, t.rows, t.columns));

export interface FeedData {
  /** records the source held (what the gates compare), before dropping those already stored */
  records: number;
  /** rows to write, in order */
  tables: FeedRows[];
  rejected: FailedItem[];
  etag: string;
  lastModified: string;
  contentHash: bigint;
  /** a note for the report (e.g. a branch skipped) */
  notes?: string[];
}

export interface FeedModule {
  name: string;
  description: string;
  /** the reference's source root */
  defaultSource: string;
  /** minimum records a good load has (default gate) */
  minRows: number;
  /** fetch and parse everything; `{ unchanged }` when the source says nothing changed */
  read(ctx: FeedContext): Promise<FeedData | { unchanged: string }>;
}

export interface FeedReport {
  feed: string;
  source: string;
  result: "ok" | "unchanged" | "refused" | "failed" | "dry-run";
  records: number;
  written: Record<string, number>;
  rejected: FailedItem[];
  message: string;
  notes: string[];
  seconds: number;
}

export class FeedRefused extends InputError {
  override name = "FeedRefused";
}

export async function lastGood(db: Db, feed: string): Promise<LastGood | undefined> {
  const r = await db.query<{ etag: string; last_modified: string; content_hash: bigint; rows: number }>(
    `SELECT etag, last_modified, content_hash, rows FROM altrepodb_feed_loads WHERE feed = ${quoteString(feed)} AND result IN ('ok', 'unchanged')
     ORDER BY started DESC LIMIT 1`,
  );
  return r[0] ? { etag: r[0].etag, lastModified: r[0].last_modified, contentHash: BigInt(r[0].content_hash), rows: Number(r[0].rows) } : undefined;
}

async function record(db: Db, rep: FeedReport, started: number, data?: Pick<FeedData, "etag" | "lastModified" | "contentHash">, last?: LastGood): Promise<void> {
  const keep = rep.result === "unchanged" ? last : undefined;
  await insertRows(db, "altrepodb_feed_loads", [
    {
      feed: rep.feed,
      source: rep.source,
      started: started / 1000,
      finished: Date.now() / 1000,
      result: rep.result,
      etag: data?.etag ?? keep?.etag ?? "",
      last_modified: data?.lastModified ?? keep?.lastModified ?? "",
      content_hash: data?.contentHash ?? keep?.contentHash ?? 0n,
      rows: rep.result === "unchanged" ? (last?.rows ?? rep.records) : rep.records,
      written: Object.values(rep.written).reduce((a, b) => a + b, 0),
      rejected: rep.rejected.length,
      message: rep.message.slice(0, 2000),
    },
  ]);
}

export async function runFeed(ctx: LoadContext, mod: FeedModule, settings: FeedSettings, opts: { force?: boolean; dryRun?: boolean } = {}): Promise<FeedReport> {
  const started = Date.now();
  const last = opts.force ? undefined : await lastGood(ctx.db, mod.name);
  const deadline = AbortSignal.timeout(settings.deadlineMs);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, deadline]) : deadline;
  const fctx: FeedContext = {
    ...ctx,
    signal,
    src: { root: settings.source, tz: settings.tz, http: { timeoutMs: settings.timeoutMs, deadlineMs: settings.deadlineMs, signal } },
    settings,
    last,
    force: Boolean(opts.force),
  };
  const rep: FeedReport = { feed: mod.name, source: settings.source, result: "ok", records: 0, written: {}, rejected: [], message: "", notes: [], seconds: 0 };
  const finish = async (data?: FeedData) => {
    rep.seconds = (Date.now() - started) / 1000;
    if (!opts.dryRun) await record(ctx.db, rep, started, data, last);
    return rep;
  };
  let data: FeedData | { unchanged: string };
  try {
    data = await mod.read(fctx);
  } catch (e) {
    if (ctx.signal?.aborted) throw new LoadAborted();
    rep.result = "failed";
    rep.message = deadline.aborted ? `no complete answer within the deadline of ${Math.round(settings.deadlineMs / 1000)} s` : (e as Error).message;
    await finish();
    if (deadline.aborted) throw new InputError(`feed ${mod.name}: ${rep.message}`, settings.source);
    throw e;
  }
  if ("unchanged" in data) {
    rep.result = "unchanged";
    rep.message = data.unchanged;
    return finish();
  }
  rep.records = data.records;
  rep.rejected = data.rejected;
  rep.notes = data.notes ?? [];
  if (!opts.force && last && data.contentHash === last.contentHash && data.contentHash !== 0n) {
    rep.result = "unchanged";
    rep.message = "same content as the last good load";
    return finish(data);
  }
  const floor = Math.max(settings.minRows, last ? Math.ceil(last.rows * settings.minFraction) : 0);
  if (!opts.force && data.records < floor) {
    rep.result = "refused";
    rep.message = `${data.records} records, fewer than ${floor} (${last ? `min_fraction ${settings.minFraction} of the last good load's ${last.rows}, ` : ""}min_rows ${settings.minRows}); the previous data stays current (--force loads it anyway)`;
    await finish(data);
    throw new FeedRefused(`feed ${mod.name}: ${rep.message}`, settings.source);
  }
  if (opts.dryRun) {
    rep.result = "dry-run";
    for (const t of data.tables) rep.written[t.table] = (rep.written[t.table] ?? 0) + rowCount(t);
    return finish(data);
  }
  for (const t of data.tables) rep.written[t.table] = (rep.written[t.table] ?? 0) + (await writeRows(ctx.db, t));
  return finish(data);
}
