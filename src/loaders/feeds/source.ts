/**
 * A feed's source root: an http(s) URL or a local directory (a mirror), read the same way.
 * Names below the root never escape it. HTTP parts are fetched conditionally (ETag /
 * Last-Modified of the last good load) through the one client in src/http.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { httpGet, HttpError, type HttpOptions } from "../../http/index.ts";
import { InputError } from "../errors.ts";
import { parseListing, type ListingEntry } from "./listing.ts";

export interface FeedSource {
  root: string;
  http: HttpOptions;
  /** time zone of listings and naive times */
  tz: string;
}

export interface Part {
  name: string;
  body: Uint8Array;
  etag: string;
  lastModified: string;
  /** seconds since the epoch: Last-Modified or the file's mtime */
  modified?: number;
}

export interface Validators {
  etag?: string;
  lastModified?: string;
}

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

function localPath(root: string, rel: string): string {
  const base = resolve(root);
  const p = resolve(base, rel);
  if (p !== base && !p.startsWith(base + sep)) throw new InputError(`${rel} is outside the feed root`, root);
  return p;
}

function partUrl(root: string, rel: string): string {
  if (rel.split("/").some((c) => c === "..")) throw new InputError(`${rel} is outside the feed root`, root);
  return rel ? `${root.replace(/\/+$/, "")}/${rel.split("/").map(encodeURIComponent).join("/")}` : root;
}

/** One part: its bytes, "not-modified" when the validators still hold, "missing" on 404 / no such file. */
export async function getPart(src: FeedSource, rel: string, v: Validators = {}): Promise<Part | "not-modified" | "missing"> {
  if (!isUrl(src.root)) {
    const p = localPath(src.root, rel);
    let st;
    try {
      st = lstatSync(p);
    } catch {
      return "missing";
    }
    if (!st.isFile()) throw new InputError("not a regular file", p);
    // a symlink may not lead out of the mirror
    const real = realpathSync(p);
    const base = realpathSync(resolve(src.root));
    // (the root may be the file itself: a Bugzilla CSV, a dump)
    if (!(rel === "" ? real === base : real.startsWith(base + sep))) throw new InputError("leads outside the feed root", p);
    const etag = `"${st.size}-${Math.floor(st.mtimeMs)}"`;
    if (v.etag && v.etag === etag) return "not-modified";
    return { name: rel, body: readFileSync(p), etag, lastModified: new Date(st.mtimeMs).toUTCString(), modified: Math.floor(st.mtimeMs / 1000) };
  }
  const url = partUrl(src.root, rel);
  const headers: Record<string, string> = {};
  if (v.etag) headers["if-none-match"] = v.etag;
  if (v.lastModified) headers["if-modified-since"] = v.lastModified;
  const res = await httpGet(url, { ...src.http, headers, accept: (s) => (s >= 200 && s < 300) || s === 304 || s === 404 || s === 410 });
  if (res.status === 304) return "not-modified";
  if (res.status === 404 || res.status === 410) return "missing";
  const lastModified = res.headers.get("last-modified") ?? "";
  const t = Date.parse(lastModified);
  return { name: rel, body: res.body, etag: res.headers.get("etag") ?? "", lastModified, modified: Number.isFinite(t) ? t / 1000 : undefined };
}

/** The entries of a directory: an HTML listing of a URL, or the directory itself. */
export async function listDir(src: FeedSource, rel: string): Promise<ListingEntry[] | "missing"> {
  if (!isUrl(src.root)) {
    const p = localPath(src.root, rel);
    try {
      if (!lstatSync(p).isDirectory()) return "missing";
    } catch {
      return "missing";
    }
    return readdirSync(p).map((n) => {
      const st = lstatSync(join(p, n));
      return { name: st.isDirectory() ? `${n}/` : n, modified: Math.floor(st.mtimeMs / 1000) };
    });
  }
  const url = partUrl(src.root, rel);
  const res = await httpGet(url.endsWith("/") ? url : `${url}/`, { ...src.http, accept: (s) => (s >= 200 && s < 300) || s === 404 });
  if (res.status === 404) return "missing";
  return parseListing(new TextDecoder("latin1").decode(res.body), src.tz, url);
}

/** Refuse an HTML page where data was expected (an error page served with 200). */
export function notHtml(body: Uint8Array, what: string): void {
  const head = new TextDecoder("latin1").decode(body.subarray(0, 512)).trimStart().toLowerCase();
  if (head.startsWith("<!doctype html") || head.startsWith("<html") || head.startsWith("<head") || head.startsWith("<body"))
    throw new HttpError("an HTML page where data was expected", what);
}
