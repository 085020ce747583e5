/** vuln load nvd: record mapping, streamed files, the CVE API with windows and resumption. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Db } from "../../src/db";
import { mmhash } from "../../src/hash";
import { loadVulnerabilities } from "../../src/loaders/vuln";
import { jsonArrayItems } from "../../src/loaders/vuln/json-items";
import { nvdRecordRows, versionHash } from "../../src/loaders/vuln/nvd";
import { windows } from "../../src/loaders/vuln/source";
import { scratchDir } from "../fixtures/_util";
import { contextFor, migratedDb } from "../helpers/context";
import { cveItem, fakeNvd, feedDoc } from "./_nvd";

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const b = new TextEncoder().encode(text);
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function collect(it: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("nvdRecordRows", () => {
  test("summary, score from the newest CVSS (Primary first), UTC times, only vulnerable ranges, duplicates once", () => {
    const item = cveItem({
      id: "CVE-2024-12345",
      v31: 9.8,
      v2: 5,
      matches: [
        { criteria: "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*", startIncl: "3.0", endExcl: "3.9.1" },
        { criteria: "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*", startIncl: "3.0", endExcl: "3.9.1" },
        { criteria: "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*", vulnerable: false },
      ],
    });
    const { vulnerability: v, cpeMatches } = nvdRecordRows(item);
    expect(v.vuln_id).toBe("CVE-2024-12345");
    expect(v.vuln_type).toBe("CVE");
    expect(v.vuln_summary).toStartWith("Summary of CVE-2024-12345");
    expect(v.vuln_score).toBe(9.8);
    expect(v.vuln_severity).toBe("CRITICAL");
    expect(v.vuln_published_date).toBe(Date.UTC(2024, 2, 1, 10, 15, 7) / 1000);
    expect(v.vuln_rejected).toBe(0);
    expect(JSON.parse(v.vuln_json)).toEqual(item);
    expect(v.vuln_hash).toBe(mmhash(JSON.stringify(item)));
    expect(cpeMatches).toEqual([
      {
        vuln_id: "CVE-2024-12345",
        vuln_hash: v.vuln_hash,
        cpe_hash: mmhash("cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*"),
        cpm_cpe: "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*",
        cpm_version_start: "3.0",
        cpm_version_end: "3.9.1",
        cpm_version_start_excluded: 0,
        cpm_version_end_excluded: 1,
        cpm_version_hash: versionHash("3.0", 0, "3.9.1", 1),
      },
    ]);
  });
  test("a v2-only record takes its v2 score; a rejected one is flagged; no metrics → 0/NONE", () => {
    expect(nvdRecordRows(cveItem({ id: "CVE-2010-0001", v2: 5 })).vulnerability).toMatchObject({ vuln_score: 5, vuln_severity: "MEDIUM" });
    expect(nvdRecordRows(cveItem({ id: "CVE-2010-0002", status: "Rejected" })).vulnerability).toMatchObject({ vuln_rejected: 1, vuln_score: 0, vuln_severity: "NONE" });
  });
  test.each([
    [{}, "no `cve` object"],
    [{ cve: { id: "CVE-2024-1" } }, "bad CVE id"],
    [{ cve: { id: "CVE-2024-0001", published: "yesterday", lastModified: "2024-01-01T00:00:00" } }, "is not a time"],
  ])("bad record %j → %s", (item, why) => {
    expect(() => nvdRecordRows(item)).toThrow(why);
  });
});

describe("jsonArrayItems", () => {
  const doc = feedDoc([cveItem({ id: "CVE-2024-0001" }), { cve: { id: 'x"]}{[', nested: [[{}], { a: "\\" }] } }, cveItem({ id: "CVE-2024-0003" })]);
  test.each([1, 3, 7, 64, 1 << 20])("items equal JSON.parse's, in chunks of %d bytes", async (size) => {
    const items = await collect(jsonArrayItems(chunked(doc, size), "vulnerabilities"));
    expect(items.map((t) => JSON.parse(t))).toEqual(JSON.parse(doc).vulnerabilities);
  });
  test("a document that ends early yields the complete items, then throws", async () => {
    const cut = doc.slice(0, doc.lastIndexOf("CVE-2024-0003"));
    const got: string[] = [];
    await expect(
      (async () => {
        for await (const x of jsonArrayItems(chunked(cut, 5), "vulnerabilities")) got.push(x);
      })(),
    ).rejects.toThrow("ends early");
    expect(got.length).toBe(2);
  });
  test("no such array is an error", async () => {
    await expect(collect(jsonArrayItems(chunked('{"other": [1]}', 4), "vulnerabilities"))).rejects.toThrow('no top-level "vulnerabilities"');
  });
});

test("windows are at most 120 days and cover the interval", () => {
  const w = windows(new Date("2024-01-01T00:00:00Z"), new Date("2024-09-01T00:00:00Z"));
  expect(w.length).toBe(3);
  expect(w[0]!.end.getTime() - w[0]!.start.getTime()).toBe(120 * 86_400_000);
  expect(w.at(-1)!.end.toISOString()).toBe("2024-09-01T00:00:00.000Z");
});

describe("vuln load nvd into the database", () => {
  let db: Db;
  beforeAll(async () => {
    db = await migratedDb("vuln_nvd");
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  }, 60_000);
  const count = async (table: string) => Number((await db.query<{ n: number }>(`SELECT count() AS n FROM ${table}`))[0]!.n);

  test("files (plain and gzip): loaded; rerun writes nothing; a changed record adds one version; a bad record is reported", async () => {
    const dir = scratchDir("vuln-files");
    mkdirSync(dir, { recursive: true });
    const a = [cveItem({ id: "CVE-2024-0001", v31: 7.5, matches: [{ criteria: "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*", endExcl: "3.9" }] }), cveItem({ id: "CVE-2024-0002", v2: 4.3 })];
    writeFileSync(join(dir, "nvdcve-2.0-2024a.json"), feedDoc(a));
    writeFileSync(join(dir, "nvdcve-2.0-2024b.json.gz"), gzipSync(feedDoc([cveItem({ id: "CVE-2024-0003", status: "Rejected" })])));
    const ctx = contextFor(db);
    const r1 = await loadVulnerabilities(ctx, { source: "nvd", from: dir });
    expect(r1).toMatchObject({ records: 3, written: 3, unchanged: 0, cpe_matches: 1, complete: true });
    expect(await count("Vulnerabilities")).toBe(3);
    const r2 = await loadVulnerabilities(ctx, { source: "nvd", from: dir });
    expect(r2).toMatchObject({ records: 3, written: 0, unchanged: 3, cpe_matches: 0 });
    expect(await count("Vulnerabilities")).toBe(3);
    expect(await count("CpeMatch")).toBe(1);

    a[0] = cveItem({ id: "CVE-2024-0001", modified: "2024-04-01T00:00:00.000", v31: 7.5, matches: [{ criteria: "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*", endExcl: "3.9.2" }] });
    a.push({ cve: { id: "not-an-id" } });
    writeFileSync(join(dir, "nvdcve-2.0-2024a.json"), feedDoc(a));
    const r3 = await loadVulnerabilities(ctx, { source: "nvd", from: dir });
    expect(r3).toMatchObject({ records: 4, written: 1, unchanged: 2, cpe_matches: 1, complete: false });
    expect(r3.rejected).toEqual([{ path: `${join(dir, "nvdcve-2.0-2024a.json")}#2`, error: 'bad CVE id "not-an-id"' }]);
    const cur = await db.query<{ e: string }>("SELECT argMax(cpm_version_end, ts) AS e FROM CpeMatch WHERE vuln_hash = (SELECT argMax(vuln_hash, ts) FROM Vulnerabilities WHERE vuln_id = 'CVE-2024-0001')");
    expect(cur[0]!.e).toBe("3.9.2");
    expect(Number((await db.query<{ r: number }>("SELECT vuln_rejected AS r FROM Vulnerabilities WHERE vuln_id = 'CVE-2024-0003'"))[0]!.r)).toBe(1);
  });

  test("a truncated file: its complete records load, the run is reported incomplete", async () => {
    const dir = scratchDir("vuln-trunc");
    mkdirSync(dir, { recursive: true });
    const doc = feedDoc([cveItem({ id: "CVE-2023-0001" }), cveItem({ id: "CVE-2023-0002" })]);
    writeFileSync(join(dir, "cut.json"), doc.slice(0, doc.length - 40));
    const r = await loadVulnerabilities(contextFor(db), { source: "nvd", from: dir });
    expect(r.complete).toBe(false);
    expect(r.written).toBe(1);
    expect(r.rejected[0]!.error).toContain("ends early");
  });

  test("the API: pages and windows; a failing page leaves the cursor; the rerun resumes and duplicates nothing", async () => {
    const items = Array.from({ length: 7 }, (_, k) =>
      cveItem({ id: `CVE-2025-${String(k + 1).padStart(4, "0")}`, modified: `2025-0${1 + (k % 3)}-1${k}T00:00:00.000`, matches: [{ criteria: "cpe:2.3:a:x:y:*:*:*:*:*:*:*:*" }] }),
    );
    const api = fakeNvd(items);
    try {
      const ctx = contextFor(db);
      api.failAt.add(3);
      const since = new Date("2024-12-01T00:00:00Z");
      await expect(loadVulnerabilities(ctx, { source: "nvd", from: api.url, since, intervalMs: 0, pageSize: 3, http: { retries: 1, backoffMs: 10 } })).rejects.toThrow("HTTP 500");
      const cursors = await db.query("SELECT * FROM altrepodb_vuln_cursors");
      expect(cursors).toEqual([]);
      expect(await count("Vulnerabilities WHERE vuln_id LIKE 'CVE-2025-%'")).toBe(3); // the first page was written
      api.failAt.clear();
      const r = await loadVulnerabilities(ctx, { source: "nvd", from: api.url, since, intervalMs: 0, pageSize: 3, http: { retries: 1, backoffMs: 10 } });
      expect(r).toMatchObject({ records: 7, written: 4, unchanged: 3, complete: true });
      expect(await count("Vulnerabilities WHERE vuln_id LIKE 'CVE-2025-%'")).toBe(7);
      expect(api.requests.every((u) => u.searchParams.get("lastModStartDate")?.endsWith("+00:00"))).toBe(true);
      // the next run starts at the stored cursor: nothing new, no rows
      const before = api.requests.length;
      const again = await loadVulnerabilities(ctx, { source: "nvd", from: api.url, intervalMs: 0, pageSize: 3, http: { retries: 1, backoffMs: 10 } });
      expect(again).toMatchObject({ written: 0 });
      expect(api.requests.slice(before).every((u) => Date.parse(u.searchParams.get("lastModStartDate")!.replace("+00:00", "Z")) >= Date.parse(r.cursor!) - 1000)).toBe(true);
    } finally {
      api.stop();
    }
  });
});

describe("vuln load cpe (the NVD CPE dictionary)", () => {
  let db: Db;
  beforeAll(async () => {
    db = await migratedDb("vuln_cpe");
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  }, 60_000);
  const product = (id: string, name: string, modified = "2024-01-01T00:00:00.000", deprecated = false) => ({
    cpe: { deprecated, cpeName: name, cpeNameId: id, lastModified: modified, created: "2020-01-01T00:00:00.000", titles: [{ title: `Title of ${name}`, lang: "en" }], refs: [] },
  });
  test("files and the products API: entries once per version, bad ones reported", async () => {
    const dir = scratchDir("cpe-dict");
    const doc = (items: unknown[]) => JSON.stringify({ resultsPerPage: items.length, startIndex: 0, totalResults: items.length, format: "NVD_CPE", version: "2.0", products: items });
    writeFileSync(
      join(dir, "nvdcpe-2.0-chunk-00001.json"),
      doc([
        product("87316812-5F2C-4286-94FE-CC98B9EAEF53", "cpe:2.3:a:gnu:nettle:3.9:*:*:*:*:*:*:*"),
        product("not-a-uuid", "cpe:2.3:a:x:y:1:*:*:*:*:*:*:*"),
        product("B2A5B1D4-6E8F-4C3A-9D0E-1F2A3B4C5D6E", "cpe:2.3:a:openssl:openssl:3.1.4:*:*:*:*:*:*:*", "2024-02-01T00:00:00.000", true),
      ]),
    );
    const ctx = contextFor(db);
    const r = await loadVulnerabilities(ctx, { source: "cpe", from: dir });
    expect(r).toMatchObject({ records: 3, written: 2, complete: false });
    const rows = await db.query<{ n: string; d: number; t: string }>("SELECT cpe_name AS n, cpe_deprecated AS d, cpe_title AS t FROM CpeDictionary ORDER BY n");
    expect(rows.map((x) => [x.n, Number(x.d)])).toEqual([
      ["cpe:2.3:a:gnu:nettle:3.9:*:*:*:*:*:*:*", 0],
      ["cpe:2.3:a:openssl:openssl:3.1.4:*:*:*:*:*:*:*", 1],
    ]);
    expect((await loadVulnerabilities(ctx, { source: "cpe", from: dir })).written).toBe(0);

    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => Response.json({ resultsPerPage: 1, startIndex: 0, totalResults: 1, format: "NVD_CPE", version: "2.0", products: [product("87316812-5F2C-4286-94FE-CC98B9EAEF53", "cpe:2.3:a:gnu:nettle:3.9:*:*:*:*:*:*:*", "2024-06-01T00:00:00.000")] }),
    });
    try {
      const api = await loadVulnerabilities(ctx, { source: "cpe", from: `http://127.0.0.1:${server.port}/rest/json/cpes/2.0`, since: new Date("2024-05-01T00:00:00Z"), intervalMs: 0 });
      // the naive fake answers every window with the same entry: stored once
      expect(api).toMatchObject({ written: 1, complete: true });
    } finally {
      server.stop(true);
    }
  });
});
