/**
 * errata build on a database holding tasks, packages with changelogs and package sets: the
 * expected ALT-PU and ALT-BU records; new versions and discards; ids from a local fake ErrataID
 * service or the local allocator; a service that is down creates nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertRows, type Db } from "../../src/db";
import { mmhash } from "../../src/hash";
import { buildErrata, findVulnIds, LocalIds, ServiceIds } from "../../src/loaders/errata";
import { contextFor, migratedDb } from "../helpers/context";

const day = (s: string) => Date.parse(`${s}T00:00:00Z`) / 1000;

describe("findVulnIds", () => {
  test.each([
    ["- fixed CVE-2024-12345 and cve-2023-0001", ["CVE-2023-0001", "CVE-2024-12345"], []],
    ["- BDU:2024-00001, OVE-20240101-0001, MFSA 2024-01", ["BDU:2024-00001", "MFSA-2024-01", "OVE-20240101-0001"], []],
    ["- typo CVE-2024-1 is not an id", [], ["CVE-2024-1"]],
    ["- see https://bugzilla.example.org/show_bug.cgi?id=CVE-2024-5555 for CVE-2024-0002", ["CVE-2024-0002"], ["CVE-2024-5555"]],
    ["- XCVE-2024-1234 is a word, not an id", [], []],
  ])("%s", (text, ids, ignored) => {
    expect(findVulnIds(text)).toEqual({ ids, ignored });
  });
});

/** A fake ErrataID service: ids per prefix and year, versions per id. */
function fakeService() {
  const numbers = new Map<string, number>();
  const versions = new Map<string, number>();
  let up = true;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      if (!up) return new Response("down", { status: 503 });
      const u = new URL(req.url);
      const route = u.pathname.split("/").pop();
      if (route === "check") return Response.json({ ok: true });
      if (route === "register") {
        const key = `${u.searchParams.get("prefix")}-${u.searchParams.get("year")}`;
        const n = (numbers.get(key) ?? 1000) + 1;
        numbers.set(key, n);
        versions.set(`${key}-${n}`, 1);
        return Response.json({ id: `${key}-${n}-1`, created: "2026-12-01T00:00:00", updated: "2026-12-01T00:00:00" });
      }
      if (route === "update" || route === "discard") {
        const name = u.searchParams.get("name")!;
        const v = (versions.get(name) ?? 0) + 1;
        versions.set(name, v);
        return Response.json({ id: `${name}-${v}`, created: "2026-12-01T00:00:00", updated: "2026-12-01T00:00:00" });
      }
      return new Response("no such route", { status: 404 });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/errataid/`,
    setUp: (v: boolean) => (up = v),
    stop: () => server.stop(true),
  };
}

async function pkg(db: Db, hash: bigint, name: string, version: string, release: string, log: [string, string, string][]): Promise<void> {
  await insertRows(
    db,
    "Packages",
    [
      {
        pkg_hash: hash,
        pkg_name: name,
        pkg_version: version,
        pkg_release: release,
        pkg_sourcepackage: 1,
        pkg_arch: "x86_64",
        "pkg_changelog.date": log.map(([d]) => day(d)),
        "pkg_changelog.name": log.map(() => "Packager <p@altlinux.org>"),
        "pkg_changelog.evr": log.map(([, evr]) => evr),
        "pkg_changelog.hash": log.map(([, , t]) => mmhash(t)),
      },
    ],
    ["pkg_hash", "pkg_name", "pkg_version", "pkg_release", "pkg_sourcepackage", "pkg_arch", "pkg_changelog.date", "pkg_changelog.name", "pkg_changelog.evr", "pkg_changelog.hash"],
  );
  await insertRows(db, "Changelog", log.map(([, , t]) => ({ chlog_hash: mmhash(t), chlog_text: t })));
}

async function snapshot(db: Db, branch: string, date: string, ruuid: string, srpm: string, hashes: bigint[]): Promise<void> {
  await insertRows(db, "PackageSet", hashes.map((h) => ({ pkgset_uuid: srpm, pkg_hash: h })));
  const node = (uuid: string, depth: number, name: string) => ({
    pkgset_uuid: uuid,
    pkgset_puuid: depth ? ruuid : "00000000-0000-0000-0000-000000000000",
    pkgset_ruuid: ruuid,
    pkgset_depth: depth,
    pkgset_nodename: name,
    pkgset_date: day(date),
    pkgset_tag: "",
    pkgset_complete: 1,
    "pkgset_kv.k": [],
    "pkgset_kv.v": [],
  });
  await insertRows(db, "PackageSetName", [node(srpm, 1, "srpm"), node(ruuid, 0, branch)]);
}

async function task(db: Db, id: number, changed: string, subtasks: [number, bigint, number?][]): Promise<void> {
  await insertRows(db, "TaskStates", [{ task_changed: day(changed), task_id: id, task_state: "DONE", task_runby: "u", task_depends: [], task_try: 1, task_eventlog_hash: [] }], [
    "task_changed",
    "task_id",
    "task_state",
    "task_runby",
    "task_depends",
    "task_try",
    "task_eventlog_hash",
  ]);
  await insertRows(
    db,
    "Tasks",
    subtasks.map(([sub]) => ({ task_id: id, subtask_id: sub, task_repo: "p10", task_owner: "u", task_changed: day(changed), subtask_changed: day(changed), subtask_deleted: 0, subtask_type: "gear" })),
    ["task_id", "subtask_id", "task_repo", "task_owner", "task_changed", "subtask_changed", "subtask_deleted", "subtask_type"],
  );
  await insertRows(
    db,
    "TaskIterations",
    subtasks.map(([sub, hash, iter]) => ({ task_id: id, task_changed: day(changed), subtask_id: sub, subtask_arch: "x86_64", titer_ts: day(changed), titer_status: "built", task_try: 1, task_iter: iter ?? 1, titer_srcrpm_hash: hash, titer_pkgs_hash: [] })),
    ["task_id", "task_changed", "subtask_id", "subtask_arch", "titer_ts", "titer_status", "task_try", "task_iter", "titer_srcrpm_hash", "titer_pkgs_hash"],
  );
}

describe("errata build", () => {
  let db: Db;
  let svc: ReturnType<typeof fakeService>;
  beforeAll(async () => {
    db = await migratedDb("errata_build");
    svc = fakeService();
    // p10 on 2026-11-01 had nettle 3.8; task 100 (2026-11-15) built nettle 3.9 and zlib 1.3.1;
    // the 2026-11-20 snapshot has both
    await pkg(db, 200n, "nettle", "3.8", "alt1", [
      ["2026-05-01", "3.8-alt1", "- 3.8 (fixes CVE-2023-0001)"],
      ["2025-05-01", "3.7-alt1", "- 3.7 (fixes CVE-2022-0001)"],
    ]);
    await pkg(db, 201n, "nettle", "3.9", "alt1", [
      ["2026-11-10", "3.9-alt1", "- 3.9 (fixes CVE-2024-0001, BDU:2024-00001; see https://nvd.nist.gov/vuln/detail/CVE-2023-9999)"],
      ["2026-05-01", "3.8-alt1", "- 3.8 (fixes CVE-2023-0001)"],
    ]);
    await pkg(db, 301n, "zlib", "1.3.1", "alt1", [["2026-11-10", "1.3.1-alt1", "- 1.3.1 (typo CVE-2024-1)"]]);
    await snapshot(db, "p10", "2026-11-01", "10000000-0000-0000-0000-000000000001", "10000000-0000-0000-0000-000000000002", [200n]);
    await task(db, 100, "2026-11-15", [
      [1, 201n],
      [2, 301n],
    ]);
    await snapshot(db, "p10", "2026-11-20", "20000000-0000-0000-0000-000000000001", "20000000-0000-0000-0000-000000000002", [201n, 301n]);
  }, 120_000);
  afterAll(async () => {
    svc?.stop();
    await db?.close();
  }, 60_000);

  const current = async () =>
    (
      await db.query<{ id: string; t: string; refs: string[]; task: number }>(
        `SELECT argMax(errata_id, errata_id_version) AS id, argMax(eh_type, errata_id_version) AS t, argMax(eh_references.link, errata_id_version) AS refs,
                argMax(task_id, errata_id_version) AS task FROM ErrataHistory GROUP BY errata_id_noversion ORDER BY id`,
      )
    ).map((r) => [r.id, r.t, r.refs]);

  test("a service that is down: the run fails and creates nothing", async () => {
    svc.setUp(false);
    await expect(buildErrata(contextFor(db), { ids: new ServiceIds(svc.url, 2000) })).rejects.toThrow("HTTP 503");
    expect(await current()).toEqual([]);
    svc.setUp(true);
  });

  test("ALT-PU from the new changelog entries only, ALT-BU referring to it; ids in URLs and typos not taken", async () => {
    const r = await buildErrata(contextFor(db), { ids: new ServiceIds(svc.url) });
    expect(r.created).toEqual(["ALT-PU-2026-1001-1", "ALT-BU-2026-1001-1"]);
    expect(r.ignored.map((i) => i.text).sort()).toEqual(["CVE-2023-9999", "CVE-2024-1"]);
    expect(await current()).toEqual([
      ["ALT-BU-2026-1001-1", "bulletin", ["ALT-PU-2026-1001-1"]],
      ["ALT-PU-2026-1001-1", "task", ["BDU:2024-00001", "CVE-2024-0001"]],
    ]);
    const pu = (await db.query<Record<string, unknown>>("SELECT * FROM ErrataHistory WHERE errata_id = 'ALT-PU-2026-1001-1'"))[0]!;
    expect(pu).toMatchObject({ eh_source: "changelog", pkg_name: "nettle", pkg_version: "3.9", pkgset_name: "p10", task_id: 100, subtask_id: 1, task_state: "DONE" });
    const changes = await db.query<{ t: string; e: string }>("SELECT ec_type AS t, errata_id AS e FROM ErrataChangeHistory ORDER BY e");
    expect(changes.map((c) => [c.t, c.e])).toEqual([
      ["create", "ALT-BU-2026-1001-1"],
      ["create", "ALT-PU-2026-1001-1"],
    ]);
  });

  test("a rerun writes nothing", async () => {
    const before = Number((await db.query<{ n: number }>("SELECT count() AS n FROM ErrataHistory"))[0]!.n);
    const r = await buildErrata(contextFor(db), { ids: new ServiceIds(svc.url) });
    expect(r).toMatchObject({ created: [], updated: [], discarded: [], unchanged: 2 });
    expect(Number((await db.query<{ n: number }>("SELECT count() AS n FROM ErrataHistory"))[0]!.n)).toBe(before);
  });

  test("a new iteration naming one more id updates the errata to version 2 (and its bulletin)", async () => {
    await pkg(db, 202n, "nettle", "3.9", "alt2", [
      ["2026-11-12", "3.9-alt2", "- fix CVE-2024-0002"],
      ["2026-11-10", "3.9-alt1", "- 3.9 (fixes CVE-2024-0001, BDU:2024-00001; see https://nvd.nist.gov/vuln/detail/CVE-2023-9999)"],
    ]);
    await task(db, 100, "2026-11-15", [[1, 202n, 2]]);
    const r = await buildErrata(contextFor(db), { task: 100, ids: new ServiceIds(svc.url) });
    expect(r.updated).toEqual(["ALT-PU-2026-1001-2"]);
    expect((await current()).find((c) => c[0] === "ALT-PU-2026-1001-2")![2]).toEqual(["BDU:2024-00001", "CVE-2024-0001", "CVE-2024-0002"]);
  });

  test("an iteration whose changelog names no id any more discards the errata", async () => {
    await pkg(db, 203n, "nettle", "3.9", "alt3", [["2026-11-13", "3.9-alt3", "- rebuild"]]);
    await task(db, 100, "2026-11-15", [[1, 203n, 3]]);
    const r = await buildErrata(contextFor(db), { task: 100, ids: new ServiceIds(svc.url) });
    expect(r.discarded).toEqual(["ALT-PU-2026-1001-3"]);
    const last = await db.query<{ t: string }>("SELECT ec_type AS t FROM ErrataChangeHistory WHERE errata_id = 'ALT-PU-2026-1001-3'");
    expect(last.map((x) => x.t)).toEqual(["discard"]);
    // and a rerun leaves it discarded without another row
    expect((await buildErrata(contextFor(db), { task: 100, ids: new ServiceIds(svc.url) })).discarded).toEqual([]);
  });

  test("local ids: numbers never reused, versions per id", async () => {
    const ids = new LocalIds(db);
    const a = await ids.register("ALT-PU", 2030);
    const b = await ids.register("ALT-PU", 2030);
    expect([a, b]).toEqual(["ALT-PU-2030-1-1", "ALT-PU-2030-2-1"]);
    expect(await ids.update(a)).toBe("ALT-PU-2030-1-2");
    expect(await ids.update("ALT-PU-2030-1-2")).toBe("ALT-PU-2030-1-3");
    expect(await ids.register("ALT-BU", 2030)).toBe("ALT-BU-2030-1-1");
  });
});

describe("errata build on a taskless branch", () => {
  let db: Db;
  beforeAll(async () => {
    db = await migratedDb("errata_taskless");
    await pkg(db, 200n, "nettle", "3.8", "alt1", [["2026-05-01", "3.8-alt1", "- 3.8 (fixes CVE-2023-0001)"]]);
    await pkg(db, 201n, "nettle", "3.9", "alt1", [
      ["2026-11-10", "3.9-alt1", "- 3.9 (fixes CVE-2024-0001)"],
      ["2026-05-01", "3.8-alt1", "- 3.8 (fixes CVE-2023-0001)"],
    ]);
    await snapshot(db, "p10_e2k", "2026-11-01", "30000000-0000-0000-0000-000000000001", "30000000-0000-0000-0000-000000000002", [200n]);
    await snapshot(db, "p10_e2k", "2026-11-20", "40000000-0000-0000-0000-000000000001", "40000000-0000-0000-0000-000000000002", [201n]);
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  }, 60_000);

  test("one ALT-PU per updated package (eh_type branch, no task), a bulletin referring to it; rerun writes nothing", async () => {
    const ids = new LocalIds(db);
    const r = await buildErrata(contextFor(db), { ids });
    expect(r.created).toEqual(["ALT-PU-2026-1-1", "ALT-BU-2026-1-1"]);
    const rows = await db.query<{ id: string; t: string; l: string[]; task: number; name: string; created: string }>(
      "SELECT errata_id AS id, eh_type AS t, eh_references.link AS l, task_id AS task, pkg_name AS name, toString(eh_created) AS created FROM ErrataHistory ORDER BY id",
    );
    expect(rows.map((x) => [x.id, x.t, x.l, Number(x.task), x.name, x.created])).toEqual([
      ["ALT-BU-2026-1-1", "bulletin", ["ALT-PU-2026-1-1"], 0, "", "2026-11-20 00:00:00"],
      ["ALT-PU-2026-1-1", "branch", ["CVE-2024-0001"], 0, "nettle", "2026-11-20 00:00:00"],
    ]);
    expect(await buildErrata(contextFor(db), { ids })).toMatchObject({ created: [], updated: [], unchanged: 2 });
  });
});
