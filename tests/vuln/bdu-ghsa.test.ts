/** vuln load bdu / ghsa: FSTEC XML (in a zip whose inner name varies) and OSV trees. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { loadVulnerabilities } from "../../src/loaders/vuln";
import { bduRecordRow } from "../../src/loaders/vuln/bdu";
import { cvss3BaseScore, ghsaRecordRow } from "../../src/loaders/vuln/ghsa";
import { parseElement, toJson, xmlElements } from "../../src/loaders/vuln/xml";
import { scratchDir } from "../fixtures/_util";
import { contextFor, migratedDb } from "../helpers/context";

function vul(id: string, cves: string[], extra = ""): string {
  return `  <vul>
    <identifier>${id}</identifier>
    <name>Уязвимость функции &lt;memcpy&gt; библиотеки &quot;nettle&quot; &amp; прочих</name>
    <description><![CDATA[Описание с <тегом> и ]] внутри]]></description>
    <vulnerable_software>
      <soft><vendor>GNU</vendor><name>nettle</name><version>до 3.9.1</version><types><type>ПО программно-аппаратного средства</type></types></soft>
    </vulnerable_software>
    <cwes><cwe><identifier>CWE-787</identifier></cwe></cwes>
    <identify_date>28.12.2023</identify_date>
    <publication_date>10.01.2024</publication_date>
    <last_upd_date>15.02.2024</last_upd_date>
    <cvss><vector score="5.0">AV:N/AC:L/Au:N/C:N/I:N/A:P</vector></cvss>
    <cvss3><vector score="7.5">AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H</vector></cvss3>
    <identifiers>${cves.map((c) => `<identifier type="CVE" link="https://nvd.nist.gov/vuln/detail/${c}">${c}</identifier>`).join("")}<identifier type="Other" link="x">OVE-20240101-0001</identifier></identifiers>
    ${extra}
  </vul>
`;
}

const BDU_XML = `<?xml version="1.0" encoding="UTF-8"?>
<vulnerabilities>
${vul("BDU:2024-00001", ["CVE-2024-0001", "CVE-2024-0002"])}${vul("BDU:2024-00002", [])}  <vul><identifier>BDU:24-1</identifier></vul>
${vul("BDU:2024-00003", ["CVE-2024-0003"], "<!-- a comment --><other/>")}</vulnerabilities>
`;

function zip(path: string, inner: string, text: string): void {
  const py = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED)\nz.writestr('readme.txt', 'x')\nz.writestr(sys.argv[2], sys.stdin.read())\nz.close()\n";
  const r = Bun.spawnSync(["python3", "-c", py, path, inner], { stdin: Buffer.from(text) });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
}

describe("XML", () => {
  test("elements stream out whole, whatever the chunking", async () => {
    for (const size of [1, 5, 64, 1 << 16]) {
      const chunks = (async function* () {
        for (let i = 0; i < BDU_XML.length; i += size) yield BDU_XML.slice(i, i + size);
      })();
      const got: string[] = [];
      for await (const e of xmlElements(chunks, "vul")) got.push(e);
      expect(got.length).toBe(4);
      expect(got[2]).toBe("<vul><identifier>BDU:24-1</identifier></vul>");
    }
  });
  test("entities, CDATA, attributes, lists", () => {
    const j = toJson(parseElement('<a x="1 &amp; 2"><b>t&#233;&#x41;</b><b>2</b><c><![CDATA[<raw>]]></c><d/></a>')) as Record<string, unknown>;
    expect(j).toEqual({ x: "1 & 2", b: ["téA", "2"], c: "<raw>", d: "" });
  });
});

describe("BDU", () => {
  test("a record: JSON keys the API reads, CVE references, score from cvss3, dates UTC", () => {
    const r = bduRecordRow(vul("BDU:2024-00001", ["CVE-2024-0001", "CVE-2024-0002"]));
    const j = JSON.parse(r.vuln_json);
    expect(j.cvss3.vector).toEqual({ score: "7.5", text: "AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H" });
    expect(j.cvss.vector.score).toBe("5.0");
    expect(j.identifiers.identifier).toHaveLength(3);
    expect(j.description).toBe("Описание с <тегом> и ]] внутри");
    expect(r).toMatchObject({
      vuln_id: "BDU:2024-00001",
      vuln_type: "BDU",
      vuln_score: 7.5,
      vuln_severity: "HIGH",
      vuln_published_date: Date.UTC(2024, 0, 10) / 1000,
      vuln_modified_date: Date.UTC(2024, 1, 15) / 1000,
      "vuln_references.type": ["CVE", "CVE"],
      "vuln_references.link": ["CVE-2024-0001", "CVE-2024-0002"],
    });
  });
});

describe("GHSA", () => {
  test.each([
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8],
    ["CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1],
    ["CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5],
    ["CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9],
    ["CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6],
    ["CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N", 0],
  ])("CVSS v3 base score of %s is %d", (v, want) => {
    expect(cvss3BaseScore(v)).toBe(want);
  });
  test("not a v3 vector → undefined", () => {
    expect(cvss3BaseScore("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")).toBeUndefined();
  });
  test("a record: aliases as CVE references, withdrawn flagged, severity from database_specific without a vector", () => {
    const r = ghsaRecordRow({
      id: "GHSA-c3f9-2345-wxvq",
      summary: "s",
      aliases: ["CVE-2024-0001", "PYSEC-2024-1"],
      modified: "2024-05-01T00:00:00Z",
      published: "2024-04-01T00:00:00Z",
      withdrawn: "2024-05-01T00:00:00Z",
      severity: [{ type: "CVSS_V4", score: "CVSS:4.0/AV:N" }],
      database_specific: { severity: "MODERATE", cwe_ids: ["CWE-79"] },
    });
    expect(r).toMatchObject({ vuln_type: "GHSA", vuln_rejected: 1, vuln_score: 0, vuln_severity: "MEDIUM", "vuln_references.link": ["CVE-2024-0001"] });
  });
});

describe("loading", () => {
  let db: Db;
  beforeAll(async () => {
    db = await migratedDb("vuln_bdu");
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  }, 60_000);
  const ids = async (type: string) => (await db.query<{ vuln_id: string }>(`SELECT vuln_id FROM Vulnerabilities WHERE vuln_type = '${type}' ORDER BY vuln_id`)).map((r) => r.vuln_id);

  test("bdu from the zip FSTEC publishes (inner name found, not assumed); a bad id is reported; a rerun writes nothing", async () => {
    const dir = scratchDir("bdu");
    const z = join(dir, "vulxml.zip");
    zip(z, "export/export-2026-12-01.xml", BDU_XML);
    const ctx = contextFor(db);
    const r = await loadVulnerabilities(ctx, { source: "bdu", from: z });
    expect(r).toMatchObject({ records: 4, written: 3, complete: false });
    expect(r.rejected[0]!.error).toBe('bad BDU id "BDU:24-1"');
    expect(await ids("BDU")).toEqual(["BDU:2024-00001", "BDU:2024-00002", "BDU:2024-00003"]);
    // a CVE id named only as a BDU reference gets no row of its own
    expect(await ids("CVE")).toEqual([]);
    const again = await loadVulnerabilities(ctx, { source: "bdu", from: z });
    expect(again).toMatchObject({ written: 0, unchanged: 3 });
  });

  test("bdu: a truncated XML loads its complete records and fails the run", async () => {
    const dir = scratchDir("bdu-cut");
    const f = join(dir, "export.xml");
    writeFileSync(f, BDU_XML.slice(0, BDU_XML.indexOf("BDU:2024-00003") + 20));
    const r = await loadVulnerabilities(contextFor(db), { source: "bdu", from: f });
    expect(r.complete).toBe(false);
    expect(r.rejected.at(-1)!.error).toContain("ends inside a <vul>");
  });

  test("ghsa from an OSV tree; a broken file is one rejected record", async () => {
    const dir = scratchDir("ghsa");
    const sub = join(dir, "advisories", "github-reviewed", "2024", "05");
    mkdirSync(sub, { recursive: true });
    const adv = (id: string) => ({ schema_version: "1.4.0", id, modified: "2024-05-02T10:00:00Z", published: "2024-05-01T10:00:00Z", aliases: ["CVE-2024-9999"], summary: `summary ${id}`, severity: [{ type: "CVSS_V3", score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" }], affected: [], references: [{ type: "ADVISORY", url: "https://example.org" }], database_specific: { cwe_ids: ["CWE-79"], severity: "CRITICAL" } });
    writeFileSync(join(sub, "GHSA-2222-3333-4444.json"), JSON.stringify(adv("GHSA-2222-3333-4444")));
    writeFileSync(join(sub, "GHSA-5555-6666-7777.json"), JSON.stringify(adv("GHSA-5555-6666-7777")));
    writeFileSync(join(sub, "broken.json"), "{ not json");
    const r = await loadVulnerabilities(contextFor(db), { source: "ghsa", from: dir });
    expect(r).toMatchObject({ records: 3, written: 2, complete: false });
    expect(await ids("GHSA")).toEqual(["GHSA-2222-3333-4444", "GHSA-5555-6666-7777"]);
    const row = (await db.query<{ s: number; l: string[] }>("SELECT vuln_score AS s, vuln_references.link AS l FROM Vulnerabilities WHERE vuln_id = 'GHSA-2222-3333-4444'"))[0]!;
    expect(row.s).toBeCloseTo(9.8, 5);
    expect(row.l).toEqual(["CVE-2024-9999"]);
  });
});
