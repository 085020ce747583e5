import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createDigests,
  digestBytes,
  digestFile,
  digestFileSync,
  DIGEST_CHUNK_SIZE,
  DIGEST_NAMES,
  DIGEST_SIZES,
  toHex,
  type DigestName,
} from "../../src/hash";
import { rng } from "./rng";

const root = process.env.ALTREPODB_TEST_SCRATCH ?? "/tmp";
mkdirSync(root, { recursive: true });
const dir = mkdtempSync(join(root, "hash-digest-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ALL: DigestName[] = ["md5", "sha1", "sha256", "blake2b"];
const TOOL: Record<DigestName, string> = { md5: "md5sum", sha1: "sha1sum", sha256: "sha256sum", blake2b: "b2sum" };

/** Hex digest from the coreutils tool (b2sum defaults to BLAKE2b-512). */
function coreutils(algo: DigestName, path: string): string {
  const r = Bun.spawnSync([TOOL[algo], "--", path], { env: { ...process.env, LC_ALL: "C" } });
  if (r.exitCode !== 0) throw new Error(`${TOOL[algo]} failed: ${r.stderr.toString()}`);
  return r.stdout.toString().split(" ")[0];
}

function hexAll(d: Record<DigestName, Uint8Array>): Record<string, string> {
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k, toHex(v)]));
}

// A few MB that do not end on a chunk boundary.
const bigPath = join(dir, "big.bin");
const big = new Uint8Array(3 * DIGEST_CHUNK_SIZE + 12345);
{
  const next = rng(11);
  for (let i = 0; i < big.length; i += 4) {
    const v = next();
    big[i] = v;
    big[i + 1] = v >>> 8;
    big[i + 2] = v >>> 16;
    big[i + 3] = v >>> 24;
  }
  writeFileSync(bigPath, big);
}
const emptyPath = join(dir, "empty");
writeFileSync(emptyPath, new Uint8Array(0));
const expectedBig = Object.fromEntries(ALL.map((a) => [a, coreutils(a, bigPath)]));
const expectedEmpty = Object.fromEntries(ALL.map((a) => [a, coreutils(a, emptyPath)]));

describe("file digests match coreutils", () => {
  test("digestFile on a ~3 MB file", async () => {
    expect(big.length).toBeGreaterThan(3_000_000);
    expect(hexAll(await digestFile(bigPath, ALL))).toEqual(expectedBig);
  });

  test("digestFileSync on a ~3 MB file", () => {
    expect(hexAll(digestFileSync(bigPath, ALL))).toEqual(expectedBig);
  });

  test("empty file", async () => {
    expect(hexAll(await digestFile(emptyPath, ALL))).toEqual(expectedEmpty);
    expect(hexAll(digestFileSync(emptyPath, ALL))).toEqual(expectedEmpty);
    // well-known values
    expect(expectedEmpty.md5).toBe("d41d8cd98f00b204e9800998ecf8427e");
    expect(expectedEmpty.sha1).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect(expectedEmpty.sha256).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(expectedEmpty.blake2b).toBe(
      "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce",
    );
  });

  test("only the requested algorithms, with the right sizes, as plain Uint8Array", async () => {
    const d = await digestFile(bigPath, ["sha256", "blake2b"]);
    expect(Object.keys(d).sort()).toEqual(["blake2b", "sha256"]);
    expect(d.sha256.length).toBe(32);
    expect(d.blake2b.length).toBe(64);
    expect(Buffer.isBuffer(d.sha256)).toBe(false);
    expect(d.sha256).toBeInstanceOf(Uint8Array);
    for (const a of DIGEST_NAMES) expect((await digestFile(emptyPath, [a]))[a].length).toBe(DIGEST_SIZES[a]);
  });

  test("duplicate algorithm names are harmless", async () => {
    const d = await digestFile(bigPath, ["md5", "md5", "sha1"]);
    expect(hexAll(d)).toEqual({ md5: expectedBig.md5, sha1: expectedBig.sha1 });
  });

  test("missing file and directory reject", async () => {
    await expect(digestFile(join(dir, "nope"), ["md5"])).rejects.toThrow(/ENOENT|no such file/i);
    expect(() => digestFileSync(join(dir, "nope"), ["md5"])).toThrow(/ENOENT|no such file/i);
    await expect(digestFile(dir, ["md5"])).rejects.toThrow();
  });
});

describe("createDigests", () => {
  test("any chunking gives the same result", () => {
    const whole = hexAll(digestBytes(big, ALL));
    expect(whole).toEqual(expectedBig);
    const next = rng(3);
    for (let round = 0; round < 3; round++) {
      const d = createDigests(ALL);
      let o = 0;
      while (o < big.length) {
        const n = Math.min(big.length - o, (next() % 200_000) + (round === 0 ? 0 : 1));
        d.update(big.subarray(o, o + n));
        o += n;
      }
      expect(hexAll(d.digest())).toEqual(expectedBig);
    }
  });

  test("chunks may be reused after update()", () => {
    const d = createDigests(["sha256"]);
    const buf = new Uint8Array(1000);
    let o = 0;
    while (o < big.length) {
      const n = Math.min(buf.length, big.length - o);
      buf.set(big.subarray(o, o + n));
      d.update(buf.subarray(0, n));
      o += n;
    }
    expect(toHex(d.digest().sha256)).toBe(expectedBig.sha256);
  });

  test("digest() is repeatable; update() after digest() throws", () => {
    const d = createDigests(["md5"]);
    d.update(new TextEncoder().encode("abc"));
    const first = d.digest();
    expect(toHex(first.md5)).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(toHex(d.digest().md5)).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(() => d.update(new Uint8Array(1))).toThrow(/after digest/);
  });

  test("blake2b is BLAKE2b-512 unkeyed", () => {
    expect(toHex(digestBytes("abc", ["blake2b"]).blake2b)).toBe(
      "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
    );
  });

  test("unknown algorithm names throw", () => {
    expect(() => createDigests(["sha512" as DigestName])).toThrow(/unsupported digest/);
    expect(() => createDigests(["blake2b512" as DigestName])).toThrow(TypeError);
    expect(() => createDigests(["toString" as DigestName])).toThrow(TypeError);
  });

  test("no algorithms: an empty record", () => {
    const d = createDigests([]);
    d.update(new Uint8Array(5));
    expect(d.digest()).toEqual({} as Record<DigestName, Uint8Array>);
  });
});
