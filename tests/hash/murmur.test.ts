import { describe, expect, test } from "bun:test";
import { fromHex, mmhash, murmur128, murmur32, snowflake, SNOWFLAKE_EPOCH, toHex } from "../../src/hash";
import { refMmhash, refMurmur128, refMurmur32 } from "./reference";
import { randomInputs, randomString, rng } from "./rng";

const enc = new TextEncoder();
/** latin-1 decode then UTF-8 encode: what altrepodb stores for header strings (§0.2). */
const doubleEncode = (raw: Uint8Array) => enc.encode(String.fromCharCode(...raw));

describe("§6.1 test vectors", () => {
  const vectors: [string, string | Uint8Array, bigint][] = [
    ['mmhash("")', "", 0n],
    ['mmhash("foo")', "foo", 11303473983767132390n],
    ['mmhash("hello")', "hello", 10432086992150038043n],
    ["plan hash 28333711x86_64", "283337" + "1" + "1" + "x86_64", 6677940499402230174n],
    ["plan hash 28333711src", "28333711src", 15636151493847624852n],
    ["build log hash", "build" + "283337" + "100" + "1" + "1" + "x86_64", 1257542022645226987n],
    ["srpm log hash", "srpm28333710011x86_64", 17533706025525510707n],
    ["events log hash", "events28333711", 17416608856061727603n],
    ["chroot element (20 raw bytes)", fromHex("da39a3ee5e6b4b0d3255bfef95601890afd80709"), 13720803726858584048n],
    ["dirname /usr/bin", "/usr/bin", 18015308893723861606n],
    ["file_hashname /usr/bin/bash", "/usr/bin/bash", 10649140527766535634n],
    ["é raw UTF-8 bytes C3 A9", new Uint8Array([0xc3, 0xa9]), 13221932781243604439n],
    ["é as stored (C3 83 C2 A9)", new Uint8Array([0xc3, 0x83, 0xc2, 0xa9]), 10596834052611883957n],
  ];
  for (const [name, input, want] of vectors) {
    test(name, () => {
      expect(mmhash(input)).toBe(want);
      expect(refMmhash(input)).toBe(want);
      if (typeof input === "string") expect(mmhash(enc.encode(input))).toBe(want);
    });
  }

  test("é: string forms", () => {
    expect(mmhash("é")).toBe(13221932781243604439n);
    // the latin-1 str "Ã©" that altrepodb hashes, UTF-8 encoded
    expect(mmhash("\u00c3\u00a9")).toBe(10596834052611883957n);
    expect(mmhash(doubleEncode(new Uint8Array([0xc3, 0xa9])))).toBe(10596834052611883957n);
  });

  test('murmur32("foo")', () => {
    expect(murmur32("foo")).toBe(4138058784);
    expect(murmur32(enc.encode("foo"))).toBe(4138058784);
    expect(refMurmur32("foo")).toBe(4138058784);
  });

  test('mmh3.hash64("foo") halves, read unsigned', () => {
    const want: [bigint, bigint] = [16316970633193145697n, 9128664383759220103n];
    expect(murmur128("foo")).toEqual(want);
    expect(refMurmur128("foo")).toEqual(want);
    // signed form as mmh3 prints it
    expect(BigInt.asIntN(64, want[0])).toBe(-2129773440516405919n);
    expect(want[0] ^ want[1]).toBe(11303473983767132390n);
  });

  const SHA1 = fromHex("da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const MD5 = fromHex("d41d8cd98f00b204e9800998ecf8427e");
  test("snowflake pkg_hash, no GPG", () => {
    const low = murmur32(new Uint8Array([...SHA1, ...MD5]));
    expect(low).toBe(2897644920);
    expect(snowflake(1629244800, low)).toBe(2702585840075705720n);
  });
  test("snowflake pkg_hash, with GPG 01..0a", () => {
    const low = murmur32(new Uint8Array([...SHA1, ...MD5, ...fromHex("0102030405060708090a")]));
    expect(low).toBe(1509234273);
    expect(snowflake(1629244800, low)).toBe(2702585838687295073n);
  });
});

describe("mmhash / murmur32 against the BigInt reference", () => {
  const inputs = randomInputs(0x5eed, 300, 4);
  test(`${inputs.length} random inputs, lengths 0..300`, () => {
    for (const b of inputs) {
      const [h1, h2] = refMurmur128(b);
      if (mmhash(b) !== (h1 ^ h2) || murmur32(b) !== refMurmur32(b)) {
        throw new Error(`mismatch for ${toHex(b)}`);
      }
      expect(murmur128(b)).toEqual([h1, h2]);
    }
  });

  test("subarrays with odd byte offsets hash only their own bytes", () => {
    const next = rng(7);
    const big = new Uint8Array(1200);
    for (let i = 0; i < big.length; i++) big[i] = next() & 0xff;
    for (const off of [1, 2, 3, 5, 13, 100]) {
      for (const len of [0, 1, 15, 16, 17, 31, 32, 33, 500]) {
        const view = big.subarray(off, off + len);
        const copy = view.slice();
        expect(mmhash(view)).toBe(refMmhash(copy));
        expect(murmur32(view)).toBe(refMurmur32(copy));
      }
    }
  });

  test("long inputs", () => {
    const next = rng(99);
    for (const len of [1000, 4096, 4097, 65536 + 7]) {
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = next() & 0xff;
      expect(mmhash(b)).toBe(refMmhash(b));
      expect(murmur32(b)).toBe(refMurmur32(b));
    }
  });
});

describe("string inputs are hashed as UTF-8", () => {
  test("random strings (ASCII, Latin-1, BMP, astral, lone surrogates) equal TextEncoder bytes", () => {
    const next = rng(1234);
    for (let len = 0; len < 200; len++) {
      for (let r = 0; r < 5; r++) {
        const s = randomString(next, len);
        const bytes = enc.encode(s);
        expect(mmhash(s)).toBe(mmhash(bytes));
        expect(murmur32(s)).toBe(murmur32(bytes));
        expect(murmur128(s)).toEqual(murmur128(bytes));
      }
    }
  });

  test("lone surrogates become U+FFFD like TextEncoder", () => {
    for (const s of ["\ud800", "a\udc00", "\ud83d", "x\ud83d\ude00y", "\ude00\ud83d", "\ud83d\ud83d\ude00"]) {
      expect(mmhash(s)).toBe(refMmhash(enc.encode(s)));
    }
    expect(mmhash("\ud800")).toBe(mmhash(new Uint8Array([0xef, 0xbf, 0xbd])));
  });

  test("strings that outgrow the scratch buffer, and very large strings", () => {
    const next = rng(42);
    for (const len of [11, 12, 13, 1365, 1366, 2000, 5000, 400_000]) {
      const s = randomString(next, len);
      const bytes = enc.encode(s);
      expect(mmhash(s)).toBe(mmhash(bytes));
      expect(murmur32(s)).toBe(murmur32(bytes));
    }
    // after a huge string, short strings still hash right (scratch state intact)
    expect(mmhash("foo")).toBe(11303473983767132390n);
    expect(murmur32("foo")).toBe(4138058784);
  });

  test("interleaved string and byte calls do not disturb each other", () => {
    const a = mmhash("hello");
    const b = mmhash(new Uint8Array([1, 2, 3]));
    expect(mmhash("hello")).toBe(a);
    expect(mmhash(new Uint8Array([1, 2, 3]))).toBe(b);
    expect(a).toBe(10432086992150038043n);
  });

  test("results are unsigned and within 64 bits", () => {
    const next = rng(5);
    let sawTopBit = false;
    for (let i = 0; i < 2000; i++) {
      const h = mmhash(randomString(next, i % 40));
      expect(h >= 0n && h < 1n << 64n).toBe(true);
      if (h >= 1n << 63n) sawTopBit = true;
      const m = murmur32(randomString(next, i % 40));
      expect(Number.isInteger(m) && m >= 0 && m <= 0xffffffff).toBe(true);
    }
    expect(sawTopBit).toBe(true);
  });
});

describe("snowflake", () => {
  test("composition", () => {
    expect(SNOWFLAKE_EPOCH).toBe(1_000_000_000);
    expect(snowflake(1_000_000_000, 0)).toBe(0n);
    expect(snowflake(1_000_000_001, 0)).toBe(1n << 32n);
    expect(snowflake(1_000_000_000, 0xffffffff)).toBe(0xffffffffn);
    expect(snowflake(1_000_000_000 + 0xffffffff, 0xffffffff)).toBe((1n << 64n) - 1n);
    expect(snowflake(1_000_000_000 + 0x1fffff, 5)).toBe((0x1fffffn << 32n) | 5n);
    expect(snowflake(1_000_000_000 + 0x200000, 5)).toBe((0x200000n << 32n) | 5n);
    expect(snowflake(100, 7, 50)).toBe((50n << 32n) | 7n);
  });

  test("low32 is taken modulo 2^32 like Python's & 0xFFFFFFFF", () => {
    expect(snowflake(1_000_000_001, -1)).toBe((1n << 32n) | 0xffffffffn);
    expect(snowflake(1_000_000_001, 2 ** 32 + 3)).toBe((1n << 32n) | 3n);
    expect(snowflake(1_000_000_001, -(2 ** 31))).toBe((1n << 32n) | 0x80000000n);
  });

  test("timestamps before the epoch throw RangeError (Python gave a negative id)", () => {
    expect(() => snowflake(999_999_999, 1)).toThrow(RangeError);
    expect(() => snowflake(0, 1)).toThrow(/before the epoch/);
    expect(() => snowflake(-5, 0)).toThrow(RangeError);
    expect(() => snowflake(10, 0, 11)).toThrow(RangeError);
  });

  test("ids beyond 2^64-1 throw RangeError", () => {
    expect(() => snowflake(1_000_000_000 + 2 ** 32, 0)).toThrow(RangeError);
    expect(() => snowflake(1_000_000_000 + 2 ** 32, 0)).toThrow(/2\^64-1/);
    expect(() => snowflake(Number.MAX_SAFE_INTEGER, 0)).toThrow(RangeError);
  });

  test("non-integer arguments throw RangeError", () => {
    expect(() => snowflake(1_629_244_800.5, 0)).toThrow(RangeError);
    expect(() => snowflake(NaN, 0)).toThrow(RangeError);
    expect(() => snowflake(Infinity, 0)).toThrow(RangeError);
    expect(() => snowflake(1_629_244_800, 0.5)).toThrow(RangeError);
    expect(() => snowflake(1_629_244_800, NaN)).toThrow(RangeError);
    expect(() => snowflake(1_629_244_800, 1, 0.5)).toThrow(RangeError);
  });
});

describe("hex helpers", () => {
  test("round trip", () => {
    const next = rng(3);
    for (const len of [0, 1, 16, 20, 64, 65, 1000]) {
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = next() & 0xff;
      const h = toHex(b);
      expect(h).toBe(Buffer.from(b).toString("hex"));
      expect(fromHex(h)).toEqual(b);
      expect(fromHex(h.toUpperCase())).toEqual(b);
    }
    expect(toHex(new Uint8Array([0, 1, 0xab, 0xff]))).toBe("0001abff");
    expect(toHex(new Uint8Array(10).subarray(3, 5))).toBe("0000");
  });

  test("fromHex returns a plain Uint8Array", () => {
    const b = fromHex("00ff");
    expect(b).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(b)).toBe(false);
  });

  test("invalid hex throws instead of truncating", () => {
    expect(() => fromHex("abc")).toThrow(TypeError);
    expect(() => fromHex("zz")).toThrow(/invalid hex/);
    expect(() => fromHex("0g")).toThrow(TypeError);
    expect(() => fromHex(" 00")).toThrow(TypeError);
    expect(fromHex("")).toEqual(new Uint8Array(0));
  });
});
