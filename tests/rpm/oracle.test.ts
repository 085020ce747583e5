/**
 * librpm is the oracle: every RPM of the real corpus (and every package the fixture generator
 * builds) is dumped by us and by python3-rpm, and compared field by field — scalars, files,
 * dependencies, changelog.
 */
import { describe, expect, test } from "bun:test";
import { dumpPackage, readPackage, RpmError } from "../../src/rpm/index.ts";
import { buildEdgeCasePackages } from "../fixtures/rpms.ts";
import { CORPUS_RPM, hasCorpus, rpmFiles } from "./_corpus.ts";
import { diffPackage, oracleAvailable, runOracle } from "./compare.ts";

const canRun = hasCorpus && oracleAvailable();

/**
 * Known, deliberate differences from librpm 4.18 (file suffix → fields that differ, and why).
 * Everything else must be identical.
 */
const KNOWN: Record<string, { fields: string[]; why: string }> = {};

function check(files: string[], label: (f: string) => string, known: typeof KNOWN): void {
  const oracle = runOracle(files);
  for (const file of files) {
    test(label(file), () => {
      const lib = oracle.get(file);
      expect(lib).toBeDefined();
      if (!lib?.ok) {
        expect(() => readPackage(file)).toThrow(RpmError);
        return;
      }
      const diffs = diffPackage(dumpPackage(readPackage(file)), lib);
      const allowed = known[label(file)]?.fields ?? [];
      expect(diffs.filter((d) => !allowed.some((f) => d.startsWith(`${f}:`)))).toEqual([]);
      for (const f of allowed) expect(diffs.some((d) => d.startsWith(`${f}:`))).toBe(true);
    });
  }
}

describe.skipIf(!canRun)("librpm oracle: real corpus", () => {
  const files = rpmFiles(CORPUS_RPM);
  test("the corpus has its RPMs (99 when this test was written)", () => expect(files.length).toBeGreaterThanOrEqual(99));
  check(files, (f) => f.slice(CORPUS_RPM.length + 1), KNOWN);
});

describe.skipIf(!oracleAvailable())("librpm oracle: fixture generator packages", async () => {
  const m = await buildEdgeCasePackages();
  const files = m.packages.map((p) => p.file).sort();
  test("the generator built packages", () => expect(files.length).toBeGreaterThan(20));
  check(files, (f) => f.slice(m.dir.length + 1), {});
});
