/**
 * rpm vercmp against librpm (python3-rpm's labelCompare over rpm.ver()'s parse) on generated
 * label pairs: a fixed 5,000 in the normal suite, ALTREPODB_FUZZ_VERCMP=100000 for more.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { compareEvr, isValidEvr, parseEvr, rpmvercmp } from "../../src/rpm/vercmp.ts";
import { rng } from "../hash/rng.ts";
import { CLI } from "../helpers/cli.ts";

const ORACLE = join(import.meta.dir, "vercmp-oracle.py");
const hasOracle = Bun.spawnSync(["/usr/bin/python3", "-c", "import rpm"]).exitCode === 0;
const COUNT = Number(process.env.ALTREPODB_FUZZ_VERCMP ?? 5000);

interface OracleRow {
  /** NaN: librpm refused one of the labels */
  cmp: number;
  evr: { epoch: string | null; version: string; release: string | null };
}

function oracle(pairs: [string, string][]): OracleRow[] {
  const input = pairs.map(([a, b]) => `${a}\t${b}`).join("\n") + "\n";
  const r = Bun.spawnSync(["/usr/bin/python3", ORACLE], { stdin: Buffer.from(input), stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`oracle failed: ${r.stderr.toString()}`);
  const nul = (s: string) => (s === "\x00" ? null : s);
  return r.stdout
    .toString()
    .trimEnd()
    .split("\n")
    .map((line) => {
      if (line === "invalid") return { cmp: Number.NaN, evr: { epoch: null, version: "", release: null } };
      const [c, e, v, rel] = line.split("\t");
      return { cmp: Number(c), evr: { epoch: nul(e!), version: v!, release: nul(rel!) } };
    });
}

// Pieces chosen to hit every rule: separators, ~ and ^, leading zeros, long digit runs, case.
const PIECES = [
  "0", "1", "2", "9", "10", "01", "001", "00", "99", "100", "18446744073709551616", "18446744073709551617",
  "a", "b", "A", "Z", "z", "alpha", "beta", "rc", "pre", "git", "svn", "alt", "el", "fc",
  ".", ".", ".", "_", "+", "~", "~", "^", "^", "-", ":", "%", "é",
];

function label(next: () => number): string {
  const n = 1 + Math.floor(next() * 6);
  let s = "";
  for (let k = 0; k < n; k++) s += PIECES[Math.floor(next() * PIECES.length)];
  const r = next();
  if (r < 0.15) s = `${Math.floor(next() * 3)}:${s}`;
  else if (r < 0.2) s = `:${s}`;
  return s;
}

/** Near-equal pairs are where ordering bugs live: mutate one side a little. */
function pairs(count: number, seed: number): [string, string][] {
  const u32 = rng(seed);
  const next = () => u32() / 2 ** 32;
  const out: [string, string][] = [];
  while (out.length < count) {
    const a = label(next);
    let b: string;
    const r = next();
    if (r < 0.4) b = label(next);
    else if (r < 0.7) b = a + PIECES[Math.floor(next() * PIECES.length)];
    else {
      const cut = Math.floor(next() * a.length);
      b = a.slice(0, cut) + PIECES[Math.floor(next() * PIECES.length)] + a.slice(cut + 1);
    }
    if (!a || !b || a.includes("\t") || b.includes("\t")) continue;
    out.push([a, b]);
  }
  return out;
}

describe("rpmvercmp", () => {
  test.each([
    ["1.0", "1.0", 0],
    ["1.0", "2.0", -1],
    ["2.0.1", "2.0", 1],
    ["1.0~rc1", "1.0", -1],
    ["1.0~rc1", "1.0~rc2", -1],
    ["1.0^", "1.0", 1],
    ["1.0^git1", "1.0.1", -1],
    ["1.0^git1", "1.0^git2", -1],
    ["1.0a", "1.0", 1],
    ["1.0", "1.0a", -1],
    ["10", "9", 1],
    ["010", "10", 0],
    ["1.a", "1.1", -1],
    ["a", "B", 1],
    ["1..0", "1.0", 0],
    ["1.", "1", 0],
    ["18446744073709551617", "18446744073709551616", 1],
  ] as const)("%s vs %s → %d", (a, b, want) => {
    expect(rpmvercmp(a, b)).toBe(want);
    expect(rpmvercmp(b, a)).toBe(-want || 0);
  });
});

describe("labels", () => {
  test("a missing epoch equals 0 (librpm's labelCompare), an empty one too", () => {
    expect(compareEvr("1-1", "0:1-1")).toBe(0);
    expect(compareEvr(":1-1", "0:1-1")).toBe(0);
    expect(compareEvr("1-1", "1:1-1")).toBe(-1);
  });
  test("a missing release sorts below an empty one, which sorts below any", () => {
    expect(compareEvr("1", "1-")).toBe(-1);
    expect(compareEvr("1-", "1-0")).toBe(-1);
    expect(compareEvr("1", "1-alt1")).toBe(-1);
  });
  test("an empty version is refused, as librpm does", () => {
    for (const s of ["-1", "1:", "1:-", ""]) expect(isValidEvr(s)).toBe(false);
    expect(() => compareEvr("1:", "1")).toThrow("empty version");
  });
  test("the release is split off at the last dash", () => {
    expect(parseEvr("2:1.0-beta-alt1")).toEqual({ epoch: "2", version: "1.0-beta", release: "alt1" });
    expect(parseEvr("x:1")).toEqual({ epoch: null, version: "x:1", release: null });
  });
});

describe.skipIf(!hasOracle)("librpm as the oracle", () => {
  test(`${COUNT} generated pairs: parse and order equal librpm's`, () => {
    const ps = pairs(COUNT, 20261203);
    const want = oracle(ps);
    expect(want.length).toBe(ps.length);
    const bad: string[] = [];
    ps.forEach(([a, b], k) => {
      if (Number.isNaN(want[k]!.cmp)) {
        if (isValidEvr(a) && isValidEvr(b)) bad.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: librpm refuses, ours accepts`);
        return;
      }
      if (!isValidEvr(a) || !isValidEvr(b)) {
        bad.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ours refuses, librpm accepts`);
        return;
      }
      const got = compareEvr(a, b);
      const pa = parseEvr(a);
      if (got !== want[k]!.cmp) bad.push(`${JSON.stringify(a)} vs ${JSON.stringify(b)}: ours ${got}, librpm ${want[k]!.cmp}`);
      else if (JSON.stringify(pa) !== JSON.stringify(want[k]!.evr)) bad.push(`${JSON.stringify(a)}: parsed ${JSON.stringify(pa)}, librpm ${JSON.stringify(want[k]!.evr)}`);
    });
    expect(bad.slice(0, 20)).toEqual([]);
  });
});

function runCli(args: string[], opts: { stdin?: string } = {}) {
  const r = Bun.spawnSync([...CLI, ...args], { stdin: opts.stdin === undefined ? "ignore" : Buffer.from(opts.stdin), stdout: "pipe", stderr: "pipe" });
  return { exitCode: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe("altrepodb rpm vercmp", () => {
  test("two labels print -1, 0 or 1", () => {
    const r = runCli(["rpm", "vercmp", "1.0-alt1", "1.0-alt2"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("-1\n");
  });
  test("- reads pairs from stdin, one result per line; a bad line is named and exits 1", () => {
    const r = runCli(["rpm", "vercmp", "-"], { stdin: "1 1\n2:1 1:9\n1.0~rc1 1.0\nonly-one\n3 4\n1: 2\n" });
    expect(r.stdout).toBe("0\n1\n-1\n-1\n");
    expect(r.stderr).toContain("line 4");
    expect(r.stderr).toContain("line 6: invalid label \"1:\": empty version");
    expect(r.exitCode).toBe(1);
  });
  test("a missing argument is a usage error", () => {
    const r = runCli(["rpm", "vercmp", "1.0"]);
    expect(r.exitCode).toBe(2);
  });
});
