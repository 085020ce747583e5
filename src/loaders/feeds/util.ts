/** Small pieces the feed modules share. */
import { createHash } from "node:crypto";
import type { FailedItem } from "../context.ts";

/**
 * A content hash over named parts (names count: a file moved is a change), fed part by part to
 * one incremental SHA-256 (the first 8 bytes): the bodies are never copied into one buffer.
 */
export function partsHash(parts: { name: string; body: Uint8Array }[]): bigint {
  const h = new PartsHash();
  for (const p of [...parts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.add(p);
  return h.digest();
}

/** partsHash fed one part at a time, in name order (a loader need not keep the bodies it parsed). */
export class PartsHash {
  private readonly h = createHash("sha256");
  private last = "";
  add(p: { name: string; body: Uint8Array }): void {
    if (p.name < this.last) throw new Error(`PartsHash: ${p.name} after ${this.last}, parts must come in name order`);
    this.last = p.name;
    this.h.update(`${p.name}\0${p.body.length}\0`).update(p.body);
  }
  digest(): bigint {
    return this.h.digest().readBigUInt64BE(0);
  }
}

/** Lines of a text body (LF or CRLF), with their 1-based numbers, blank ones skipped. */
export function* lines(text: string): Generator<[number, string]> {
  let n = 0;
  for (let i = 0; i <= text.length; ) {
    let j = text.indexOf("\n", i);
    if (j < 0) j = text.length;
    n++;
    const l = text.charCodeAt(j - 1) === 13 && j > i ? text.slice(i, j - 1) : text.slice(i, j);
    i = j + 1;
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
