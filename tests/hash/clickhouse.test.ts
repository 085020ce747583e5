/**
 * mmhash / murmur32 against ClickHouse's own murmurHash3_64 / murmurHash3_32, computed by the
 * embedded engine. Thousands of random byte strings of every length 0..300 (every tail length,
 * non-UTF-8 bytes included) are passed as unhex('…') literals.
 */
import { describe, expect, test } from "bun:test";
import { fromHex, mmhash, murmur32, toHex } from "../../src/hash";
import type { Db } from "../../src/db/types";
import { testDb } from "../helpers/db";
import { randomBytes, randomInputs, randomString, rng } from "./rng";

// testDb() registers its own afterAll (drop + close), so it is called at module level.
const db: Db = await testDb("hash");

interface HashRow {
  n: number | string;
  h64: string;
  h32: number | string;
}

/** ClickHouse hashes of `inputs`, in order; batched so each statement stays well under max_query_size. */
async function clickhouseHashes(inputs: Uint8Array[]): Promise<{ h64: bigint; h32: number }[]> {
  const out: { h64: bigint; h32: number }[] = [];
  let i = 0;
  while (i < inputs.length) {
    const batch: string[] = [];
    let size = 0;
    while (i < inputs.length && (batch.length === 0 || size < 100_000)) {
      const lit = `'${toHex(inputs[i++])}'`;
      batch.push(lit);
      size += lit.length + 1;
    }
    const rows = await db.query<HashRow>(
      `SELECT n, toString(murmurHash3_64(unhex(a[n]))) AS h64, toString(murmurHash3_32(unhex(a[n]))) AS h32
       FROM (SELECT [${batch.join(",")}] AS a) ARRAY JOIN arrayEnumerate(a) AS n ORDER BY n`,
    );
    expect(rows.length).toBe(batch.length);
    rows.forEach((r, k) => {
      expect(Number(r.n)).toBe(k + 1);
      out.push({ h64: BigInt(r.h64), h32: Number(r.h32) });
    });
  }
  return out;
}

function compare(inputs: Uint8Array[], ch: { h64: bigint; h32: number }[]): void {
  expect(ch.length).toBe(inputs.length);
  const bad: string[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const m64 = mmhash(inputs[k]);
    const m32 = murmur32(inputs[k]);
    if (m64 !== ch[k].h64 || m32 !== ch[k].h32) {
      bad.push(`${toHex(inputs[k])}: mmhash ${m64} vs ${ch[k].h64}, murmur32 ${m32} vs ${ch[k].h32}`);
    }
  }
  expect(bad).toEqual([]);
}

describe("cross-check with ClickHouse murmurHash3_64 / murmurHash3_32", () => {
  test("the §6.1 vectors, computed by the engine", async () => {
    const rows = await db.query<Record<string, string>>(
      `SELECT toString(murmurHash3_64('')) AS empty, toString(murmurHash3_64('foo')) AS foo,
              toString(murmurHash3_32('foo')) AS foo32, toString(murmurHash3_64('/usr/bin/bash')) AS bash,
              toString(murmurHash3_64(unhex('da39a3ee5e6b4b0d3255bfef95601890afd80709'))) AS chroot,
              toString(murmurHash3_64(unhex('C383C2A9'))) AS e_stored`,
    );
    expect(rows).toEqual([
      {
        empty: String(mmhash("")),
        foo: "11303473983767132390",
        foo32: "4138058784",
        bash: "10649140527766535634",
        chroot: String(mmhash(fromHex("da39a3ee5e6b4b0d3255bfef95601890afd80709"))),
        e_stored: "10596834052611883957",
      },
    ]);
  });

  test("random bytes, 10 per length 0..300 plus 0x00/0xff runs", async () => {
    const inputs = randomInputs(0xc0ffee, 300, 10);
    expect(inputs.length).toBeGreaterThan(3000);
    compare(inputs, await clickhouseHashes(inputs));
  });

  test("longer random inputs (300..5000 bytes)", async () => {
    const next = rng(77);
    const inputs: Uint8Array[] = [];
    for (const len of [301, 511, 512, 513, 1000, 1023, 1024, 1025, 4095, 4096, 4097, 5000]) inputs.push(randomBytes(next, len));
    compare(inputs, await clickhouseHashes(inputs));
  });

  test("strings: mmhash(str) equals murmurHash3_64 of its UTF-8 bytes", async () => {
    const next = rng(2024);
    const strings: string[] = [];
    for (let len = 0; len < 80; len++) strings.push(randomString(next, len));
    const enc = new TextEncoder();
    const ch = await clickhouseHashes(strings.map((s) => enc.encode(s)));
    strings.forEach((s, k) => {
      expect(mmhash(s)).toBe(ch[k].h64);
      expect(murmur32(s)).toBe(ch[k].h32);
    });
  });
});
