/**
 * feed load / feed status through the same loader function the CLI and daemon call, against a
 * real HTTP server on 127.0.0.1 (ETag, 304, listings, faults) and local mirrors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { FeedRefused, feedStatus, loadFeed } from "../../src/loaders/feeds";
import { csvBody, csvRows } from "../../src/loaders/feeds/csv";
import { parseListing } from "../../src/loaders/feeds/listing";
import { zonedToEpoch } from "../../src/loaders/feeds/time";
import type { LoadContext } from "../../src/loaders/context";
import { scratchDir } from "../fixtures/_util";
import { CLI } from "../helpers/cli";
import { contextFor, migratedDb } from "../helpers/context";
import { feedServer, type FeedServer } from "./_server";

const watchLine = (k: number) => `maint${k % 7}\tpkg${k}\t1.${k}\t1.${k + 1}\thttps://example.org/pkg${k}/`;
const watchFile = (n: number, extra = "") => Array.from({ length: n }, (_, k) => watchLine(k)).join("\n") + "\n" + extra;

describe("pieces", () => {
  test("zoned times: Moscow is UTC+3, Berlin has DST", () => {
    expect(zonedToEpoch(2026, 12, 1, 15, 0, 0, "Europe/Moscow")).toBe(Date.UTC(2026, 11, 1, 12, 0, 0) / 1000);
    expect(zonedToEpoch(2026, 7, 1, 12, 0, 0, "Europe/Berlin")).toBe(Date.UTC(2026, 6, 1, 10, 0, 0) / 1000);
    expect(zonedToEpoch(2026, 1, 1, 12, 0, 0, "Europe/Berlin")).toBe(Date.UTC(2026, 0, 1, 11, 0, 0) / 1000);
  });
  test("CSV: quotes, doubled quotes, line breaks inside quotes", () => {
    const rows = [...csvRows('a,b,c\r\n1,"x, ""y""","multi\nline"\n2,,\n')];
    expect(rows).toEqual([
      { line: 1, fields: ["a", "b", "c"] },
      { line: 2, fields: ["1", 'x, "y"', "multi\nline"] },
      { line: 4, fields: ["2", "", ""] },
    ]);
  });
  test("CSV read a slice at a time gives the same records at every slice size; an open quote at the end is an error", () => {
    const text = 'a,b,c\r\n1,"x, ""y""","multi\nline"\n\n2,,\r\n"ü ""q""",ä,"€\r\nz"\n3,"",x';
    const whole = [...csvRows(text)];
    expect(whole.length).toBe(5);
    const body = new TextEncoder().encode(text);
    for (let slice = 1; slice <= body.length; slice++) expect([...csvBody(body, slice)]).toEqual(whole);
    expect(() => [...csvBody(new TextEncoder().encode('1,"open\n2,3\n'), 4)]).toThrow(/line 1: a quoted field is not closed/);
  });
  test("listings: names from hrefs, times in the zone; an error page is not a listing", () => {
    const html = `<html><head><title>Index of /acl/</title></head><body><h1>Index of /acl/</h1><hr><pre><a href="../">../</a>
<a href="list.packages.p10">list.packages.p10</a>                03-Dec-2026 10:00    1234
<a href="sub/">sub/</a>                                           03-Dec-2026 11:30       -
<a href="list.groups.sisyphus%2B">list.groups.sisyphus+</a>          2026-12-03 09:15:07    12
</pre></body></html>`;
    expect(parseListing(html, "UTC", "x")).toEqual([
      { name: "list.packages.p10", modified: Date.UTC(2026, 11, 3, 10, 0) / 1000 },
      { name: "sub/", modified: Date.UTC(2026, 11, 3, 11, 30) / 1000 },
      { name: "list.groups.sisyphus+", modified: Date.UTC(2026, 11, 3, 9, 15, 7) / 1000 },
    ]);
    expect(() => parseListing("<html><title>502</title></html>", "UTC", "x")).toThrow("not a directory listing");
  });
});

describe("feeds", () => {
  let db: Db;
  let srv: FeedServer;
  let ctx: LoadContext;
  beforeAll(async () => {
    db = await migratedDb("feeds");
    srv = feedServer();
    ctx = contextFor(db);
    // fast gates and deadlines for the fault cases
    (ctx.config.file as Record<string, unknown>).feeds = {
      watch: { min_fraction: 0.5, deadline: 3, timeout: 2, timezone: "UTC", stale_after: 3600, options: {} },
      bugzilla: { min_fraction: 0.5, deadline: 30, timeout: 10, timezone: "Europe/Moscow", stale_after: 3600, options: {} },
    };
  }, 120_000);
  afterAll(async () => {
    srv?.stop();
    await db?.close();
  }, 60_000);
  const count = async (sql: string) => Number((await db.query<{ n: number }>(`SELECT count() AS n FROM ${sql}`))[0]!.n);

  test("watch: loaded; an unchanged file costs one conditional request and writes nothing", async () => {
    srv.put("/watch/watch-total.txt", watchFile(100, "broken line without tabs\n"));
    const r = await loadFeed(ctx, { name: "watch", source: `${srv.url}/watch` });
    expect(r).toMatchObject({ result: "ok", records: 100, written: { PackagesWatch: 100 } });
    expect(r.rejected).toEqual([{ path: "watch-total.txt:101", error: "1 fields, expected 5" }]);
    expect(await count("PackagesWatch")).toBe(100);
    const before = srv.requests.length;
    const again = await loadFeed(ctx, { name: "watch", source: `${srv.url}/watch` });
    expect(again).toMatchObject({ result: "unchanged", written: {} });
    expect(srv.requests.slice(before)).toEqual([{ path: "/watch/watch-total.txt", status: 304 }]);
    expect(await count("PackagesWatch")).toBe(100);
  });

  test("watch: a feed that shrank by 90% is refused; the previous rows stay current", async () => {
    srv.put("/watch/watch-total.txt", watchFile(10), new Date("2026-12-02T10:00:00Z"));
    await expect(loadFeed(ctx, { name: "watch", source: `${srv.url}/watch` })).rejects.toThrow(FeedRefused);
    expect(await count("PackagesWatch")).toBe(100);
    const [st] = await feedStatus(ctx, ["watch"]);
    expect(st).toMatchObject({ last_result: "refused", rows: 100, failed: true });
    // --force takes it anyway
    expect((await loadFeed(ctx, { name: "watch", source: `${srv.url}/watch`, force: true })).result).toBe("ok");
  });

  test.each([
    ["html", "an HTML page where data was expected"],
    ["500", "HTTP 500"],
    ["slow", "deadline"],
    ["truncated", ""],
  ] as const)("watch: %s → failed, nothing written, status says so", async (fault, why) => {
    const before = await count("PackagesWatch");
    srv.faults.set("/watch/watch-total.txt", fault);
    try {
      const started = Date.now();
      await expect(loadFeed(ctx, { name: "watch", source: `${srv.url}/watch`, force: true })).rejects.toThrow(why);
      expect(Date.now() - started).toBeLessThan(20_000); // the deadline ended it, not the server
    } finally {
      srv.faults.delete("/watch/watch-total.txt");
    }
    expect(await count("PackagesWatch")).toBe(before);
    const [st] = await feedStatus(ctx, ["watch"]);
    expect(st!.last_result).toBe("failed");
  }, 60_000);

  test("acl: every list of the listing; unchanged lists are not written again; a changed one is", async () => {
    srv.put("/acl/list.packages.p10", "bash\t@base ldv\nzsh\tldv\nbroken-no-tab\n", new Date("2026-12-01T08:00:00Z"));
    srv.put("/acl/list.groups.p10", "@base\tldv george\n", new Date("2026-12-01T08:00:00Z"));
    srv.put("/acl/README", "not a list");
    const r = await loadFeed(ctx, { name: "acl", source: `${srv.url}/acl` });
    expect(r).toMatchObject({ result: "ok", records: 3, written: { Acl: 3 } });
    expect(r.rejected).toEqual([{ path: "list.packages.p10:3", error: "no TAB between the name and the list" }]);
    const rows = await db.query<{ f: string; l: string[]; d: string }>("SELECT acl_for AS f, acl_list AS l, toString(acl_date) AS d FROM Acl ORDER BY f");
    expect(rows.map((x) => [x.f, x.l, x.d])).toEqual([
      ["@base", ["ldv", "george"], "2026-12-01 08:00:00"],
      ["bash", ["@base", "ldv"], "2026-12-01 08:00:00"],
      ["zsh", ["ldv"], "2026-12-01 08:00:00"],
    ]);
    expect((await loadFeed(ctx, { name: "acl", source: `${srv.url}/acl` })).result).toBe("unchanged");
    srv.put("/acl/list.packages.p10", "bash\t@base ldv\nzsh\tldv amakeenk\n", new Date("2026-12-02T08:00:00Z"));
    const r2 = await loadFeed(ctx, { name: "acl", source: `${srv.url}/acl` });
    expect(r2.written).toEqual({ Acl: 1 });
  });

  test("bugzilla: CSV in the configured zone, logins lower case, only changed bugs written", async () => {
    const header = '"Bug ID","Status","Resolution","Severity","Priority","Product","Version","Platform","Component","Assignee","Reporter","Summary","Changed"\n';
    const bug = (id: number, status: string, summary: string) => `${id},"${status}"," ---","normal","P3","Sisyphus","unstable","all","bash","LDV@altlinux.org","User@Example.com","${summary.replace(/"/g, `""`)}","2026-12-01 15:00:00"\n`;
    srv.put("/bz/buglist.cgi", header + bug(1, "NEW", 'crash with "quotes"\nand a second line') + bug(2, "NEW", "two") + "3,too,few\n");
    const r = await loadFeed(ctx, { name: "bugzilla", source: `${srv.url}/bz/buglist.cgi` });
    expect(r).toMatchObject({ result: "ok", records: 2, written: { Bugzilla: 2 } });
    expect(r.rejected[0]!.error).toBe("3 fields, expected 13");
    const row = (await db.query<Record<string, unknown>>("SELECT bz_assignee, bz_reporter, bz_resolution, bz_summary, toUnixTimestamp(bz_last_changed) AS t FROM Bugzilla WHERE bz_id = 1"))[0]!;
    expect(row).toMatchObject({ bz_assignee: "ldv@altlinux.org", bz_reporter: "user@example.com", bz_resolution: "", bz_summary: 'crash with "quotes"\nand a second line' });
    expect(Number(row.t)).toBe(Date.UTC(2026, 11, 1, 12, 0, 0) / 1000); // 15:00 Moscow
    srv.put("/bz/buglist.cgi", header + bug(1, "NEW", 'crash with "quotes"\nand a second line') + bug(2, "RESOLVED", "two"));
    const r2 = await loadFeed(ctx, { name: "bugzilla", source: `${srv.url}/bz/buglist.cgi` });
    expect(r2.written).toEqual({ Bugzilla: 1 });
    expect(srv.requests.some((q) => q.path === "/bz/buglist.cgi")).toBe(true);
  });

  test("bugzilla from a local CSV file (the source is the file itself)", async () => {
    const file = join(scratchDir("bz-file"), "bugs.csv");
    writeFileSync(file, '"Bug ID","Status","Resolution","Severity","Priority","Product","Version","Platform","Component","Assignee","Reporter","Summary","Changed"\n7,"NEW"," ---","normal","P3","Sisyphus","unstable","all","zsh","a@b.c","d@e.f","from a file","2026-12-01 10:00:00"\n');
    const r = await loadFeed(ctx, { name: "bugzilla", source: file, dryRun: true });
    expect(r).toMatchObject({ result: "dry-run", records: 1 });
  });

  test("repocop: a bzip2 JSON array; records with missing keys rejected", async () => {
    const rec = (n: string) => ({ pkg_name: n, pkg_version: "1", pkg_release: "alt1", pkg_arch: "x86_64", pkgset_name: "sisyphus", rc_srcpkg_name: n, rc_srcpkg_version: "1", rc_srcpkg_release: "alt1", rc_test_name: "t", rc_test_status: "ok", rc_test_message: "" });
    const json = JSON.stringify([rec("a"), rec("b"), { pkg_name: "c" }]);
    const bz = Bun.spawnSync(["bzip2", "-c"], { stdin: Buffer.from(json) }).stdout;
    srv.put("/repocop/packages.altlinux-sisyphus.json.bz2", new Uint8Array(bz));
    const r = await loadFeed(ctx, { name: "repocop", source: `${srv.url}/repocop` });
    expect(r).toMatchObject({ result: "ok", records: 2, written: { PackagesRepocop: 2 } });
    expect(r.rejected[0]!.error).toContain("pkg_version");
    expect((await loadFeed(ctx, { name: "repocop", source: `${srv.url}/repocop` })).result).toBe("unchanged");
  });

  test("spdx from a local copy of license-list-data json/; license aliases from a file; reruns write nothing", async () => {
    const dir = scratchDir("spdx");
    mkdirSync(join(dir, "details"), { recursive: true });
    mkdirSync(join(dir, "exceptions"), { recursive: true });
    writeFileSync(join(dir, "licenses.json"), JSON.stringify({ licenseListVersion: "3.25", licenses: [{ licenseId: "MIT" }, { licenseId: "GPL-2.0-or-later" }, { licenseId: "../etc" }] }));
    writeFileSync(join(dir, "details", "MIT.json"), JSON.stringify({ licenseId: "MIT", name: "MIT License", licenseText: "Permission is hereby granted…", seeAlso: ["https://opensource.org/license/mit/"] }));
    writeFileSync(join(dir, "details", "GPL-2.0-or-later.json"), JSON.stringify({ licenseId: "GPL-2.0-or-later", name: "GNU GPL v2.0 or later", licenseText: "GPL…", standardLicenseHeader: "hdr", seeAlso: [] }));
    writeFileSync(join(dir, "exceptions.json"), JSON.stringify({ exceptions: [{ licenseExceptionId: "Classpath-exception-2.0" }] }));
    writeFileSync(join(dir, "exceptions", "Classpath-exception-2.0.json"), JSON.stringify({ licenseExceptionId: "Classpath-exception-2.0", name: "Classpath exception 2.0", licenseExceptionText: "Linking…", seeAlso: [] }));
    const r = await loadFeed(ctx, { name: "spdx", source: dir });
    expect(r).toMatchObject({ result: "ok", records: 3, written: { SPDXLicenses: 3 } });
    expect(r.rejected).toEqual([{ path: "licenses.json", error: 'entry with bad licenseId "../etc"' }]);
    const types = await db.query<{ t: string; n: number }>("SELECT toString(spdx_type) AS t, count() AS n FROM SPDXLicenses GROUP BY t ORDER BY t");
    expect(types.map((x) => [x.t, Number(x.n)])).toEqual([
      ["exception", 1],
      ["license", 2],
    ]);
    expect((await loadFeed(ctx, { name: "spdx", source: dir, force: true })).written).toEqual({ SPDXLicenses: 0 });

    const aliases = join(dir, "license_aliases.json");
    writeFileSync(aliases, JSON.stringify([{ alias: "AGPL-3.0+", spdx_id: "AGPL-3.0-or-later" }, { alias: "BSD", spdx_id: "BSD-3-Clause" }, { alias: "", spdx_id: "x" }]));
    const a = await loadFeed(ctx, { name: "license-aliases", source: aliases });
    expect(a).toMatchObject({ records: 2, written: { LicenseAliases: 2 } });
    expect((await loadFeed(ctx, { name: "license-aliases", source: aliases, force: true })).written).toEqual({ LicenseAliases: 0 });
  });

  test("feed status: per feed result, rows and staleness", async () => {
    const st = await feedStatus(ctx);
    expect(st.map((s) => s.feed)).toEqual(["acl", "bugzilla", "license-aliases", "repocop", "spdx", "watch"]);
    const acl = st.find((s) => s.feed === "acl")!;
    expect(acl).toMatchObject({ last_result: "ok", stale: false, failed: false });
    expect(st.find((s) => s.feed === "watch")!.failed).toBe(true);
  });

  // The API's queries over the feed tables (schema-newer-tables.md §4, entries 40–50; written
  // from the catalogue's tables and §3.3's semantics): each returns rows on the fixtures above.
  test.each([
    ["40 acl/by_packages", "SELECT acl_for, argMax(acl_list, acl_date) AS acl_list, max(acl_date) FROM Acl WHERE acl_branch = 'p10' AND acl_for IN ('bash', 'zsh') GROUP BY acl_for"],
    ["41 acl/maintainer_groups", "SELECT acl_for FROM last_acl WHERE acl_branch = 'p10' AND acl_for LIKE '@%' AND has(acl_list, 'ldv')"],
    ["42 maintainer_packages by acl (groups expanded)", "SELECT * FROM last_acl_with_groups WHERE acl_branch = 'p10' AND acl_user = 'ldv'"],
    ["45 bug/bugzilla_by_package", "SELECT bz_id, argMax(bz_status, ts), argMax(bz_assignee, ts), argMax(bz_summary, ts), argMax(bz_last_changed, ts) FROM Bugzilla WHERE bz_component IN ('bash') GROUP BY bz_id"],
    ["46 repocop_by_maintainer", "SELECT pkg_name, rc_test_name, argMax(rc_test_status, rc_test_date), max(rc_test_date) FROM PackagesRepocop WHERE pkgset_name = 'sisyphus' AND rc_srcpkg_name IN ('a', 'b') GROUP BY pkg_name, rc_test_name"],
    ["47 watch_by_maintainer (latest day)", "SELECT acl, pkg_name, old_version, new_version, url FROM PackagesWatch WHERE date_update = (SELECT max(date_update) FROM PackagesWatch) AND acl = 'maint1'"],
    ["49 license/info", "SELECT spdx_id, spdx_name, spdx_text, spdx_header, spdx_urls, spdx_type FROM SPDXLicenses WHERE spdx_id = 'MIT'"],
    ["50 license aliases", "SELECT alias, spdx_id FROM LicenseAliases"],
  ])("API query %s returns rows", async (_name, sql) => {
    expect((await db.query(sql)).length).toBeGreaterThan(0);
  });
});

describe("altrepodb feed (CLI)", () => {
  test("an unknown feed is refused naming the known ones; status of an empty database exits 0", () => {
    const cfg = join(scratchDir("feed-cli"), "altrepodb.toml");
    writeFileSync(cfg, `[database.embedded]\npath = "${join(scratchDir("feed-cli-db"), "db")}"\n`);
    expect(Bun.spawnSync([...CLI, "-c", cfg, "db", "init"]).exitCode).toBe(0);
    const bad = Bun.spawnSync([...CLI, "-c", cfg, "feed", "load", "nosuch"], { stderr: "pipe" });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr.toString()).toContain("unknown feed");
    const st = Bun.spawnSync([...CLI, "-c", cfg, "feed", "status", "--json"], { stdout: "pipe", stderr: "pipe" });
    expect(st.exitCode).toBe(0);
    expect(st.stdout.toString().trim()).toBe("[]");
  }, 120_000);
});

describe("repology", () => {
  let db: Db;
  let srv: FeedServer;
  let ctx: LoadContext;
  beforeAll(async () => {
    db = await migratedDb("repology");
    srv = feedServer();
    ctx = contextFor(db);
    (ctx.config.file as Record<string, unknown>).feeds = { repology: { min_fraction: 0.5, deadline: 30, timeout: 10, timezone: "UTC", stale_after: 86400, options: { repos: ["altsisyphus"], interval: 0 } } };
    const pkg = (repo: string, srcname: string, version: string, status: string) => ({ repo, srcname, visiblename: srcname, version, status });
    // two pages: the second starts at the first page's last project
    srv.put(
      "/repology/api/v1/projects/",
      JSON.stringify({ bash: [pkg("altsisyphus", "bash5", "5.2", "newest"), pkg("debian_13", "bash", "5.2", "newest")], nettle: [pkg("altsisyphus", "nettle", "3.9", "outdated"), pkg("arch", "nettle", "3.10", "newest")] }),
    );
    srv.put("/repology/api/v1/projects/nettle/", JSON.stringify({ nettle: [pkg("altsisyphus", "nettle", "3.9", "outdated"), pkg("arch", "nettle", "3.10", "newest")], zlib: [pkg("alt_p10", "zlib", "1.3", "newest")] }));
    srv.put("/repology/api/v1/projects/zlib/", JSON.stringify({ zlib: [pkg("alt_p10", "zlib", "1.3", "newest")] }));
  }, 120_000);
  afterAll(async () => {
    srv?.stop();
    await db?.close();
  }, 60_000);

  test("pages followed; one row per (source package, project, repo); newest versions; a rerun writes nothing", async () => {
    const r = await loadFeed(ctx, { name: "repology", source: `${srv.url}/repology/api/v1` });
    expect(r).toMatchObject({ result: "ok", records: 3, written: { PackagesNameConversion: 3, RepologyLatestVersions: 3 } });
    const pnc = await db.query<{ p: string; r: string; t: string }>("SELECT pkg_name AS p, pnc_result AS r, toString(pnc_type) AS t FROM PackagesNameConversion ORDER BY p");
    expect(pnc.map((x) => [x.p, x.r, x.t])).toEqual([
      ["bash5", "bash", "altsisyphus"],
      ["nettle", "nettle", "altsisyphus"],
      ["zlib", "zlib", "alt_p10"],
    ]);
    const ua = srv.requests.length;
    expect(ua).toBeGreaterThanOrEqual(3);
    const again = await loadFeed(ctx, { name: "repology", source: `${srv.url}/repology/api/v1`, force: true });
    expect(again.written).toEqual({ PackagesNameConversion: 0, RepologyLatestVersions: 0 });
  });

  test.each([
    ["48 last_repology_name_conversion", "SELECT pkg_name, argMax(pnc_result, ts) AS project FROM PackagesNameConversion WHERE pnc_source = 'repology' AND pnc_type = 'altsisyphus' GROUP BY pkg_name HAVING argMax(pnc_state, ts) = 'active'"],
    ["61 package_name_from_repology", "SELECT pnc_result, pnc_type FROM PackagesNameConversion WHERE pkg_name = 'bash5' AND pnc_state = 'active'"],
    ["RepologyLatestVersions", "SELECT rlv_project, argMax(rlv_version, ts) FROM RepologyLatestVersions GROUP BY rlv_project"],
  ])("API query %s returns rows", async (_name, sql) => {
    expect((await db.query(sql)).length).toBeGreaterThan(0);
  });
});
