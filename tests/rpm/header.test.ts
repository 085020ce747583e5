/** Header structures: every tag type, headers with and without magic, accessors, in-memory parsing. */
import { describe, expect, test } from "bun:test";
import { encodeHeader, type HeaderEntry } from "../fixtures/header-codec.ts";
import { Header, headerSize, packageFromHeader, parseHeader, readPackageFile, RpmError, TAG, text, TYPE, utf8 } from "../../src/rpm/index.ts";
import { corpusFile, hasCorpus } from "./_corpus.ts";

function be(values: number[], size: number): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const v = new DataView(out.buffer);
  values.forEach((x, i) => {
    if (size === 1) v.setUint8(i, x);
    else if (size === 2) v.setUint16(i * 2, x);
    else if (size === 4) v.setUint32(i * 4, x);
    else v.setBigUint64(i * 8, BigInt(x));
  });
  return out;
}

function strings(values: string[]): Uint8Array {
  return new Uint8Array(values.flatMap((s) => [...utf8(s), 0]));
}

const ENTRIES: HeaderEntry[] = [
  { tag: 2001, type: TYPE.CHAR, count: 3, data: Uint8Array.of(0x61, 0x62, 0x63) },
  { tag: 2002, type: TYPE.INT8, count: 2, data: Uint8Array.of(0, 255) },
  { tag: 2003, type: TYPE.INT16, count: 2, data: be([1, 65535], 2) },
  { tag: 2004, type: TYPE.INT32, count: 3, data: be([0, 0x7fffffff, 0xffffffff], 4) },
  { tag: 2005, type: TYPE.INT64, count: 2, data: be([1, 2 ** 40 + 3], 8) },
  { tag: 2006, type: TYPE.STRING, count: 1, data: strings(["hello"]) },
  { tag: 2007, type: TYPE.BIN, count: 4, data: Uint8Array.of(0xde, 0xad, 0xbe, 0xef) },
  { tag: 2008, type: TYPE.STRING_ARRAY, count: 3, data: strings(["a", "", "ccc"]) },
  { tag: 2009, type: TYPE.I18NSTRING, count: 2, data: strings(["C text", "русский"]) },
  { tag: 2010, type: TYPE.NULL, count: 0, data: new Uint8Array(0) },
];

describe("every tag type", () => {
  const blob = encodeHeader(ENTRIES);
  const h = parseHeader(blob, 0, { path: "mem" });

  test("integers are unsigned, with the stored width", () => {
    expect(h.int(2001)).toBe(0x61);
    expect(Array.from(h.ints(2002))).toEqual([0, 255]);
    expect(h.ints(2003)).toBeInstanceOf(Uint16Array);
    expect(Array.from(h.ints(2003))).toEqual([1, 65535]);
    expect(Array.from(h.ints(2004))).toEqual([0, 0x7fffffff, 0xffffffff]);
    expect(h.int(2004)).toBe(0);
    expect(Array.from(h.ints(2005))).toEqual([1, 2 ** 40 + 3]);
    expect(h.int(2005)).toBe(1);
  });
  test("strings: STRING, STRING_ARRAY, I18NSTRING element 0", () => {
    expect(text(h.str(2006) as Uint8Array)).toBe("hello");
    expect(h.strs(2006).map(text)).toEqual(["hello"]);
    expect(h.strs(2008).map(text)).toEqual(["a", "", "ccc"]);
    expect(text(h.str(2008) as Uint8Array)).toBe("a");
    expect(text(h.str(2009) as Uint8Array)).toBe("C text");
    expect(h.strs(2009).map(text)).toEqual(["C text", "русский"]);
  });
  test("BIN is a view of the raw bytes", () => {
    expect(Array.from(h.bin(2007) as Uint8Array)).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect((h.bin(2007) as Uint8Array).buffer).toBe(blob.buffer);
  });
  test("NULL entries and missing tags", () => {
    expect(h.has(2010)).toBe(false); // NULL-typed entries carry no value (altrpm raised on them)
    expect(h.entries().some((e) => e.tag === 2010)).toBe(true);
    expect(h.has(9999)).toBe(false);
    expect(h.str(9999)).toBeUndefined();
    expect(h.strs(9999)).toEqual([]);
    expect(h.ints(9999).length).toBe(0);
    expect(h.int(9999)).toBeUndefined();
    expect(h.bin(9999)).toBeUndefined();
  });
  test("asking for the wrong kind of value reads as missing (librpm reads such headers)", () => {
    expect(h.str(2004)).toBeUndefined();
    expect(h.ints(2006).length).toBe(0);
    expect(h.bin(2006)).toBeUndefined();
    expect(h.int(2006)).toBeUndefined();
  });
  test("entries and raw values", () => {
    expect(h.entries().map((e) => e.tag)).toEqual(ENTRIES.map((e) => e.tag));
    expect(h.region).toBe(0);
    expect(h.raw(2004)).toEqual([0, 0x7fffffff, 0xffffffff]);
  });
  test("a header at an offset inside a larger buffer, and without magic (rpmdb blobs)", () => {
    const buf = new Uint8Array(10 + blob.length + 7);
    buf.set(blob, 10);
    const at = new Header(buf, 10, { path: "mem" });
    expect(at.bytes.length).toBe(blob.length);
    expect(headerSize(buf, 10)).toBe(blob.length);
    const noMagic = encodeHeader(ENTRIES, false);
    const h2 = parseHeader(noMagic, 0, { magic: false });
    expect(text(h2.str(2006) as Uint8Array)).toBe("hello");
    expect(() => parseHeader(noMagic, 0)).toThrow(RpmError);
  });
  test("a header cut short is an RpmError truncated", () => {
    for (const n of [0, 5, 15, 16 + 16, blob.length - 1]) {
      let err: unknown;
      try {
        parseHeader(blob.subarray(0, n));
      } catch (e) {
        err = e;
      }
      expect((err as RpmError).code).toBe("truncated");
    }
  });
});

describe("package model from an in-memory header", () => {
  const blob = encodeHeader([
    { tag: TAG.NAME, type: TYPE.STRING, count: 1, data: strings(["demo"]) },
    { tag: TAG.VERSION, type: TYPE.STRING, count: 1, data: strings(["1.0"]) },
    { tag: TAG.RELEASE, type: TYPE.STRING, count: 1, data: strings(["alt1"]) },
    { tag: TAG.SUMMARY, type: TYPE.I18NSTRING, count: 2, data: strings(["Demo", "Демо"]) },
    { tag: TAG.BUILDTIME, type: TYPE.INT32, count: 1, data: be([1700000000], 4) },
    { tag: TAG.OLDFILENAMES, type: TYPE.STRING_ARRAY, count: 2, data: strings(["/a", "/b/c"]) },
    { tag: TAG.FILEMODES, type: TYPE.INT16, count: 2, data: be([0o100644, 0o040755], 2) },
    { tag: TAG.REQUIRENAME, type: TYPE.STRING_ARRAY, count: 1, data: strings(["/bin/sh"]) },
    { tag: TAG.PREINPROG, type: TYPE.STRING, count: 1, data: strings(["/bin/sh"]) },
  ]);
  const p = packageFromHeader(parseHeader(blob));
  test("missing-tag defaults", () => {
    expect(p.epoch).toBeNull();
    expect(p.size).toBeNull();
    expect(p.archivesize).toBeNull();
    expect(p.sha1header.length).toBe(0);
    expect(p.fileSize).toBe(-1);
    expect(p.isSource).toBe(true); // no SOURCERPM: librpm's headerIsSource
    expect(text(p.summary)).toBe("Demo");
  });
  test("legacy OLDFILENAMES, per-file defaults, missing dependency columns", () => {
    expect(p.files.names.map(text)).toEqual(["/a", "/b/c"]);
    expect(Array.from(p.files.modes)).toEqual([0o100644, 0o040755]);
    expect(Array.from(p.files.sizes)).toEqual([0, 0]);
    expect(p.files.users.map(text)).toEqual(["", ""]);
    expect(p.requires.count).toBe(1);
    expect(Array.from(p.requires.flags)).toEqual([0]);
    expect(p.requires.versions.map(text)).toEqual([""]);
  });
  test("*PROG stored as a plain STRING still gives an array", () => {
    expect(p.preinprog.map(text)).toEqual(["/bin/sh"]);
    expect(p.postinprog).toEqual([]);
  });
  test("per-file arrays of different lengths: the shortest wins (librpm reads such headers; the reference zipped them)", () => {
    const bad = encodeHeader([
      { tag: TAG.OLDFILENAMES, type: TYPE.STRING_ARRAY, count: 2, data: strings(["/a", "/b"]) },
      { tag: TAG.FILEMODES, type: TYPE.INT16, count: 1, data: be([0o100644], 2) },
    ]);
    const p = packageFromHeader(parseHeader(bad));
    expect(p.files.count).toBe(1);
    expect(text(p.files.names.get(0))).toBe("/a");
    expect(Array.from(p.files.modes)).toEqual([0o100644]);
    expect(p.files.users.length).toBe(1);
  });
});

describe.skipIf(!hasCorpus)("real package files", () => {
  test("byte range of the main header; the signature header is padded to 8 bytes", () => {
    const f = readPackageFile(corpusFile("rpm-org/RPMS/hello-2.0-1.x86_64.rpm"));
    expect((f.headerStart - 96) % 8).toBe(0);
    expect(f.headerStart).toBeGreaterThanOrEqual(96 + f.signature.bytes.length);
    expect(f.headerEnd - f.headerStart).toBe(f.header.bytes.length);
    expect(f.header.region).toBe(TAG.HEADERIMMUTABLE);
    expect(f.signature.region).toBe(TAG.HEADERSIGNATURES);
  });
  test("v3 header without a region", () => {
    const f = readPackageFile(corpusFile("rpm-org/RPMS/hello-1.0-1.x86_64.rpm-v3"));
    expect(f.header.region).toBe(0);
  });
  test("v6 package: lead 4.0, RPMFORMAT 6", () => {
    const f = readPackageFile(corpusFile("rpm-org/history/attrtest-1.0-1.noarch.rpm-v6"));
    expect(f.lead.major).toBe(4);
    expect(f.header.int(TAG.RPMFORMAT)).toBe(6);
  });
});
