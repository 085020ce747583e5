/**
 * Where vulnerability records come from: feed files on disk (a file or a directory of
 * `*.json` / `*.json.gz`, streamed item by item) or the NVD CVE API 2.0 (pages of 2,000 records
 * in modification-date windows of at most 120 days, the rate limit honoured).
 */
import { closeSync, createReadStream, lstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { createGunzip } from "node:zlib";
import { httpGet, HttpError, type HttpOptions } from "../../http/index.ts";
import { InputError } from "../errors.ts";
import { jsonArrayItems } from "./json-items.ts";
import { zipMemberStream, zipMembers } from "./zip.ts";

/** true for a regular file, false for a directory; anything else (missing, FIFO, device) is an InputError. */
function fileOrDir(path: string): boolean {
  let st;
  try {
    st = lstatSync(path);
  } catch {
    throw new InputError("no such file or directory", path);
  }
  if (st.isFile()) return true;
  if (!st.isDirectory()) throw new InputError("not a regular file or directory", path);
  return false;
}

/** The regular files a path names: itself, or the `*.json(.gz)` files of a directory, sorted. */
export function feedFiles(path: string): string[] {
  if (fileOrDir(path)) return [path];
  const files = readdirSync(path)
    .filter((n) => /\.json(\.gz)?$/.test(n))
    .sort()
    .map((n) => join(path, n))
    .filter((f) => lstatSync(f).isFile());
  if (!files.length) throw new InputError("no *.json or *.json.gz files in this directory", path);
  return files;
}

/** Items of the top-level `key` array of one feed file, streamed (gzip by name or magic). */
export async function* fileItems(file: string, key: string): AsyncGenerator<string> {
  const head = new Uint8Array(2);
  const fd = await Bun.file(file).slice(0, 2).arrayBuffer();
  head.set(new Uint8Array(fd));
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const raw = createReadStream(file, { highWaterMark: 1 << 20 });
  const stream = gz ? raw.pipe(createGunzip()) : raw;
  yield* jsonArrayItems(stream as AsyncIterable<Uint8Array>, key);
}

/** The `*.json` files below `path` (an OSV tree such as advisory-database), or `path` itself. */
export function osvFiles(path: string): string[] {
  if (fileOrDir(path)) return [path];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      const s = lstatSync(p); // symlinks are not followed: a tree never leads outside itself
      if (s.isDirectory()) walk(p);
      else if (s.isFile() && n.endsWith(".json")) out.push(p);
    }
  };
  walk(path);
  if (!out.length) throw new InputError("no *.json files below this directory", path);
  return out;
}

/**
 * The XML of a BDU export: the file itself, or the `.xml` member of the zip FSTEC publishes
 * (its name changes between releases: the largest .xml member is taken).
 */
export function bduXmlStream(file: string): AsyncIterable<Uint8Array> {
  let st;
  try {
    st = lstatSync(file);
  } catch {
    throw new InputError("no such file", file);
  }
  if (!st.isFile()) throw new InputError("not a regular file", file);
  const fd = openSync(file, "r");
  const magic = Buffer.alloc(4);
  try {
    readSync(fd, magic, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (magic.readUInt32LE(0) !== 0x04034b50) return createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>;
  const xml = zipMembers(file)
    .filter((m) => m.name.toLowerCase().endsWith(".xml"))
    .sort((a, b) => b.size - a.size)[0];
  if (!xml) throw new InputError("the zip holds no .xml file", file);
  return zipMemberStream(file, xml);
}

export interface NvdApiOptions {
  apiKey?: string;
  /** pause between requests (NVD: 6 s without a key, 0.6 s with one) */
  intervalMs: number;
  pageSize: number;
  /** the top-level array of a page: `vulnerabilities` (CVE API) or `products` (CPE API) */
  key?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  /** retries, backoff, deadline of each page request */
  http?: HttpOptions;
}

export interface NvdPage {
  startIndex: number;
  totalResults: number;
  items: unknown[];
}

/** `2024-01-02T03:04:05.000+00:00`, the form the NVD API takes for lastMod dates. */
export function nvdDateParam(d: Date): string {
  return d.toISOString().replace("Z", "+00:00");
}

/** Every page of one window (or of everything when `window` is absent), in order. A bad page throws. */
export async function* nvdApiPages(base: string, window: { start: Date; end: Date } | undefined, o: NvdApiOptions): AsyncGenerator<NvdPage> {
  let startIndex = 0;
  let last = 0;
  for (;;) {
    const url = new URL(base);
    url.searchParams.set("resultsPerPage", String(o.pageSize));
    url.searchParams.set("startIndex", String(startIndex));
    if (window) {
      url.searchParams.set("lastModStartDate", nvdDateParam(window.start));
      url.searchParams.set("lastModEndDate", nvdDateParam(window.end));
    }
    const pause = last + o.intervalMs - Date.now();
    if (pause > 0) await Bun.sleep(pause);
    last = Date.now();
    const res = await httpGet(url.toString(), {
      headers: o.apiKey ? { apiKey: o.apiKey, accept: "application/json" } : { accept: "application/json" },
      timeoutMs: o.timeoutMs,
      deadlineMs: Math.max(60_000, (o.timeoutMs ?? 30_000) * 3),
      ...o.http,
      signal: o.signal,
    });
    const key = o.key ?? "vulnerabilities";
    let doc: { totalResults?: number; startIndex?: number } & Record<string, unknown>;
    try {
      doc = JSON.parse(new TextDecoder().decode(res.body));
    } catch {
      throw new HttpError(`page at startIndex ${startIndex} is not complete JSON (${res.body.length} bytes)`, url.toString(), res.status);
    }
    const items = doc[key];
    if (!Array.isArray(items) || typeof doc.totalResults !== "number")
      throw new HttpError(`page at startIndex ${startIndex} has no ${key}/totalResults`, url.toString(), res.status);
    const expected = Math.min(o.pageSize, Math.max(0, doc.totalResults - startIndex));
    if (items.length !== expected)
      throw new HttpError(`page at startIndex ${startIndex} has ${items.length} records, expected ${expected} of ${doc.totalResults}`, url.toString(), res.status);
    yield { startIndex, totalResults: doc.totalResults, items };
    startIndex += items.length;
    if (startIndex >= doc.totalResults || items.length === 0) return;
  }
}

const DAY = 86_400_000;

/** Windows of at most `days` days from `since` to `until`. */
export function windows(since: Date, until: Date, days = 120): { start: Date; end: Date }[] {
  const out: { start: Date; end: Date }[] = [];
  for (let t = since.getTime(); t < until.getTime(); t += days * DAY) out.push({ start: new Date(t), end: new Date(Math.min(t + days * DAY, until.getTime())) });
  return out;
}
