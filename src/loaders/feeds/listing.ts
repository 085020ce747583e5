/**
 * HTML directory listings (nginx/apache autoindex, reference §2.8): the entries of a page as
 * (name, modified). Names come from the href (URL-decoded basename, a trailing `/` kept for
 * directories); the time is the first date after the link on its line, read in the given zone.
 * A page without "Index of" is not a listing (an error page served with 200 is never parsed as data).
 */
import { parseListingTime } from "./time.ts";

export interface ListingEntry {
  name: string;
  /** seconds since the epoch, or undefined when the listing shows none */
  modified?: number;
}

export class ListingError extends Error {
  override name = "ListingError";
}

export function parseListing(html: string, tz: string, what: string): ListingEntry[] {
  if (!/<(title|h1)[^>]*>\s*Index of /i.test(html)) throw new ListingError(`${what}: not a directory listing (no "Index of" title)`);
  const out: ListingEntry[] = [];
  const re = /<a\s[^>]*href\s*=\s*"([^"]*)"[^>]*>[^<]*<\/a>([^<\n]*)/gi;
  for (const m of html.matchAll(re)) {
    const href = m[1]!;
    if (!href || href.startsWith("?") || href.startsWith("/") || href === "../" || href === ".." || /^[a-z]+:/i.test(href)) continue;
    let name: string;
    try {
      name = decodeURIComponent(href.replace(/^\.\//, ""));
    } catch {
      continue;
    }
    if (name.includes("/") && !name.endsWith("/")) continue;
    if (name.slice(0, -1).includes("/")) continue;
    const tail = m[2]!.trim();
    const dm = /^(\S+ \S+|\S+)/.exec(tail);
    const modified = dm ? (parseListingTime(dm[1]!, tz) ?? parseListingTime(tail.split(/\s{2,}/)[0] ?? "", tz)) : undefined;
    out.push({ name, modified });
  }
  return out;
}
