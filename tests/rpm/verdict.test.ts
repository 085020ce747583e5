/**
 * Accept exactly what librpm accepts. Mutants of the real corpus (tests/rpm/mutants.ts, fixed
 * seed) are read by librpm — python3-rpm `ts.hdrFromFdno` with its default checks (header
 * digests SHA1HEADER / SHA256HEADER, header structure), signatures off, as the reference read
 * packages — and by readPackage. The verdicts (read / refused) must be identical for every
 * mutant. ~1,000 mutants by default; ALTREPODB_FUZZ=100000 runs more, ALTREPODB_FUZZ_SEED picks
 * another seed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readPackage, RpmError } from "../../src/rpm/index.ts";
import { CORPUS_RPM, hasCorpus, rpmFiles, scratchDir } from "./_corpus.ts";
import { oracleAvailable, runOracle } from "./compare.ts";
import { mutants } from "./mutants.ts";

const TOTAL = Number(process.env.ALTREPODB_FUZZ ?? 1000);
const SEED = Number(process.env.ALTREPODB_FUZZ_SEED ?? 20261203);
const CHUNK = 2000;
const dir = scratchDir("verdict");

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ours(file: string): { ok: boolean; error?: string } {
  try {
    readPackage(file);
    return { ok: true };
  } catch (e) {
    if (!(e instanceof RpmError)) throw e;
    return { ok: false, error: `${e.code}: ${e.message}` };
  }
}

describe.skipIf(!hasCorpus || !oracleAvailable())("librpm verdict parity on mutated real RPMs", () => {
  test(`${TOTAL} mutants (seed ${SEED}): read by us exactly when read by librpm`, () => {
    mkdirSync(dir, { recursive: true });
    const files = rpmFiles(CORPUS_RPM);
    const verdicts = runOracle(files, ["--verdict"]);
    // every real package librpm reads is a source; the others must be refused by us too
    const sources: [string, Uint8Array][] = [];
    for (const f of files) {
      expect({ file: f, ok: ours(f).ok }).toEqual({ file: f, ok: verdicts.get(f)!.ok });
      if (verdicts.get(f)!.ok) sources.push([f.slice(CORPUS_RPM.length + 1), new Uint8Array(readFileSync(f))]);
    }
    expect(sources.length).toBeGreaterThan(50);
    let accepted = 0;
    let done = 0;
    const differ: string[] = [];
    const gen = mutants(sources, TOTAL, SEED);
    while (done < TOTAL) {
      const paths: string[] = [];
      for (let i = 0; i < CHUNK && done < TOTAL; i++, done++) {
        const m = gen.next().value!;
        const p = join(dir, m.name);
        writeFileSync(p, m.bytes);
        paths.push(p);
      }
      const lib = runOracle(paths, ["--verdict"]);
      for (const p of paths) {
        const l = lib.get(p)!;
        const o = ours(p);
        if (l.ok) accepted++;
        if (o.ok !== l.ok) differ.push(`${p.slice(dir.length + 1)}: librpm ${l.ok ? "reads it" : `refuses it (${l.error})`}, we ${o.ok ? "read it" : `refuse it (${o.error})`}`);
        rmSync(p);
      }
    }
    console.log(`${TOTAL} mutants: librpm read ${accepted}, verdicts differ on ${differ.length}`);
    expect(differ.slice(0, 30)).toEqual([]);
    // the corpus exercises both verdicts
    expect(accepted).toBeGreaterThan(TOTAL / 20);
    expect(accepted).toBeLessThan(TOTAL - TOTAL / 20);
  }, Math.max(600_000, TOTAL * 30));
});
