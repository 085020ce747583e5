/** feed load beehive against a local server laid out as git.altlinux.org/beehive. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertRows, type Db } from "../../src/db";
import { loadFeed } from "../../src/loaders/feeds";
import { splitNvr } from "../../src/loaders/feeds/beehive";
import type { LoadContext } from "../../src/loaders/context";
import { contextFor, migratedDb } from "../helpers/context";
import { feedServer, type FeedServer } from "./_server";

test.each([
  ["bash-5.2.21-alt1.src.rpm", { name: "bash", version: "5.2.21", release: "alt1" }],
  ["perl-Foo-Bar-1:0.5-alt2.src.rpm", { name: "perl-Foo-Bar", version: "0.5", release: "alt2" }],
  ["weird", { name: "weird", version: "", release: "" }],
])("splitNvr(%s)", (s, want) => {
  expect(splitNvr(s)).toEqual(want);
});

describe("beehive", () => {
  let db: Db;
  let srv: FeedServer;
  let ctx: LoadContext;
  const RUUID = "11111111-1111-1111-1111-111111111111";
  const SRPM = "22222222-2222-2222-2222-222222222222";
  beforeAll(async () => {
    db = await migratedDb("beehive");
    ctx = contextFor(db);
    (ctx.config.file as Record<string, unknown>).feeds = {
      beehive: { min_fraction: 0.5, deadline: 30, timeout: 10, timezone: "Europe/Moscow", stale_after: 86400, options: { branches: ["Sisyphus", "p11"], archs: ["x86_64"] } },
    };
    const pkgs = [
      { pkg_hash: 11n, pkg_name: "bash", pkg_version: "5.2.21", pkg_release: "alt1" },
      { pkg_hash: 12n, pkg_name: "zsh", pkg_version: "5.9", pkg_release: "alt1" },
      { pkg_hash: 13n, pkg_name: "fresh", pkg_version: "1.0", pkg_release: "alt1" }, // only in a task
    ];
    await insertRows(db, "Packages", pkgs.map((p) => ({ ...p, pkg_sourcepackage: 1, pkg_arch: "x86_64" })), ["pkg_hash", "pkg_name", "pkg_version", "pkg_release", "pkg_sourcepackage", "pkg_arch"]);
    await insertRows(db, "PackageSet", [11n, 12n].map((h) => ({ pkgset_uuid: SRPM, pkg_hash: h })));
    const node = (uuid: string, depth: number, name: string) => ({ pkgset_uuid: uuid, pkgset_puuid: RUUID, pkgset_ruuid: RUUID, pkgset_depth: depth, pkgset_nodename: name, pkgset_date: Date.UTC(2026, 10, 30) / 1000, pkgset_tag: "", pkgset_complete: 1, "pkgset_kv.k": [], "pkgset_kv.v": [] });
    await insertRows(db, "PackageSetName", [node(SRPM, 1, "srpm"), node(RUUID, 0, "sisyphus")]);
    await insertRows(db, "Tasks", [{ task_id: 5, subtask_id: 1, task_repo: "sisyphus" }], ["task_id", "subtask_id", "task_repo"]);
    await insertRows(db, "TaskIterations", [{ task_id: 5, subtask_id: 1, subtask_arch: "x86_64", titer_srcrpm_hash: 13n, titer_pkgs_hash: [] }], ["task_id", "subtask_id", "subtask_arch", "titer_srcrpm_hash", "titer_pkgs_hash"]);

    srv = feedServer();
    const t = new Date("2026-12-01T05:00:00Z"); // 08:00 in Moscow
    const base = "/beehive/logs/Sisyphus/x86_64/latest";
    srv.put(`${base}/time.list`, "bash-5.2.21-alt1.src.rpm\t97.5\nzsh-5.9-alt1.src.rpm\t12\nfresh-1.0-alt1.src.rpm\t3\nghost-1-alt1.src.rpm\t1\n", t);
    for (const f of ["bash-5.2.21-alt1.src.rpm", "fresh-1.0-alt1.src.rpm", "ghost-1-alt1.src.rpm"]) srv.put(`${base}/success/${f}`, "log", t);
    srv.put(`${base}/error/zsh-5.9-alt1.src.rpm`, "log", t);
    srv.put("/beehive/stats/Sisyphus/x86_64/ftbfs-since", "zsh\t1764000000\n", t);
  }, 120_000);
  afterAll(async () => {
    srv?.stop();
    await db?.close();
  }, 60_000);

  test("one bh_updated per run and arch, hashes from the set and the tasks, ftbfs-since for errors; p11 (404) skipped; rerun skips the stored run", async () => {
    const r = await loadFeed(ctx, { name: "beehive", source: `${srv.url}/beehive` });
    expect(r.result).toBe("ok");
    expect(r.written).toEqual({ BeehiveStatus: 3 });
    expect(r.rejected).toEqual([{ path: "Sisyphus/x86_64/ghost-1-alt1.src.rpm", error: "no such source package in the branch or its tasks" }]);
    expect(r.notes).toContain("p11/x86_64: not on the server (404), skipped");
    const rows = await db.query<{ n: string; s: string; u: number; f: number; h: bigint; b: string }>(
      "SELECT pkg_name AS n, toString(bh_status) AS s, toUnixTimestamp(bh_updated) AS u, toUnixTimestamp(bh_ftbfs_since) AS f, pkg_hash AS h, pkgset_name AS b FROM BeehiveStatus ORDER BY n",
    );
    const noonMoscow = Date.UTC(2026, 11, 1, 9, 0, 0) / 1000;
    expect(rows.map((x) => [x.n, x.s, Number(x.u), Number(x.f), BigInt(x.h), x.b])).toEqual([
      ["bash", "success", noonMoscow, noonMoscow, 11n, "sisyphus"],
      ["fresh", "success", noonMoscow, noonMoscow, 13n, "sisyphus"],
      ["zsh", "error", noonMoscow, 1764000000, 12n, "sisyphus"],
    ]);
    const again = await loadFeed(ctx, { name: "beehive", source: `${srv.url}/beehive`, force: false });
    expect(again.written.BeehiveStatus ?? 0).toBe(0);
  });

  // The API's Beehive queries (schema-newer-tables.md §4 entries 43, 44; one bh_updated per run
  // and arch, §3.3): the latest run of a package by hash, and the branch's errors of its latest run.
  test.each([
    ["43 last rebuild status by hash", "SELECT pkgset_name, bh_arch, bh_status, bh_build_time, bh_updated, bh_ftbfs_since FROM BeehiveStatus WHERE pkg_hash = 11 ORDER BY bh_updated DESC LIMIT 1 BY pkgset_name, bh_arch"],
    [
      "44 export/beehive/ftbfs",
      "SELECT pkg_name, pkg_version, pkg_release, bh_arch, bh_ftbfs_since FROM BeehiveStatus WHERE pkgset_name = 'sisyphus' AND bh_arch = 'x86_64' AND bh_status = 'error' AND bh_updated = (SELECT max(bh_updated) FROM BeehiveStatus WHERE pkgset_name = 'sisyphus' AND bh_arch = 'x86_64')",
    ],
  ])("API query %s returns rows", async (_name, sql) => {
    expect((await db.query(sql)).length).toBeGreaterThan(0);
  });
});
