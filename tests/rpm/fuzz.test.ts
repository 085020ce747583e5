/**
 * Fuzzing: real headers, header lists and cpio archives mutated (bit flips, random bytes,
 * truncation, huge / negative / boundary counts and offsets, overlapping data, shuffled index
 * entries). Whatever the input, the only exception allowed is RpmError, every case finishes
 * quickly, and nothing in the result is larger than the input allows.
 *
 * ≈2,000 seeded cases by default; ALTREPODB_FUZZ_CASES=N runs N per target, ALTREPODB_FUZZ_SEED
 * picks another seed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CpioReader } from "../../src/rpm/cpio.ts";
import {
  buildPackageFromFile,
  dumpAptEntry,
  dumpPackage,
  parseHeaderList,
  parsePackageBytes,
  readPackage,
  RpmError,
  type RpmPackage,
} from "../../src/rpm/index.ts";
import { ByteReader } from "../../src/rpm/reader.ts";
import { corpusFile, hasCorpus, scratchDir } from "./_corpus.ts";

const TOTAL = Number(process.env.ALTREPODB_FUZZ_CASES ?? 0);
const SEED = Number(process.env.ALTREPODB_FUZZ_SEED ?? 20241121);
/** Wall-clock budget of one case: generous (CI machines are slow), far below any hang. */
const CASE_BUDGET_MS = 2_000;

/** xorshift32: deterministic and fast. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const BOUNDARY = [0, 1, 2, 3, 4, 7, 8, 15, 16, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x0fffffff, 0x10000000, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff];

interface Layout {
  /** Positions of header intros (il / dl at +8 / +12 when the magic is present) and their index entries. */
  headers: { start: number; il: number }[];
}

function headerLayout(b: Uint8Array, starts: number[]): Layout {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { headers: starts.filter((s) => s + 16 <= b.length).map((s) => ({ start: s, il: Math.min(v.getUint32(s + 8), 4096) })) };
}

/** One random mutation of `src` (a copy). */
function mutate(src: Uint8Array, layout: Layout, r: () => number): Uint8Array {
  let b = src.slice();
  const v = () => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const pick = <T>(a: T[]) => a[r() % a.length];
  const rounds = 1 + (r() % 4);
  for (let k = 0; k < rounds; k++) {
    const h = layout.headers.length ? pick(layout.headers) : undefined;
    const entry = h && h.il > 0 ? h.start + 16 + (r() % h.il) * 16 : -1;
    const op = r() % 10;
    if (op === 0 && b.length) b[r() % b.length] ^= 1 << (r() % 8); // bit flip
    else if (op === 1 && b.length) b[r() % b.length] = r() & 0xff; // random byte
    else if (op === 2) b = b.subarray(0, r() % (b.length + 1)).slice(); // truncation
    else if (op === 3 && h && h.start + 16 <= b.length) v().setUint32(h.start + 8 + 4 * (r() % 2), pick(BOUNDARY)); // il / dl
    else if (op === 4 && entry >= 0 && entry + 16 <= b.length) v().setUint32(entry + 12, pick(BOUNDARY)); // count
    else if (op === 5 && entry >= 0 && entry + 16 <= b.length) v().setUint32(entry + 8, pick(BOUNDARY)); // offset
    else if (op === 6 && entry >= 0 && entry + 16 <= b.length) v().setUint32(entry + 4, r() % 12); // type
    else if (op === 7 && entry >= 0 && entry + 16 <= b.length) v().setUint32(entry, pick([1000, 1027, 1028, 1030, 1047, 1080, 1081, 1116, 1117, 1118, 1141, 1142, 63, 62, 269, 1004])); // tag
    else if (op === 8 && h && h.il > 1 && entry + 16 <= b.length) {
      // overlapping data: one entry points at another entry's data
      const other = h.start + 16 + (r() % h.il) * 16;
      if (other + 16 <= b.length) v().setUint32(entry + 8, v().getUint32(other + 8));
    } else if (op === 9 && b.length > 8) {
      // splice a random chunk over another place
      const len = 1 + (r() % 64);
      const from = r() % b.length;
      const to = r() % b.length;
      b.copyWithin(to, from, Math.min(from + len, b.length));
    }
  }
  return b;
}

function boundedBy(p: RpmPackage, size: number): void {
  const lengths = [p.files.count, p.requires.count, p.provides.count, p.conflicts.count, p.obsoletes.count, p.changelog.count, p.buildarchs.length];
  for (const n of lengths) expect(n).toBeLessThanOrEqual(size);
  for (const a of [p.files.sizes, p.files.modes, p.files.mtimes, p.requires.flags]) expect(a.length).toBeLessThanOrEqual(size);
}

/** Run `fn`; only RpmError may escape; the case must finish within the budget. */
async function runCase(label: string, fn: () => void | Promise<void>): Promise<"ok" | "rpm-error"> {
  const t0 = performance.now();
  let outcome: "ok" | "rpm-error" = "ok";
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof RpmError)) throw new Error(`${label}: non-RpmError ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    expect(e.message.length).toBeGreaterThan(0);
    outcome = "rpm-error";
  }
  const ms = performance.now() - t0;
  if (ms > CASE_BUDGET_MS) throw new Error(`${label}: took ${ms.toFixed(0)} ms`);
  return outcome;
}

const SEEDS = [
  "rpm-org/RPMS/hello-2.0-1.x86_64.rpm",
  "rpm-org/RPMS/hello-1.0-1.x86_64.rpm-v3",
  "rpm-org/history/attrtest-1.0-1.noarch.rpm-v6",
  "alt-squidfw/squid-helpers-6.10-alt1.x86_64.rpm",
  "rpm-rs/SRPMS/v4/rpm-basic-2.3.4-5.el9.src.rpm",
  "rpm-org/history/foo.i386.rpm",
];

describe.skipIf(!hasCorpus)("fuzz", () => {
  const dir = scratchDir("fuzz");
  beforeAll(() => mkdirSync(dir, { recursive: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("package headers: only RpmError, bounded output, no hang", async () => {
    const seeds = SEEDS.map((rel) => {
      const path = corpusFile(rel);
      const f = readPackage(path);
      const bytes = new Uint8Array(readFileSync(path)).slice(0, f.headerEnd + 64);
      return { bytes, layout: headerLayout(bytes, [96, f.headerStart]) };
    });
    const n = TOTAL || 1400;
    const r = rng(SEED);
    const counts = { ok: 0, "rpm-error": 0 };
    for (let i = 0; i < n; i++) {
      const s = seeds[i % seeds.length];
      const m = mutate(s.bytes, s.layout, r);
      counts[
        await runCase(`package case ${i}`, () => {
          const p = buildPackageFromFile(parsePackageBytes(m, `case-${i}`));
          boundedBy(p, m.length);
          dumpPackage(p);
        })
      ]++;
      if (i % 25 === 0) {
        // the file reader (positioned exact reads) gets the same input
        const file = join(dir, `case-${i % 1000}.rpm`);
        writeFileSync(file, m);
        await runCase(`package file case ${i}`, () => {
          const p = readPackage(file);
          boundedBy(p, m.length);
          dumpPackage(p);
        });
      }
    }
    expect(counts.ok + counts["rpm-error"]).toBe(n);
    expect(counts["rpm-error"]).toBeGreaterThan(0);
  });

  test("header lists: only RpmError, no hang", async () => {
    const lists = SEEDS.slice(0, 3).map((rel) => {
      const f = readPackage(corpusFile(rel));
      return f.header.bytes;
    });
    const list = new Uint8Array(lists.reduce((a, b) => a + b.length, 0));
    const starts: number[] = [];
    let at = 0;
    for (const h of lists) {
      starts.push(at);
      list.set(h, at);
      at += h.length;
    }
    const layout = headerLayout(list, starts);
    const n = TOTAL || 400;
    const r = rng(SEED ^ 0x5bd1e995);
    for (let i = 0; i < n; i++) {
      const m = mutate(list, layout, r);
      await runCase(`list case ${i}`, () => {
        for (const e of parseHeaderList(m, `list-${i}`)) {
          boundedBy(e.package, m.length);
          dumpAptEntry(e);
        }
      });
    }
  });

  test("cpio archives (newc and stripped): only RpmError, no hang", async () => {
    // uncompressed payloads: newc (rpm-rs v4 SRPM) and stripped 07070X (v6)
    const sources = ["rpm-rs/SRPMS/v4/rpm-basic-2.3.4-5.el9.src.rpm", "rpm-rs/RPMS/v6/rpm-file-attrs-1.0-1.noarch.rpm"].map((rel) => {
      const path = corpusFile(rel);
      const pkg = readPackage(path);
      return { pkg, payload: new Uint8Array(readFileSync(path)).subarray(pkg.headerEnd) };
    });
    const n = TOTAL || 300;
    const r = rng(SEED ^ 0x1b873593);
    const { strippedFileInfo } = await import("../../src/rpm/payload.ts");
    for (let i = 0; i < n; i++) {
      const s = sources[i % sources.length];
      const m = mutate(s.payload, { headers: [] }, r);
      await runCase(`cpio case ${i}`, async () => {
        async function* one(): AsyncGenerator<Uint8Array> {
          for (let p = 0; p < m.length; p += 777) yield m.subarray(p, p + 777);
        }
        const cpio = new CpioReader(new ByteReader(one(), `cpio-${i}`, "payload archive"), strippedFileInfo(s.pkg));
        let entries = 0;
        for (let e = await cpio.next(); e !== null; e = await cpio.next()) {
          if (++entries % 2) await cpio.readContent(e, m.length);
          expect(entries).toBeLessThanOrEqual(m.length);
        }
      });
    }
  });
});
