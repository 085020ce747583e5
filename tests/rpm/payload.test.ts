/**
 * Payload access: every package of the corpus and of the fixture generator is walked to the
 * end of its archive (so every compressor and both cpio formats are exercised) and compared with
 * librpm's own archive reader; spec extraction is checked on every SRPM; failure modes (no spec,
 * corrupt compressed data, slow decompressor) give RpmErrors instead of hanging.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  extractSpec,
  payloadCompression,
  payloadEntries,
  readPackage,
  RpmError,
  text,
} from "../../src/rpm/index.ts";
import { buildEdgeCasePackages } from "../fixtures/rpms.ts";
import { CORPUS_RPM, corpusFile, hasCorpus, rpmFiles, scratchDir } from "./_corpus.ts";
import { oracleAvailable, runOracle } from "./compare.ts";

const canRun = hasCorpus && oracleAvailable();
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

type Entry = [string, number, number, string, number];

/** Our walk, in librpm's terms: regular files with content, named by their header path. */
async function walk(path: string, isSource: boolean): Promise<Entry[]> {
  const pkg = readPackage(path);
  const out: Entry[] = [];
  for await (const e of payloadEntries(pkg)) {
    if ((e.mode & S_IFMT) !== S_IFREG || e.size === 0) continue;
    const data = await e.read();
    // archive names are "./usr/…" (rpm ≥ 4), "usr/…" (rpm 3) or "/usr/…" (nfpm); librpm uses header paths
    const name = isSource ? e.name : `/${e.name.replace(/^\.?\/*/, "")}`;
    out.push([name, e.mode, data.length, createHash("sha256").update(data).digest("hex"), e.mtime]);
  }
  return out;
}

function comparePayloads(files: string[], label: (f: string) => string): void {
  const oracle = runOracle(files, ["--payload"]);
  for (const file of files) {
    test(`payload of ${label(file)}`, async () => {
      const lib = oracle.get(file);
      expect(lib?.ok).toBe(true);
      const pkg = readPackage(file);
      const ours = await walk(file, pkg.isSource);
      // mtimes are left out: librpm reports the header's, we (like libarchive in the reference)
      // the archive's, and nfpm writes 0 into its cpio headers.
      const theirs = (lib?.entries as Entry[]).map(([n, m, s, h]) => [n, m, s, h, 0] as Entry);
      for (const e of ours) e[4] = 0;
      const key = (e: Entry) => e[0];
      expect([...ours].sort((a, b) => (key(a) < key(b) ? -1 : 1))).toEqual(theirs.sort((a, b) => (key(a) < key(b) ? -1 : 1)));
    });
  }
}

const BROKEN_PAYLOAD = "rpm-org/RPMS/hello-2.0-1.x86_64-corrupted.rpm";

describe.skipIf(!canRun)("payload walk vs librpm: real corpus", () => {
  const files = rpmFiles(CORPUS_RPM).filter((f) => !f.endsWith(BROKEN_PAYLOAD));
  comparePayloads(files, (f) => f.slice(CORPUS_RPM.length + 1));

  test("the truncated corpus package fails with an RpmError, not a hang", async () => {
    const err = await extractSpec(corpusFile(BROKEN_PAYLOAD)).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
    expect(err.code).toBe("truncated");
  });
});

describe.skipIf(!oracleAvailable())("payload walk vs librpm: fixture packages", async () => {
  const m = await buildEdgeCasePackages();
  comparePayloads(m.packages.map((p) => p.file).sort(), (f) => f.slice(m.dir.length + 1));
});

describe.skipIf(!canRun)("every compressor (go-rpmutils payload-test)", () => {
  const cases: [string, string][] = [
    ["payload-test-0.1-w.ufdio.x86_64.rpm", "none"],
    ["payload-test-0.1-w9.gzdio.x86_64.rpm", "gzip"],
    ["payload-test-0.1-w9.bzdio.x86_64.rpm", "bzip2"],
    ["payload-test-0.1-w6.xzdio.x86_64.rpm", "xz"],
    ["payload-test-0.1-w6.lzdio.x86_64.rpm", "lzma"],
    ["payload-test-0.1-w3.zstdio.x86_64.rpm", "zstd"],
  ];
  for (const [file, kind] of cases) {
    test(`${kind}: detected by magic and read`, async () => {
      const path = corpusFile(`go-rpmutils/${file}`);
      const pkg = readPackage(path);
      expect(payloadCompression(path, pkg.headerEnd, text(pkg.payloadcompressor)) as string).toBe(kind);
      const names: string[] = [];
      for await (const e of payloadEntries(pkg)) names.push(e.name);
      expect(names).toEqual(["./usr/share/payload-test.txt"]);
    });
  }
  test("rpm 3.0 package without PAYLOADCOMPRESSOR: gzip found by magic", () => {
    const path = corpusFile("rpm-org/history/foo.i386.rpm");
    const pkg = readPackage(path);
    expect(text(pkg.payloadcompressor)).toBe("");
    expect(payloadCompression(path, pkg.headerEnd, "")).toBe("gzip");
  });
});

describe.skipIf(!canRun)("spec extraction", async () => {
  const m = await buildEdgeCasePackages();
  const srpms = [...rpmFiles(CORPUS_RPM), ...m.packages.map((p) => p.file)].filter((f) => readPackage(f).isSource);
  const oracle = runOracle(srpms, ["--payload"]);
  test("there are SRPMs in every format (v3 rpm 2.2, v4, v6 stripped cpio, all compressors)", () => {
    expect(srpms.length).toBeGreaterThanOrEqual(40);
  });
  for (const f of srpms) {
    test(`spec of ${f.split("/").slice(-2).join("/")}`, async () => {
      const spec = await extractSpec(f);
      const lib = (oracle.get(f)?.entries as Entry[]).find(([n]) => n.endsWith(".spec") || n === "spec");
      expect(lib).toBeDefined();
      const [name, , size, sha, mtime] = lib as Entry;
      expect(spec.name).toBe(name);
      expect(spec.bytes.length).toBe(size);
      expect(createHash("sha256").update(spec.bytes).digest("hex")).toBe(sha);
      expect(spec.mtime).toBe(mtime);
    });
  }
});

describe.skipIf(!hasCorpus)("payload failures are RpmErrors, never hangs", () => {
  const dir = scratchDir("payload");
  beforeAll(() => mkdirSync(dir, { recursive: true }));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Copy a package with its payload bytes changed by `fn`. */
  function withPayload(rel: string, out: string, fn: (payload: Uint8Array) => Uint8Array): string {
    const src = corpusFile(rel);
    const bytes = new Uint8Array(readFileSync(src));
    const end = readPackage(src).headerEnd;
    const payload = fn(bytes.slice(end));
    const file = join(dir, out);
    const all = new Uint8Array(end + payload.length);
    all.set(bytes.subarray(0, end));
    all.set(payload, end);
    writeFileSync(file, all);
    return file;
  }

  test("an SRPM whose archive has no spec → no-spec (the reference blocks forever here)", async () => {
    // uncompressed newc payload: rename rpm-empty.spec → rpm-empty.spek in place
    const file = withPayload("rpm-rs/SRPMS/v4/rpm-empty-0-0.src.rpm", "nospec.src.rpm", (p) => {
      const s = Buffer.from(p).toString("latin1").replace("rpm-empty.spec", "rpm-empty.spek");
      return new Uint8Array(Buffer.from(s, "latin1"));
    });
    const err = await extractSpec(file).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
    expect(err.code).toBe("no-spec");
  });

  for (const [rel, kind] of [
    ["go-rpmutils/payload-test-0.1-w9.gzdio.x86_64.rpm", "gzip"],
    ["go-rpmutils/payload-test-0.1-w9.bzdio.x86_64.rpm", "bzip2"],
    ["go-rpmutils/payload-test-0.1-w6.xzdio.x86_64.rpm", "xz"],
    ["go-rpmutils/payload-test-0.1-w6.lzdio.x86_64.rpm", "lzma"],
    ["go-rpmutils/payload-test-0.1-w3.zstdio.x86_64.rpm", "zstd"],
  ] as const) {
    test(`${kind} payload with garbage after its magic → RpmError`, async () => {
      const file = withPayload(rel, `garbage-${kind}.rpm`, (p) => {
        const q = p.slice();
        for (let i = 8; i < q.length; i++) q[i] = (i * 131) & 0xff;
        return q;
      });
      const err = await extractSpec(file).catch((e) => e);
      expect(err).toBeInstanceOf(RpmError);
      expect(["compression", "truncated", "cpio"]).toContain(err.code);
    });
    test(`${kind} payload cut in half → RpmError`, async () => {
      const file = withPayload(rel, `half-${kind}.rpm`, (p) => p.slice(0, p.length >> 1));
      const err = await extractSpec(file).catch((e) => e);
      expect(err).toBeInstanceOf(RpmError);
      expect(["compression", "truncated", "cpio"]).toContain(err.code);
    });
  }

  test("unknown compression magic and no tag → compression error", async () => {
    const file = withPayload("go-rpmutils/payload-test-0.1-w.ufdio.x86_64.rpm", "unknown-magic.rpm", (p) => {
      const q = p.slice();
      q.set([0x99, 0x98, 0x97, 0x96], 0);
      return q;
    });
    const err = await extractSpec(file).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
    expect(err.code).toBe("compression");
  });

  test("a decompressor child that runs too long is killed → timeout", async () => {
    const err = await extractSpec(corpusFile("alt-squidfw/squid-6.10-alt1.x86_64.rpm"), { timeoutMs: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
    expect(err.code).toBe("timeout");
  });

  test("a spec larger than the limit is refused", async () => {
    const err = await extractSpec(corpusFile("rpm-org/SRPMS/foo-1.0-1.src.rpm"), { maxSpecBytes: 10 }).catch((e) => e);
    expect(err).toBeInstanceOf(RpmError);
    expect(err.code).toBe("cpio");
  });

  test("stopping early kills the xz child (no stray processes, fast)", async () => {
    const pkg = readPackage(corpusFile("alt-squidfw/squid-6.10-alt1.x86_64.rpm"));
    const t0 = performance.now();
    for await (const e of payloadEntries(pkg)) {
      expect(e.name.startsWith("./")).toBe(true);
      break;
    }
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});
