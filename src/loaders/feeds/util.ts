/** Small pieces the feed modules share. */
import { mmhash } from "../../hash/index.ts";
import type { FailedItem } from "../context.ts";

/** A content hash over named parts (names count: a file moved is a change). */
export function partsHash(parts: { name: string; body: Uint8Array }[]): bigint {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  for (const p of [...parts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) chunks.push(enc.encode(`${p.name}\0${p.body.length}\0`), p.body);
  let n = 0;
  for (const c of chunks) n += c.length;
  const all = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return mmhash(all);
}

/** Lines of a text body (LF or CRLF), with their 1-based numbers, blank ones skipped. */
export function* lines(text: string): Generator<[number, string]> {
  let n = 0;
  for (const raw of text.split("\n")) {
    n++;
    const l = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (l.trim()) yield [n, l];
  }
}

/** Collects rejected lines, keeping the first `keep` in full and counting the rest. */
export class Rejects {
  readonly items: FailedItem[] = [];
  add(path: string, error: string): void {
    this.items.push({ path, error });
  }
}
