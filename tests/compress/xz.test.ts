/**
 * Our xz / lzma decoder (squashfs blocks) against python3's lzma module (liblzma) and the `xz`
 * tool as encoders: LZMA2 with various lc/lp/pb, the x86 BCJ and delta filters, several blocks,
 * legacy .lzma; then damaged input, output limits and unsupported filters: errors, never hangs.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { lzmaAloneDecode, xzDecode } from "../../src/compress/xz.ts";
import { runSync, scratchDir } from "../fixtures/_util.ts";

const PY = "/usr/bin/python3";
const hasPython = existsSync(PY) && runSync([PY, "-c", "import lzma"], { allowFail: true }).code === 0;
if (!hasPython) console.warn("xz-decode tests skipped: /usr/bin/python3 with the lzma module is the oracle");

const SCRIPT = `
import lzma, os, random, sys, shutil
out = sys.argv[1]
random.seed(11)
def data(n):
    parts = []
    size = 0
    while size < n:
        r = random.random()
        if r < 0.3: p = random.randbytes(random.randint(1, 200))
        elif r < 0.6: p = b"hello world %d " % random.randint(0, 1000) * random.randint(1, 20)
        else: p = bytes([0xe8, 1, 2, 0, 0, 0x90, 0xe9, 0xff, 0xff, 0xff, 0xff, 0xe8, 0, 0, 0, 0xff]) * random.randint(1, 30)
        parts.append(p); size += len(p)
    return b"".join(parts)[:n]
elf = open(shutil.which("xz") or "/bin/ls", "rb").read()[:200000]
cases = {
  "empty": (b"", [{"id": lzma.FILTER_LZMA2}]),
  "one": (b"x", [{"id": lzma.FILTER_LZMA2}]),
  "mixed": (data(131072), [{"id": lzma.FILTER_LZMA2, "preset": 9}]),
  "x86": (data(131072), [{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2}]),
  "elf-x86": (elf, [{"id": lzma.FILTER_X86}, {"id": lzma.FILTER_LZMA2}]),
  "delta": (data(70000), [{"id": lzma.FILTER_DELTA, "dist": 4}, {"id": lzma.FILTER_LZMA2}]),
  "lp": (data(50000), [{"id": lzma.FILTER_LZMA2, "lc": 0, "lp": 4, "pb": 0}]),
  "pb4": (data(50000), [{"id": lzma.FILTER_LZMA2, "lc": 4, "lp": 0, "pb": 4}]),
  "incompressible": (os.urandom(100000), [{"id": lzma.FILTER_LZMA2}]),
  "arm": (data(1000), [{"id": lzma.FILTER_ARM}, {"id": lzma.FILTER_LZMA2}]),
}
for name, (d, f) in cases.items():
    open(f"{out}/{name}.raw", "wb").write(d)
    open(f"{out}/{name}.xz", "wb").write(lzma.compress(d, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32, filters=f))
d = data(90000)
open(f"{out}/alone.raw", "wb").write(d)
open(f"{out}/alone.lzma", "wb").write(lzma.compress(d, format=lzma.FORMAT_ALONE))
open(f"{out}/zeros.raw", "wb").write(bytes(8 << 20))
open(f"{out}/zeros.xz", "wb").write(lzma.compress(bytes(8 << 20), format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32))
`;

let dir = "";
beforeAll(() => {
  if (!hasPython) return;
  dir = scratchDir("xz-decode");
  runSync([PY, "-c", SCRIPT, dir]);
  const big = readFileSync(join(dir, "mixed.raw"));
  // xz(1): several blocks, CRC64 check (skipped, not verified)
  runSync(["sh", "-c", 'cat "$1" "$1" "$1" "$1" > "$2"', "sh", join(dir, "mixed.raw"), join(dir, "multi.raw")]);
  runSync(["xz", "-k", "-f", "--block-size=100000", join(dir, "multi.raw")]);
  expect(big.length).toBe(131072);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const err = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "no error";
};

describe.skipIf(!hasPython)("xz decoder", () => {
  test("decodes what liblzma encodes: LZMA2, x86 BCJ, delta, lc/lp/pb, stored chunks, several blocks", () => {
    const names = readdirSync(dir)
      .filter((f) => f.endsWith(".xz") && !f.startsWith("arm") && !f.startsWith("zeros"))
      .map((f) => f.slice(0, -3))
      .sort();
    expect(names).toEqual(["delta", "elf-x86", "empty", "incompressible", "lp", "mixed", "multi.raw", "one", "pb4", "x86"]);
    const bad = names.filter((n) => {
      const raw = readFileSync(join(dir, n.endsWith(".raw") ? n : `${n}.raw`));
      const got = xzDecode(readFileSync(join(dir, `${n}.xz`)), 1 << 20);
      return !Buffer.from(got).equals(raw);
    });
    expect(bad).toEqual([]);
  });

  test("legacy .lzma with an end marker", () => {
    expect(Buffer.from(lzmaAloneDecode(readFileSync(join(dir, "alone.lzma")), 1 << 20)).equals(readFileSync(join(dir, "alone.raw")))).toBe(true);
  });

  test("output is bounded by the limit (an 8 MiB bomb against a 1 MiB block)", () => {
    expect(err(() => xzDecode(readFileSync(join(dir, "zeros.xz")), 1 << 20))).toMatch(/output larger than 1048576 bytes|runs past/);
    expect(err(() => xzDecode(readFileSync(join(dir, "mixed.xz")), 1000))).toMatch(/output larger than 1000 bytes/);
    expect(err(() => lzmaAloneDecode(readFileSync(join(dir, "alone.lzma")), 1000))).toMatch(/past the 1000-byte output|larger/);
  });

  test("damaged input: every flipped byte and every truncation is an error or (rarely) equal data, never a hang", () => {
    const good = readFileSync(join(dir, "x86.xz"));
    const raw = readFileSync(join(dir, "x86.raw"));
    let errors = 0;
    for (let i = 0; i < good.length; i += Math.max(1, Math.floor(good.length / 100))) {
      const b = new Uint8Array(good);
      b[i] ^= 0x41;
      const m = err(() => {
        const out = xzDecode(b, 1 << 20);
        if (!Buffer.from(out).equals(raw)) throw new Error("different data without an error");
      });
      expect(m).not.toBe("different data without an error");
      if (m !== "no error") errors++;
    }
    expect(errors).toBeGreaterThan(80);
    for (const n of [0, 5, 12, 20, good.length >> 1, good.length - 9, good.length - 13]) expect(err(() => xzDecode(good.subarray(0, n), 1 << 20))).not.toBe("no error");
    expect(err(() => lzmaAloneDecode(readFileSync(join(dir, "alone.lzma")).subarray(0, 5000), 1 << 20))).toMatch(/ends early/);
  });

  test("unsupported filters are named", () => {
    expect(err(() => xzDecode(readFileSync(join(dir, "arm.xz")), 1 << 20))).toMatch(/unsupported xz filter 0x7/);
    expect(err(() => xzDecode(new Uint8Array(20), 10))).toMatch(/not an xz stream/);
  });
});
