/**
 * Version comparisons per second: `bun bench/vercmp.ts`. Our compareEvr on realistic ALT labels
 * against librpm's labelCompare (python3-rpm, one core) on the same pairs, in the same run.
 * Best of 5 rounds each. Goal (issue 13): ≥ 1M comparisons/s on one core.
 */
import { compareEvr } from "../src/rpm/vercmp.ts";

const N = 200_000;
const pieces = ["1", "2", "10", "0", "3", "2024", "rc1", "alt1", "alt2", "beta", "git", "~pre", "^20240101"];
let seed = 42;
const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const label = () => {
  let v = `${1 + Math.floor(rand() * 9)}`;
  for (let k = Math.floor(rand() * 3); k >= 0; k--) v += `.${pieces[Math.floor(rand() * pieces.length)]}`;
  const e = rand() < 0.1 ? `${Math.floor(rand() * 3)}:` : "";
  return `${e}${v}-alt${1 + Math.floor(rand() * 3)}`;
};
const pairs: [string, string][] = Array.from({ length: N }, () => [label(), label()]);

let sink = 0;
for (let k = 0; k < 20_000; k++) sink += compareEvr(...pairs[k]!);
let ours = 0;
for (let round = 0; round < 5; round++) {
  const t0 = performance.now();
  for (const [a, b] of pairs) sink += compareEvr(a, b);
  ours = Math.max(ours, N / ((performance.now() - t0) / 1000));
}

const py = `
import rpm, sys, time
pairs = [l.split("\\t") for l in sys.stdin.read().splitlines()]
parsed = [(rpm.ver(a), rpm.ver(b)) for a, b in pairs]
best = 0
for _ in range(5):
    t = time.perf_counter()
    for x, y in parsed:
        rpm.labelCompare((x.e, x.v, x.r), (y.e, y.v, y.r))
    best = max(best, len(pairs) / (time.perf_counter() - t))
print(best)
`;
const r = Bun.spawnSync(["/usr/bin/python3", "-c", py], { stdin: Buffer.from(pairs.map((p) => p.join("\t")).join("\n")), stdout: "pipe", stderr: "pipe" });
const librpm = r.exitCode === 0 ? Number(r.stdout.toString()) : NaN;
console.log(`compareEvr: ${Math.round(ours).toLocaleString("en")} comparisons/s (goal ≥ 1,000,000)`);
if (Number.isFinite(librpm)) console.log(`librpm labelCompare via python3-rpm (labels pre-parsed): ${Math.round(librpm).toLocaleString("en")}/s; ratio ${(ours / librpm).toFixed(2)}×`);
else console.log(`librpm: not measured (${r.stderr.toString().trim()})`);
if (sink === 0.5) console.log(sink);
