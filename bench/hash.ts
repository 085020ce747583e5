/**
 * Hash primitive throughput: `bun bench/hash.ts [seconds-per-case]`.
 * Prints hashes/s and MB/s for short (30 B) and long (4 KiB) inputs, comparing
 * src/hash against a straightforward BigInt MurmurHash3 and node:crypto md5 in the same run.
 */
import { createHash } from "node:crypto";
import { createDigests, mmhash, murmur32, type DigestName } from "../src/hash/index.ts";
import { refMmhash, refMurmur32 } from "../tests/hash/reference.ts";

const perCase = Number(process.argv[2] ?? 0.5) * 1000;

function makeInputs(len: number, count: number): { bytes: Uint8Array[]; strings: string[] } {
  const bytes: Uint8Array[] = [];
  const strings: string[] = [];
  const alpha = "abcdefghijklmnopqrstuvwxyz0123456789 -_.,:;()[]ABCDEFGHIJKLMNOPQRSTUVWXYZ\n";
  for (let i = 0; i < count; i++) {
    let s = "";
    for (let j = 0; j < len; j++) s += alpha[(Math.random() * alpha.length) | 0];
    strings.push(s);
    bytes.push(new TextEncoder().encode(s));
  }
  return { bytes, strings };
}

// Results go to a module-level slot so the calls cannot be optimised away.
let last: unknown;

function run(name: string, len: number, inputs: unknown[], fn: (x: never) => unknown): void {
  // warm-up
  for (let i = 0; i < 2000; i++) fn(inputs[i % inputs.length] as never);
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < perCase) {
    for (let i = 0; i < 256; i++) {
      last = fn(inputs[(n + i) % inputs.length] as never);
    }
    n += 256;
    t = performance.now();
  }
  const secs = (t - t0) / 1000;
  const hps = n / secs;
  const mbps = (hps * len) / 1e6;
  console.log(
    `${name.padEnd(38)} ${String(len).padStart(5)} B  ${Math.round(hps).toLocaleString("en").padStart(12)} hashes/s  ${mbps.toFixed(1).padStart(8)} MB/s`,
  );
}

console.log(`bun ${Bun.version}, ${perCase / 1000}s per case\n`);
for (const len of [30, 4096]) {
  const { bytes, strings } = makeInputs(len, 1024);
  run("mmhash(Uint8Array)", len, bytes, (x: Uint8Array) => mmhash(x));
  run("mmhash(string)", len, strings, (x: string) => mmhash(x));
  run("murmur32(Uint8Array)", len, bytes, (x: Uint8Array) => murmur32(x));
  run("murmur32(string)", len, strings, (x: string) => murmur32(x));
  run("reference BigInt mmhash(Uint8Array)", len, bytes, (x: Uint8Array) => refMmhash(x));
  run("reference BigInt murmur32", len, bytes, (x: Uint8Array) => refMurmur32(x));
  run("node:crypto md5 (digest)", len, bytes, (x: Uint8Array) => createHash("md5").update(x).digest()[0]);
  run("Bun.CryptoHasher md5 (digest)", len, bytes, (x: Uint8Array) => new Bun.CryptoHasher("md5").update(x).digest()[0]);
  console.log();
}

// Streaming digests over a 64 MiB buffer in 1 MiB chunks.
const big = new Uint8Array(64 << 20);
crypto.getRandomValues(big.subarray(0, 65536));
for (let o = 65536; o < big.length; o += 65536) big.copyWithin(o, 0, 65536);
const sets: DigestName[][] = [["md5"], ["sha1"], ["sha256"], ["blake2b"], ["md5", "sha1", "sha256", "blake2b"]];
for (const algos of sets) {
  const t0 = performance.now();
  const d = createDigests(algos);
  for (let o = 0; o < big.length; o += 1 << 20) d.update(big.subarray(o, o + (1 << 20)));
  d.digest();
  const secs = (performance.now() - t0) / 1000;
  console.log(`createDigests(${algos.join("+")})`.padEnd(48), `${(big.length / 1e6 / secs).toFixed(0).padStart(6)} MB/s`);
}
if (last === "never") console.log(last);
