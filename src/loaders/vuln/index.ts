/**
 * `vuln load nvd`: NVD CVE records into Vulnerabilities and CpeMatch (read → map → write), from
 * feed files or the CVE API 2.0. The API is read incrementally by modification date: the cursor
 * (altrepodb_vuln_cursors) advances only after a whole window was written, so a failure at page N
 * is resumed from that window's start and rewrites nothing (written versions are skipped).
 */
import type { LoadContext, FailedItem } from "../context.ts";
import { InputError, throwIfAborted } from "../errors.ts";
import { nvdRecordRows, RecordError } from "./nvd.ts";
import { bduRecordRow } from "./bdu.ts";
import { ghsaRecordRow } from "./ghsa.ts";
import { bduXmlStream, feedFiles, fileItems, nvdApiPages, osvFiles, windows } from "./source.ts";
import { xmlElements } from "./xml.ts";
import { storedRecords, writeDictionary, writeRecords, type RecordRows, type WriteCounts } from "./write.ts";
import { cpeProductRow } from "./cpedict.ts";
import type { CpeDictionaryRow } from "./rows.ts";
import { insertRows, quoteString } from "../../db/index.ts";
import type { HttpOptions } from "../../http/index.ts";

export { loadCpeMap } from "./map.ts";
export { matchVulnerabilities } from "./match.ts";

export type VulnSource = "nvd" | "cpe" | "bdu" | "ghsa";

export interface VulnLoadInput {
  source: VulnSource;
  /** a file, a directory, or an http(s) URL of the CVE API 2.0 */
  from: string;
  /** API only: start of the first window (default: the stored cursor; without one, everything) */
  since?: Date;
  /** API only */
  apiKey?: string;
  intervalMs?: number;
  pageSize?: number;
  /** retries/backoff/deadline of API requests */
  http?: HttpOptions;
  dryRun?: boolean;
}

export interface VulnLoadReport {
  source: string;
  from: string;
  records: number;
  written: number;
  unchanged: number;
  cpe_matches: number;
  rejected: FailedItem[];
  /** API: the cursor after this run */
  cursor?: string;
  complete: boolean;
  seconds: number;
}

const BATCH = 5000;

export async function loadVulnerabilities(ctx: LoadContext, input: VulnLoadInput): Promise<VulnLoadReport> {
  const started = performance.now();
  const counts: WriteCounts = { written: 0, unchanged: 0, cpeMatches: 0 };
  const rejected: FailedItem[] = [];
  let records = 0;
  let batch: RecordRows[] = [];
  let dict: CpeDictionaryRow[] = [];
  const TYPE = { nvd: "CVE", bdu: "BDU", ghsa: "GHSA", cpe: "" } as const;
  const have = input.source === "cpe" || input.dryRun ? { versions: new Set<string>(), orphans: new Set<string>() } : await storedRecords(ctx.db, TYPE[input.source]);
  const flush = async () => {
    if (!input.dryRun) {
      await writeRecords(ctx.db, batch, counts, have);
      await writeDictionary(ctx.db, dict, counts);
    }
    batch = [];
    dict = [];
  };
  const map = mapper(input.source);
  const take = async (text: string | unknown, where: string) => {
    records++;
    try {
      if (text instanceof RecordError) throw text;
      if (input.source === "cpe") dict.push(cpeProductRow(typeof text === "string" ? JSON.parse(text) : text));
      else batch.push(map(text));
    } catch (e) {
      if (!(e instanceof RecordError) && !(e instanceof SyntaxError)) throw e;
      rejected.push({ path: where, error: e.message });
      if (rejected.length <= 20) ctx.log.warn(`${where}: record skipped: ${e.message}`);
    }
    if (batch.length + dict.length >= BATCH) await flush();
  };

  const report = (complete: boolean, cursor?: Date): VulnLoadReport => ({
    source: input.source,
    from: input.from,
    records,
    written: counts.written,
    unchanged: counts.unchanged,
    cpe_matches: counts.cpeMatches,
    rejected,
    cursor: cursor?.toISOString(),
    complete: complete && rejected.length === 0,
    seconds: (performance.now() - started) / 1000,
  });

  if (!/^https?:\/\//.test(input.from)) {
    let failed = false;
    for (const file of sourceFiles(input.source, input.from)) {
      let n = 0;
      try {
        for await (const item of recordsOf(input.source, file)) {
          throwIfAborted(ctx.signal);
          await take(item, `${file}#${n++}`);
        }
      } catch (e) {
        if (e instanceof Error && ["JsonStreamError", "XmlError", "ZipError"].includes(e.name)) {
          failed = true;
          rejected.push({ path: file, error: e.message });
          ctx.log.error(`${file}: ${e.message}; the ${n} complete records before it are loaded`);
        } else throw e;
      }
      await flush();
      ctx.log.info(`${file}: ${n} records`);
    }
    return report(!failed);
  }

  // the CVE API 2.0
  if (input.source !== "nvd" && input.source !== "cpe") throw new InputError(`${input.source} is read from files (a URL is for the NVD APIs)`, input.from);
  const key = input.source === "nvd" ? "vulnerabilities" : "products";
  const cursorKey = `${input.source}:${new URL(input.from).host}`;
  const stored = await readCursor(ctx, cursorKey);
  const since = input.since ?? stored;
  const until = new Date();
  const opts = {
    apiKey: input.apiKey,
    intervalMs: input.intervalMs ?? (input.apiKey ? 600 : 6000),
    pageSize: input.pageSize ?? (input.source === "cpe" ? 10_000 : 2000),
    key,
    http: input.http,
    signal: ctx.signal,
  };
  if (!since) {
    for await (const page of nvdApiPages(input.from, undefined, opts)) {
      for (const [k, item] of page.items.entries()) await take(item, `${input.from}#${page.startIndex + k}`);
      await flush();
      ctx.progress?.({ phase: input.source, done: page.startIndex + page.items.length, total: page.totalResults });
    }
    if (!input.dryRun) await writeCursor(ctx, cursorKey, until);
    return report(true, until);
  }
  if (since.getTime() > until.getTime()) throw new InputError(`--since ${since.toISOString()} is in the future`);
  let cursor = since;
  for (const w of windows(since, until)) {
    for await (const page of nvdApiPages(input.from, w, opts)) {
      for (const [k, item] of page.items.entries()) await take(item, `${input.from}#${w.start.toISOString()}+${page.startIndex + k}`);
      await flush();
    }
    cursor = w.end;
    if (!input.dryRun) await writeCursor(ctx, cursorKey, cursor);
    ctx.log.info(`${input.source}: loaded up to ${cursor.toISOString()}`);
  }
  return report(true, cursor);
}

/** Record text or value → rows, per source. */
function mapper(source: VulnSource): (x: unknown) => RecordRows {
  if (source === "nvd") return (x) => nvdRecordRows(typeof x === "string" ? JSON.parse(x) : x);
  if (source === "bdu") return (x) => ({ vulnerability: bduRecordRow(String(x)), cpeMatches: [] });
  return (x) => ({ vulnerability: ghsaRecordRow(typeof x === "string" ? JSON.parse(x) : x), cpeMatches: [] });
}

/** The files of a source path: NVD feed files, the BDU export (zip or xml), OSV files of a tree. */
function sourceFiles(source: VulnSource, path: string): string[] {
  if (source === "nvd" || source === "cpe") return feedFiles(path);
  if (source === "bdu") return [path];
  return osvFiles(path);
}

/** Records of one file, as text (NVD items, BDU <vul> elements) or parsed (OSV files). */
async function* recordsOf(source: VulnSource, file: string): AsyncGenerator<unknown> {
  if (source === "nvd") yield* fileItems(file, "vulnerabilities");
  else if (source === "cpe") yield* fileItems(file, "products");
  else if (source === "bdu") yield* xmlElements(bduXmlStream(file), "vul");
  else {
    const text = await Bun.file(file).text();
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      // one broken file is one rejected record, named by the caller
      yield new RecordError(`not JSON: ${(e as Error).message}`);
      return;
    }
    if (Array.isArray(doc)) yield* doc;
    else yield doc;
  }
}

async function readCursor(ctx: LoadContext, key: string): Promise<Date | undefined> {
  const rows = await ctx.db.query<{ c: string }>(
    `SELECT toString(argMax(cursor, at)) AS c, count() AS n FROM altrepodb_vuln_cursors WHERE source = ${quoteString(key)} HAVING n > 0`,
  );
  return rows.length ? new Date(`${rows[0]!.c.replace(" ", "T")}Z`) : undefined;
}

async function writeCursor(ctx: LoadContext, key: string, at: Date): Promise<void> {
  await insertRows(ctx.db, "altrepodb_vuln_cursors", [{ source: key, cursor: at.getTime() / 1000 }], ["source", "cursor"]);
}
