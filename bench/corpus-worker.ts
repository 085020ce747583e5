// Worker of bench/corpus.ts: generates the packages of a chunk of sources, writes (or, for a
// package unchanged since the previous day, hard-links) their files and the chunk's apt list
// fragments, and returns one record per package.
import { createHash } from "node:crypto";
import { linkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSource, listHeader, planSource } from "./corpus-rpm.ts";

declare const self: Worker;

export interface ChunkJob {
  root: string;
  /** Previous day's tree: packages of generation 0 are hard-linked from there. */
  linkFrom?: string;
  seed: number;
  chunkFile: string;
  sources: { index: number; nbin: number; gen: number }[];
}

export interface PackageRecord {
  file: string;
  arch: string;
  name: string;
  evr: string;
  sourcerpm: string;
  size: number;
  sha256: string;
  headerBytes: number;
  files: number;
  requires: number;
  changelog: number;
}

export function relPath(arch: string, file: string): string {
  return arch === "src" ? join("files", "SRPMS", file) : join("files", arch, "RPMS", file);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function run(job: ChunkJob): PackageRecord[] {
  const records: PackageRecord[] = [];
  const lists: Record<string, Uint8Array[]> = { src: [], x86_64: [], noarch: [] };
  for (const s of job.sources) {
    const pkgs = generateSource(planSource(s.index, job.seed, s.nbin, s.gen), job.seed);
    const bins = pkgs.filter((p) => !p.source).sort((a, b) => (a.file < b.file ? -1 : 1));
    for (const p of [pkgs[0], ...bins]) {
      const rel = relPath(p.arch, p.file);
      if (job.linkFrom && s.gen === 0) linkSync(join(job.linkFrom, rel), join(job.root, rel));
      else writeFileSync(join(job.root, rel), p.bytes);
      const md5 = createHash("md5").update(p.bytes).digest("hex");
      const blake2b = createHash("blake2b512").update(p.bytes).digest("hex");
      const sha256 = createHash("sha256").update(p.bytes).digest("hex");
      if (p.source) lists.src.push(listHeader(p, "../SRPMS.classic", md5, blake2b, bins.map((b) => b.name)));
      else lists[p.arch].push(listHeader(p, "RPMS.classic", md5, blake2b));
      records.push({ file: p.file, arch: p.arch, name: p.name, evr: p.evr, sourcerpm: p.sourcerpm, size: p.bytes.length, sha256, headerBytes: p.headerBytes, files: p.files, requires: p.requires, changelog: p.changelog });
    }
  }
  for (const [k, v] of Object.entries(lists)) writeFileSync(`${job.chunkFile}.${k}`, concat(v));
  return records;
}

self.onmessage = (ev: MessageEvent<ChunkJob>) => {
  try {
    self.postMessage({ ok: true, records: run(ev.data) });
  } catch (e) {
    self.postMessage({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
};
