/** CPE parsing, range decisions and the pure matcher, with hand-computed expectations. */
import { describe, expect, test } from "bun:test";
import { CpeError, formatCpe, parseCpe, productKey, versionInRange, type CpeRange } from "../../src/cpe/index.ts";
import { CpeMatchIndex, matchKeyHash, matchPackages, type CpeMatchRow } from "../../src/cpe/match.ts";
import { mmhash } from "../../src/hash/index.ts";

const range = (over: Partial<CpeRange>): CpeRange => ({ version: "*", update: "*", start: "", startExcluded: false, end: "", endExcluded: false, ...over });

describe("parseCpe", () => {
  test("a 2.3 formatted string, escapes kept, round trip", () => {
    const s = "cpe:2.3:a:gnu:nettle:3.9\\-rc1:*:*:*:*:*:*:*";
    const c = parseCpe(s);
    expect(c.vendor).toBe("gnu");
    expect(c.product).toBe("nettle");
    expect(c.version).toBe("3.9\\-rc1");
    expect(formatCpe(c)).toBe(s);
    expect(productKey(c)).toBe("a:gnu:nettle");
  });
  test("an escaped colon stays inside its attribute", () => {
    expect(parseCpe("cpe:2.3:a:foo\\:bar:baz:1:*:*:*:*:*:*:*").vendor).toBe("foo\\:bar");
  });
  test("a 2.2 URI is converted, missing attributes become *", () => {
    const c = parseCpe("cpe:/a:openssl:openssl:1.1.1k");
    expect(formatCpe(c)).toBe("cpe:2.3:a:openssl:openssl:1\\.1\\.1k:*:*:*:*:*:*:*");
  });
  test.each([
    ["cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*", "11 attributes"],
    ["cpe:2.3:x:gnu:nettle:*:*:*:*:*:*:*:*", "part must be"],
    ["cpe:2.3:a::nettle:*:*:*:*:*:*:*:*", "empty vendor"],
    ["nettle", "not a CPE name"],
    ["cpe:2.4:a:gnu:nettle", "not a CPE name"],
  ])("%s is refused (%s)", (s, why) => {
    expect(() => parseCpe(s)).toThrow(CpeError);
    expect(() => parseCpe(s)).toThrow(why);
  });
});

describe("versionInRange", () => {
  test.each([
    // [version, range, expected]
    ["1.0", range({}), true], // * = every version
    ["1.0", range({ version: "-" }), true], // NA: a product without versions
    ["1.0", range({ version: "1.0" }), true],
    ["1.00", range({ version: "1.0" }), true], // rpmvercmp: leading zeros dropped
    ["1.0.1", range({ version: "1.0" }), false],
    ["1.0rc1", range({ version: "1.0", update: "rc1" }), true],
    ["1.0", range({ version: "1.0", update: "rc1" }), false],
    // including / excluding bounds, one bound only
    ["2.0", range({ start: "2.0" }), true],
    ["2.0", range({ start: "2.0", startExcluded: true }), false],
    ["1.9", range({ start: "2.0" }), false],
    ["3.0", range({ end: "3.0" }), true],
    ["3.0", range({ end: "3.0", endExcluded: true }), false],
    ["3.0.1", range({ end: "3.0" }), false],
    ["2.5", range({ start: "2.0", end: "3.0", endExcluded: true }), true],
    ["3.0", range({ start: "2.0", end: "3.0", endExcluded: true }), false],
    // ~ and ^ as rpm orders them: 3.0~rc1 is before 3.0, 3.0^git1 after it
    ["3.0~rc1", range({ end: "3.0", endExcluded: true }), true],
    ["3.0^git1", range({ end: "3.0" }), false],
    ["3.0^git1", range({ end: "3.0.1", endExcluded: true }), true],
    // digits are numbers, not text
    ["10.0", range({ end: "9.9" }), false],
    ["1.10", range({ start: "1.9", startExcluded: true }), true],
  ] as const)("%s in %j → %s", (v, r, want) => {
    expect(versionInRange(v, r)).toBe(want);
  });
});

const row = (over: Partial<CpeMatchRow>): CpeMatchRow => ({
  vuln_id: "CVE-2024-0001",
  vuln_hash: 11n,
  cpe_hash: mmhash(over.cpm_cpe ?? "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*"),
  cpm_cpe: "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*",
  cpm_version_start: "",
  cpm_version_end: "",
  cpm_version_start_excluded: 0,
  cpm_version_end_excluded: 0,
  cpm_version_hash: 22n,
  ...over,
});

describe("matchPackages", () => {
  const index = new CpeMatchIndex();
  index.add(row({ cpm_version_end: "3.9.1", cpm_version_end_excluded: 1 }));
  index.add(row({ vuln_id: "CVE-2024-0002", vuln_hash: 12n, cpm_cpe: "cpe:2.3:a:gnu:nettle:3.7:*:*:*:*:*:*:*" }));
  index.add(row({ vuln_id: "CVE-2024-0003", vuln_hash: 13n, cpm_cpe: "cpe:2.3:a:gnu:nettle2:*:*:*:*:*:*:*:*" })); // another product
  index.add(row({ vuln_id: "CVE-2024-0004", vuln_hash: 14n, cpm_cpe: "cpe:2.3:o:gnu:nettle:*:*:*:*:*:*:*:*" })); // another part
  index.add(row({ vuln_id: "CVE-2024-0005", cpm_cpe: "garbage" }));

  test("equal products only; is_vulnerable by version; bad CPEs counted", () => {
    const pkgCpe = "cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*";
    const { rows, badPackageCpes } = matchPackages(
      [
        { pkg_hash: 1n, pkg_name: "nettle", pkg_version: "3.9", cpes: [pkgCpe] },
        { pkg_hash: 2n, pkg_name: "nettle-old", pkg_version: "3.7", cpes: [pkgCpe, "not-a-cpe"] },
        { pkg_hash: 3n, pkg_name: "unrelated", pkg_version: "1.0", cpes: ["cpe:2.3:a:gnu:nett:*:*:*:*:*:*:*:*"] },
      ],
      index,
    );
    expect(index.bad.map((b) => b.cpe)).toEqual(["garbage"]);
    expect(badPackageCpes).toEqual([{ pkg_name: "nettle-old", cpe: "not-a-cpe", error: expect.stringContaining("not a CPE name") }]);
    expect(rows.map((r) => [r.pkg_name, r.vuln_id, r.is_vulnerable])).toEqual([
      ["nettle", "CVE-2024-0001", 1],
      ["nettle", "CVE-2024-0002", 0],
      ["nettle-old", "CVE-2024-0001", 1],
      ["nettle-old", "CVE-2024-0002", 1],
    ]);
    const r0 = rows[0]!;
    expect(r0.pkg_cpe_hash).toBe(mmhash(pkgCpe));
    expect(r0.key_hash).toBe(matchKeyHash(1n, mmhash(pkgCpe), 11n, r0.cpm_cpe_hash, 22n));
  });

  test("the same input gives the same rows (rerun adds nothing new)", () => {
    const pkgs = [{ pkg_hash: 1n, pkg_name: "nettle", pkg_version: "3.9", cpes: ["cpe:2.3:a:gnu:nettle:*:*:*:*:*:*:*:*"] }];
    expect(matchPackages(pkgs, index).rows).toEqual(matchPackages(pkgs, index).rows);
  });
});
