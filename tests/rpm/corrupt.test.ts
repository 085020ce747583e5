/**
 * Deliberately corrupt packages, made here from a real one: every failure is a named RpmError
 * with the file and a byte offset, and librpm rejects the same files.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readPackage, readPackageFile, RpmError, type RpmErrorCode } from "../../src/rpm/index.ts";
import { corpusFile, hasCorpus, scratchDir } from "./_corpus.ts";
import { oracleAvailable, runOracle } from "./compare.ts";

const SRC = corpusFile("rpm-org/RPMS/hello-2.0-1.x86_64.rpm");
const dir = scratchDir("corrupt");

interface Layout {
  bytes: Uint8Array;
  sigStart: number;
  hdrStart: number;
  hdrIndex: number; // first index entry of the main header
  hdrStore: number; // data store of the main header
  il: number;
  dl: number;
}

function layout(): Layout {
  const bytes = new Uint8Array(readFileSync(SRC));
  const f = readPackageFile(SRC);
  const v = new DataView(bytes.buffer);
  const il = v.getUint32(f.headerStart + 8);
  const dl = v.getUint32(f.headerStart + 12);
  return { bytes, sigStart: 96, hdrStart: f.headerStart, hdrIndex: f.headerStart + 16, hdrStore: f.headerStart + 16 + il * 16, il, dl };
}

/** Index of the main-header entry for `tag`. */
function entryOf(l: Layout, tag: number): number {
  const v = new DataView(l.bytes.buffer);
  for (let i = 0; i < l.il; i++) if (v.getInt32(l.hdrIndex + i * 16) === tag) return l.hdrIndex + i * 16;
  throw new Error(`tag ${tag} not in header`);
}

function mutate(l: Layout, fn: (b: Uint8Array, v: DataView) => Uint8Array | void): Uint8Array {
  const b = l.bytes.slice();
  return fn(b, new DataView(b.buffer)) ?? b;
}

/** A copy with the signature-header entry of `tag` edited. */
function sigEntry(l: Layout, tag: number, fn: (entry: number, v: DataView) => void): Uint8Array {
  return mutate(l, (_b, v) => {
    const il = v.getUint32(l.sigStart + 8);
    for (let i = 0; i < il; i++) if (v.getInt32(l.sigStart + 16 + i * 16) === tag) fn(l.sigStart + 16 + i * 16, v);
  });
}

interface Case {
  name: string;
  code: RpmErrorCode;
  make: (l: Layout) => Uint8Array;
  /** librpm rejects it too (false where librpm is more lenient). */
  librpmRejects: boolean;
}

const NAME = 1000;
const CASES: Case[] = [
  { name: "empty file", code: "truncated", librpmRejects: true, make: () => new Uint8Array(0) },
  { name: "50-byte file", code: "truncated", librpmRejects: true, make: (l) => l.bytes.slice(0, 50) },
  { name: "bad lead magic", code: "magic", librpmRejects: true, make: (l) => mutate(l, (b) => void (b[0] = 0x00)) },
  { name: "lead version 9", code: "version", librpmRejects: true, make: (l) => mutate(l, (b) => void (b[4] = 9)) },
  { name: "truncated in the signature", code: "truncated", librpmRejects: true, make: (l) => l.bytes.slice(0, 200) },
  { name: "bad signature magic", code: "magic", librpmRejects: true, make: (l) => mutate(l, (b) => void (b[96] = 0x8f)) },
  { name: "truncated in the main header intro", code: "truncated", librpmRejects: true, make: (l) => l.bytes.slice(0, l.hdrStart + 8) },
  { name: "truncated in the main header", code: "truncated", librpmRejects: true, make: (l) => l.bytes.slice(0, l.hdrStore + 100) },
  { name: "bad main header magic", code: "magic", librpmRejects: true, make: (l) => mutate(l, (b) => void (b[l.hdrStart + 1] = 0)) },
  {
    name: "tag count beyond the limit",
    code: "count",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setUint32(l.hdrStart + 8, 0x10000000)),
  },
  {
    name: "data size beyond the limit",
    code: "count",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setUint32(l.hdrStart + 12, 0x7fffffff)),
  },
  {
    name: "index offset outside the store",
    code: "index",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setInt32(entryOf(l, NAME) + 8, l.dl + 100)),
  },
  {
    name: "negative index offset",
    code: "index",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setInt32(entryOf(l, NAME) + 8, -4)),
  },
  {
    name: "absurd count",
    code: "count",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setUint32(entryOf(l, 1028 /* FILESIZES */) + 12, 0x7fffffff)),
  },
  {
    name: "int32 array running past the store",
    code: "index",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setInt32(entryOf(l, 1028) + 8, l.dl - 4)),
  },
  {
    name: "unknown tag type",
    code: "type",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setUint32(entryOf(l, NAME) + 4, 42)),
  },
  {
    // the region trailer ends the store, so the string runs into it (librpm: "tag[n]: BAD")
    name: "string not NUL-terminated before the region trailer",
    code: "index",
    librpmRejects: true,
    make: (l) =>
      mutate(l, (b, v) => {
        v.setInt32(entryOf(l, NAME) + 8, l.dl - 1);
        b[l.hdrStore + l.dl - 1] = 0x41;
      }),
  },
  {
    name: "corrupt region trailer",
    code: "index",
    librpmRejects: true,
    make: (l) =>
      mutate(l, (_b, v) => {
        const off = v.getInt32(l.hdrIndex + 8); // entry 0 = region tag 63
        v.setInt32(l.hdrStore + off + 8, 16); // trailer offset must be -(n*16)
      }),
  },
  {
    name: "main header changed after signing",
    code: "digest",
    librpmRejects: true,
    make: (l) =>
      mutate(l, (b, v) => {
        const p = l.hdrStore + v.getInt32(entryOf(l, NAME) + 8);
        b[p] ^= 0x20; // "hello" → "Hello": SHA1HEADER / SHA256HEADER no longer match
      }),
  },
  { name: "reserved bytes of the main header magic", code: "index", librpmRejects: true, make: (l) => mutate(l, (b) => void (b[l.hdrStart + 5] = 1)) },
  {
    name: "NAME stored as INT8",
    code: "index",
    librpmRejects: true,
    make: (l) => mutate(l, (_b, v) => v.setUint32(entryOf(l, NAME) + 4, 2)),
  },
  {
    name: "main header region smaller than the header",
    code: "index",
    librpmRejects: true,
    make: (l) =>
      mutate(l, (_b, v) => {
        const off = v.getInt32(l.hdrIndex + 8);
        v.setInt32(l.hdrStore + off + 8, -(l.il - 1) * 16);
      }),
  },
  {
    name: "signature SIZE stored as two INT16",
    code: "value",
    librpmRejects: true,
    make: (l) => sigEntry(l, 1000, (e, v) => (v.setUint32(e + 4, 3), v.setUint32(e + 12, 2))),
  },
  {
    name: "signature SHA1HEADER stored as a string array",
    code: "value",
    librpmRejects: true,
    make: (l) => sigEntry(l, 269, (e, v) => v.setUint32(e + 4, 8)),
  },
];

beforeAll(() => mkdirSync(dir, { recursive: true }));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileFor(c: Case): string {
  return join(dir, `${c.name.replaceAll(" ", "-")}.rpm`);
}

describe.skipIf(!hasCorpus)("corrupt packages", () => {
  beforeAll(() => {
    const l = layout();
    for (const c of CASES) writeFileSync(fileFor(c), c.make(l));
  });

  for (const c of CASES) {
    test(`${c.name} → RpmError ${c.code}`, () => {
      let err: unknown;
      try {
        readPackage(fileFor(c));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RpmError);
      const e = err as RpmError;
      expect(e.code).toBe(c.code);
      expect(e.path).toBe(fileFor(c));
      expect(e.offset).toBeGreaterThanOrEqual(0);
      expect(e.message).not.toContain("\n");
      expect(e.describe()).toContain(fileFor(c));
    });
  }

  test.skipIf(!oracleAvailable())("librpm (default checks, signatures off) rejects the same files", () => {
    const files = CASES.filter((c) => c.librpmRejects).map(fileFor);
    const o = runOracle(files, ["--verdict"]);
    const accepted = files.filter((f) => o.get(f)?.ok);
    expect(accepted).toEqual([]);
  });

  test("a missing file and a directory are io errors", () => {
    expect(() => readPackage(join(dir, "does-not-exist.rpm"))).toThrow(RpmError);
    try {
      readPackage(dir);
    } catch (e) {
      expect((e as RpmError).code).toBe("io");
    }
  });

  test("the corpus's own corrupted package has a readable header (its payload is cut)", () => {
    const p = readPackage(corpusFile("rpm-org/RPMS/hello-2.0-1.x86_64-corrupted.rpm"));
    expect(p.headerEnd).toBe(p.fileSize);
  });
});
