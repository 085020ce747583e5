/** Small pieces the feed modules share. */
import { createHash } from "node:crypto";
import type { FailedItem } from "../context.ts";

/**
 * A content hash over named parts (names count: a file moved is a change), fed part by part to
 * one incremental SHA-256 (the first 8 bytes): the bodies are never copied into one buffer.
 */
export function partsHash(parts: { name: string; body: Uint8Array }[]): bigint {
  const h = createHash("sha256");
  for (const p of [...parts].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) h.update(`${p.name}\0${p.body.length}\0`).update(p.body);
  return h.digest().readBigUInt64BE(0);
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
