// The in-process xz / lzma decoder in pieces (src/compress/xz.ts, as src/rpm/decompress.ts uses
// it) against the xz tool: same bytes out for every preset and check, multi-block and
// multi-stream data; filters it does not know refused up front; damaged data refused.
import { describe, expect, test } from "bun:test";
import { LzmaCorrupt, LzmaUnsupported, lzmaAloneDecoder, xzDecoder } from "../../src/compress/xz.ts";

const xzMissing = Bun.which("xz") === null;

function xz(args: string[], input: Uint8Array): Uint8Array {
  const r = Bun.spawnSync(["xz", ...args, "-c"], { stdin: input, stdout: "pipe" });
  if (r.exitCode !== 0) throw new Error(`xz ${args.join(" ")} failed`);
  return new Uint8Array(r.stdout);
}

function all(g: Generator<Uint8Array>): Uint8Array {
  const parts = [...g];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function inputs(): [string, Uint8Array][] {
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  const text = Array.from({ length: 6000 }, (_, i) => `line ${i % 97} of the spec ${i * 7919} Привет\n`).join("");
  return [
    ["empty", new Uint8Array(0)],
    ["one byte", Uint8Array.of(42)],
    ["text", new TextEncoder().encode(text)],
    ["random", Uint8Array.from({ length: 70_000 }, rnd)],
    ["runs", Uint8Array.from({ length: 200_000 }, (_, i) => (i >> 10) & 3)],
  ];
}

describe.skipIf(xzMissing)("lzma decoder", () => {
  test("xz and lzma streams of every kind decode to the original bytes", () => {
    for (const [name, data] of inputs()) {
      for (const preset of ["-0", "-3e"]) {
        expect(Buffer.from(all(xzDecoder(xz([preset], data)))).equals(Buffer.from(data)), `${name} xz ${preset}`).toBe(true);
        expect(Buffer.from(all(lzmaAloneDecoder(xz(["--format=lzma", preset], data)))).equals(Buffer.from(data)), `${name} lzma ${preset}`).toBe(true);
      }
      for (const check of name === "text" ? ["none", "crc64", "sha256"] : []) {
        expect(Buffer.from(all(xzDecoder(xz([`--check=${check}`], data)))).equals(Buffer.from(data)), `${name} check ${check}`).toBe(true);
      }
    }
  });

  test("several blocks, several streams with padding", () => {
    const [, , [, text], [, random]] = inputs();
    const blocks = xz(["-T2", "--block-size=20000"], text);
    expect(Buffer.from(all(xzDecoder(blocks))).equals(Buffer.from(text))).toBe(true);
    const two = new Uint8Array([...xz([], text), ...xz([], random), 0, 0, 0, 0]);
    expect(Buffer.from(all(xzDecoder(two))).equals(Buffer.from(new Uint8Array([...text, ...random])))).toBe(true);
  });

  test("output comes in pieces: a caller can stop early", () => {
    const [, , , , [, runs]] = inputs();
    const g = xzDecoder(xz([], runs));
    const first = g.next();
    expect(first.done).toBe(false);
    expect(first.value!.length).toBeLessThan(runs.length);
    g.return(undefined);
  });

  test("x86 BCJ and delta are decoded; a filter chain it does not decode is refused before any output (the caller uses xz)", () => {
    const [, , [, text]] = inputs();
    expect(Buffer.from(all(xzDecoder(xz(["--x86", "--lzma2"], text)))).equals(Buffer.from(text))).toBe(true);
    expect(Buffer.from(all(xzDecoder(xz(["--delta=dist=4", "--lzma2"], text)))).equals(Buffer.from(text))).toBe(true);
    expect(() => xzDecoder(xz(["--arm", "--lzma2"], text))).toThrow(LzmaUnsupported);
  });

  test("damaged data is refused", () => {
    const [, , [, text]] = inputs();
    const good = xz([], text);
    expect(() => all(xzDecoder(good.subarray(0, good.length >> 1)))).toThrow(LzmaCorrupt);
    expect(() => xzDecoder(Uint8Array.of(1, 2, 3))).toThrow(LzmaCorrupt);
    const lz = xz(["--format=lzma"], text);
    expect(() => all(lzmaAloneDecoder(lz.subarray(0, lz.length >> 1)))).toThrow(LzmaCorrupt);
  });
});
