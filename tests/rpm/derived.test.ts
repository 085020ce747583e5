/** Derived values (reference §1.6, §6.1 test vectors) and the text rule. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { fromHex, mmhash } from "../../src/hash/index.ts";
import {
  changelogEntries,
  classFromMode,
  decodeEscaped,
  encodeEscaped,
  fileClass,
  pkgArch,
  pkgCs,
  pkgHash,
  readPackage,
  RpmError,
  type RpmPackage,
  splitChangelogName,
  splitPackager,
  text,
  utf8,
} from "../../src/rpm/index.ts";
import { corpusFile, hasCorpus } from "./_corpus.ts";
import { oracleAvailable, PYTHON } from "./compare.ts";

const EMPTY = new Uint8Array(0);

/** A package model with just the fields the derivations read. */
function fake(over: Partial<RpmPackage>): RpmPackage {
  return { path: "fake.rpm", buildtime: null, sha1header: EMPTY, sigmd5: EMPTY, siggpg: EMPTY, ...over } as RpmPackage;
}

describe("pkg_hash (§1.6.1, vectors of §6.1)", () => {
  const sha1 = fromHex("da39a3ee5e6b4b0d3255bfef95601890afd80709");
  const md5 = fromHex("d41d8cd98f00b204e9800998ecf8427e");
  test("sha1 ‖ md5, no GPG", () => {
    expect(pkgHash(fake({ buildtime: 1629244800, sha1header: sha1, sigmd5: md5 }))).toBe(2702585840075705720n);
  });
  test("sha1 ‖ md5 ‖ gpg", () => {
    const gpg = fromHex("0102030405060708090a");
    expect(pkgHash(fake({ buildtime: 1629244800, sha1header: sha1, sigmd5: md5, siggpg: gpg }))).toBe(2702585838687295073n);
  });
  test("BUILDTIME before 2001-09-09 or missing → RpmError buildtime, never a negative id", () => {
    for (const bt of [999_999_999, 0, null]) {
      let err: unknown;
      try {
        pkgHash(fake({ buildtime: bt }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RpmError);
      expect((err as RpmError).code).toBe("buildtime");
    }
    expect(pkgHash(fake({ buildtime: 1_000_000_000 }))).toBe(0n);
  });
  test.skipIf(!hasCorpus)("a real ALT package: SHA1HEADER and SIGMD5 from the signature header", () => {
    const p = readPackage(corpusFile("alt-squidfw/squid-helpers-6.10-alt1.x86_64.rpm"));
    expect(p.sha1header.length).toBe(20);
    expect(p.sigmd5.length).toBe(16);
    expect(pkgCs(p)).toBe(p.sha1header);
    expect(pkgHash(p) >> 32n).toBe(BigInt(1722970339 - 1_000_000_000));
  });
  test("pkg_cs is zero-padded to 20 bytes when SHA1HEADER is missing (v6 packages)", () => {
    expect(pkgCs(fake({}))).toEqual(new Uint8Array(20));
  });
});

describe("pkg_arch (§1.6.3)", () => {
  test("i586- names are x86_64-i586, others keep ARCH", () => {
    expect(text(pkgArch({ name: utf8("i586-libfoo"), arch: utf8("i586") }))).toBe("x86_64-i586");
    expect(text(pkgArch({ name: utf8("libfoo"), arch: utf8("x86_64") }))).toBe("x86_64");
    expect(text(pkgArch({ name: utf8("i586foo"), arch: utf8("i586") }))).toBe("i586");
  });
});

describe("packager split (§1.6.4, Unicode-aware per §8.2): same results as Python's re", () => {
  const cases: [string, string, string][] = [
    ["Ivan Ivanov <ivan@altlinux.org>", "Ivan Ivanov", "ivan@altlinux.org"],
    ["Joe Hacker <joe at altlinux dot org>", "Joe Hacker", "joe@altlinux dot org"],
    ["Мария Кузнецова <maria@altlinux.org>", "Мария Кузнецова", "maria@altlinux.org"],
    ["Dmitry V. Levin (ALT) <ldv@altlinux.org>", "Dmitry V. Levin", "ldv@altlinux.org"],
    ["'Anton Farygin' <rider@altlinux.com>", "Anton Farygin", "rider@altlinux.com"],
    ["Name  <a@b>", "Name", "a@b"],
    ["Иван <ivan at altlinux dot org>", "Иван", "ivan@altlinux dot org"],
    ["x (nick) <n@x.org>", "x", "n@x.org"],
    ["CentOS BuildSystem <http://bugs.centos.org>", "CentOS BuildSystem", "http://bugs.centos.org"],
    ["Fedora Project", "Fedora Project", ""],
    ["<only@mail>", "<only@mail>", ""],
    ["", "", ""],
  ];
  for (const [input, name, email] of cases) {
    test(JSON.stringify(input), () => {
      const p = splitPackager(utf8(input));
      expect([text(p.name), text(p.email)]).toEqual([name, email]);
    });
  }
  test("bytes that are not UTF-8 (KOI8-R) survive byte-exact", () => {
    const koi = Uint8Array.from([0xe9, 0xd7, 0xc1, 0xce]); // "Иван" in KOI8-R
    const input = new Uint8Array([...koi, ...utf8(" Ivanov <ivan@altlinux.org>")]);
    const p = splitPackager(input);
    expect(text(p.email)).toBe("ivan@altlinux.org");
    expect(Array.from(p.name.subarray(0, 4))).toEqual(Array.from(koi));
  });
});

describe("changelog (§1.6.5)", () => {
  test("exactly one '>' splits name and EVR", () => {
    const s = splitChangelogName(utf8("A B <a@altlinux> 1:2.3-alt1"));
    expect([text(s.name), text(s.evr)]).toEqual(["A B <a@altlinux>", "1:2.3-alt1"]);
  });
  test("zero or two '>' keep the whole name and an empty EVR", () => {
    for (const n of ["A B", "A <a> <b> 1.0"]) {
      const s = splitChangelogName(utf8(n));
      expect([text(s.name), text(s.evr)]).toEqual([n, ""]);
    }
  });
  test("hash is mmhash of the text bytes as stored (é in UTF-8 → the clean-UTF-8 vector of §6.1)", () => {
    expect(mmhash(Uint8Array.of(0xc3, 0xa9))).toBe(13221932781243604439n);
  });
  test.skipIf(!hasCorpus)("entries of a real package, newest first", () => {
    const p = readPackage(corpusFile("rpm-org/history/time-1.7-22.i386.rpm"));
    const e = changelogEntries(p);
    expect(e.length).toBe(p.changelog.count);
    expect(e[0].date).toBeGreaterThanOrEqual(e[e.length - 1].date);
    for (const x of e) expect(x.hash).toBe(mmhash(x.text));
  });
});

describe("file class (§1.4.5 librpm FILECLASS, §1.6.6 mapping, §8.1 fix)", () => {
  const DIR = 0o040755;
  const REG = 0o100644;
  const LNK = 0o120777;
  test("no class string (no dictionary, empty or out-of-range entry) → librpm's class from the mode", () => {
    expect(fileClass(EMPTY, DIR)).toBe("directory");
    expect(fileClass(EMPTY, LNK)).toBe("symlink");
    expect(fileClass(EMPTY, REG)).toBe("file");
    expect(fileClass(EMPTY, 0o060660)).toBe("block");
    expect(fileClass(EMPTY, 0o020666)).toBe("char");
    expect(fileClass(EMPTY, 0o010644)).toBe("fifo");
    expect(fileClass(EMPTY, 0o140755)).toBe("socket");
  });
  test("known libmagic prefixes", () => {
    expect(fileClass(utf8("directory"), DIR)).toBe("directory");
    expect(fileClass(utf8("symbolic link to `x'"), LNK)).toBe("symlink");
    expect(fileClass(utf8("socket"), 0o140755)).toBe("socket");
    expect(fileClass(utf8("character special (1/3)"), 0o020644)).toBe("char");
    expect(fileClass(utf8("block special"), 0o060644)).toBe("block");
    expect(fileClass(utf8("fifo (named pipe)"), 0o010644)).toBe("fifo");
    expect(fileClass(utf8("file"), REG)).toBe("file");
  });
  test("other class strings (libmagic descriptions, empty entries) → from the mode, never ''", () => {
    expect(fileClass(utf8("ELF 64-bit LSB pie executable, x86-64"), REG)).toBe("file");
    expect(fileClass(utf8("ASCII text"), REG)).toBe("file");
    expect(fileClass(EMPTY, DIR)).toBe("directory");
    expect(fileClass(EMPTY, LNK)).toBe("symlink");
    expect(fileClass(utf8("weird"), 0o010600)).toBe("fifo");
  });
  test("classFromMode covers every file type", () => {
    expect([0o040000, 0o120000, 0o140000, 0o020000, 0o060000, 0o010000, 0o100000].map(classFromMode)).toEqual([
      "directory", "symlink", "socket", "char", "block", "fifo", "file",
    ]);
  });
});

describe("text rule", () => {
  const cases: [number[], string][] = [
    [[0xe2, 0x82, 0x41], "\\xe2\\x82A"],
    [[0xf0, 0x9f, 0x98, 0xe2, 0x82, 0xac], "\\xf0\\x9f\\x98€"],
    [[0xed, 0xa0, 0x80, 0x78], "\\xed\\xa0\\x80x"],
    [[0xc0, 0xaf], "\\xc0\\xaf"],
    [[0x6f, 0x6b, 0xff], "ok\\xff"],
    [[0xf4, 0x90, 0x80, 0x80], "\\xf4\\x90\\x80\\x80"],
    [[0xe0, 0x80, 0x80], "\\xe0\\x80\\x80"],
    [[0xc3, 0xa9, 0xa9], "é\\xa9"],
  ];
  for (const [bytes, want] of cases) {
    test(`backslashreplace of ${bytes.map((b) => b.toString(16)).join(" ")}`, () => {
      expect(text(Uint8Array.from(bytes))).toBe(want);
    });
  }
  test("valid UTF-8 prints as is", () => {
    expect(text(utf8("Привет, мир — ok"))).toBe("Привет, мир — ok");
  });
  test.skipIf(!oracleAvailable())("random byte strings: same as Python's backslashreplace; escaped decoding round-trips", () => {
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const samples: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const n = rnd() % 12;
      const b = new Uint8Array(n);
      for (let k = 0; k < n; k++) b[k] = rnd() % 3 === 0 ? 0x80 + (rnd() % 0x80) : rnd() % 2 ? 0xc0 + (rnd() % 0x35) : 0x20 + (rnd() % 0x5f);
      samples.push(b);
    }
    const script = "import sys,json\nfor l in sys.stdin.read().split():\n    print(json.dumps(bytes.fromhex(l).decode('utf-8','backslashreplace')))";
    const input = samples.map((b) => Buffer.from(b).toString("hex") || "00").join("\n");
    const r = spawnSync(PYTHON, ["-c", script], { input, encoding: "utf8" });
    const want = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as string);
    samples.forEach((b, i) => {
      expect(text(b.length ? b : Uint8Array.of(0))).toBe(want[i]);
      expect(encodeEscaped(decodeEscaped(b))).toEqual(b);
    });
  });
});
