/**
 * The feed daemon services (acl, bugzilla, beehive, repocop, watch): their handlers on a migrated
 * database against the local feed server, then a real daemon process on the real RabbitMQ
 * loading the watch feed from a watch.load message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { loadConfig } from "../../src/config";
import type { Db } from "../../src/db";
import { decodeMessage } from "../../src/daemon/payload";
import { REGISTRY } from "../../src/daemon/services";
import type { IncomingMessage, ServiceContext } from "../../src/daemon/types";
import { InputError } from "../../src/loaders/errors";
import { FeedRefused } from "../../src/loaders/feeds";
import { log } from "../../src/log";
import { fireVerbs } from "../../src/cli/amqpfire";
import { BROKER_UP, makeVhost, until } from "../amqp/_broker";
import { daemonConfigText, scratch, TestClient } from "../daemon/_daemon";
import { CLI } from "../helpers/cli";
import { migratedDb } from "../helpers/context";
import { feedServer, type FeedServer } from "./_server";

const watchFile = (n: number) => Array.from({ length: n }, (_, k) => `maint${k % 7}\tpkg${k}\t1.${k}\t1.${k + 1}\thttps://example.org/pkg${k}/`).join("\n") + "\n";
const bugCsv = (rows: string[]) =>
  `bug_id,"bug_status","resolution","bug_severity","priority","product","version","rep_platform","component","assigned_to","reporter","short_desc","changeddate"\n${rows.join("\n")}\n`;

const bug = (id: number, status: string, assignee = "Ldv@altlinux.org") => ({
  id,
  status: { label: status },
  resolution: "",
  severity: "normal",
  priority: "P3",
  product: { name: "Sisyphus" },
  component: { name: "bash" },
  version: "unstable",
  platform: "all",
  assigned_to: { login: assignee },
  reporter: { login: "user@example.org" },
  summary: "it breaks",
});

describe("feed service handlers", () => {
  let db: Db;
  let srv: FeedServer;
  beforeAll(async () => {
    db = await migratedDb("feed_svc");
    srv = feedServer();
  }, 120_000);
  afterAll(async () => {
    srv?.stop();
    await db?.close();
  }, 60_000);

  async function call(service: string, routingKey: string, body: unknown) {
    const m = REGISTRY[service]!;
    const config = loadConfig({ env: {}, cwd: "/nonexistent" });
    (config.file as Record<string, unknown>).feeds = {
      watch: { url: `${srv.url}/watch`, min_fraction: 0.5, deadline: 5, timeout: 2, timezone: "UTC", stale_after: 3600, options: {} },
      bugzilla: { url: `${srv.url}/buglist.cgi`, min_fraction: 0.5, deadline: 10, timeout: 5, timezone: "UTC", stale_after: 3600, options: {} },
    };
    const ctx: ServiceContext = { service, db, config, options: v.parse(m.options, {}), log: log.child("test"), signal: new AbortController().signal };
    const msg: IncomingMessage = { routingKey, payload: decodeMessage(m, routingKey, JSON.stringify(body)), attempt: 1, source: "amqp" };
    return m.handle(ctx, msg);
  }
  const count = async (sql: string) => Number((await db.query<{ n: number }>(`SELECT count() AS n FROM ${sql}`))[0]!.n);

  test("watch.load loads the configured feed; again: skipped; shrunk: refused (dead-lettered), rows kept; unreachable: retried", async () => {
    srv.put("/watch/watch-total.txt", watchFile(50));
    const r = await call("watch", "watch.load", {});
    expect(r.summary).toContain("feed watch: ok, 50 records");
    expect(r.rows).toEqual({ PackagesWatch: 50 });
    expect((await call("watch", "watch.load", {})).skipped).toBe(true);
    srv.put("/watch/watch-total.txt", watchFile(5), new Date(Date.now() + 60_000));
    const refused = call("watch", "watch.load", {});
    await expect(refused).rejects.toBeInstanceOf(FeedRefused);
    await expect(refused).rejects.toBeInstanceOf(InputError);
    expect(await count("PackagesWatch")).toBe(50);
    srv.faults.set("/watch/watch-total.txt", "500");
    try {
      const failed = call("watch", "watch.load", { force: true });
      await expect(failed).rejects.toThrow();
      await expect(failed).rejects.not.toBeInstanceOf(InputError);
    } finally {
      srv.faults.delete("/watch/watch-total.txt");
    }
  }, 60_000);

  test("acl events: one Acl row each; missing fields or a bad timestamp are refused with the reason", async () => {
    const r = await call("acl", "acl.change", { _timestamp: "1660000000.5", repo: "sisyphus", target: "bash", new_owners: ["ldv", "@base"] });
    expect(r.rows).toEqual({ Acl: 1 });
    const rows = await db.query<{ d: string; f: string; b: string; l: string[] }>("SELECT toString(acl_date) AS d, acl_for AS f, acl_branch AS b, acl_list AS l FROM Acl");
    expect(rows).toEqual([{ d: "2022-08-08 23:06:40", f: "bash", b: "sisyphus", l: ["ldv", "@base"] }]);
    await expect(call("acl", "acl.change", { _timestamp: 1660000000, repo: "sisyphus", new_owners: [] })).rejects.toThrow(/invalid acl.change message: .*target/);
    await expect(call("acl", "acl.change", { _timestamp: "yesterday", repo: "p10", target: "x", new_owners: [] })).rejects.toThrow(InputError);
    await expect(call("acl", "acl.change", { _timestamp: 1, repo: "p10", target: "x" })).rejects.toThrow(/new_owners/);
  });

  test("bugzilla: a full load, then events update a known bug once; an unknown bug or a broken bug object is refused; other keys ignored", async () => {
    srv.put("/buglist.cgi", bugCsv([`100,"NEW","---","normal","P3","Sisyphus","unstable","all","bash","ldv@altlinux.org","user@example.org","it breaks","2026-12-01 10:00:00"`]));
    const full = await call("bugzilla", "bugzilla.load", {});
    expect(full.rows).toEqual({ Bugzilla: 1 });
    const event = (b: unknown, time = "2026-12-02T10:00:00Z") => ({ _meta: { time }, payload: { bug: b } });
    const r = await call("bugzilla", "bugzilla.bug.changed.status", event(bug(100, "ASSIGNED")));
    expect(r.rows).toEqual({ Bugzilla: 1 });
    expect((await call("bugzilla", "bugzilla.bug.changed.status", event(bug(100, "ASSIGNED")))).skipped).toBe(true);
    const c = await call("bugzilla", "bugzilla.comment.new", { _meta: { time: "2026-12-03T10:00:00+03:00" }, payload: { comment: { bug: bug(100, "RESOLVED") } } });
    expect(c.rows).toEqual({ Bugzilla: 1 });
    const latest = await db.query<{ s: string; a: string; t: string }>(
      "SELECT argMax(bz_status, ts) AS s, argMax(bz_assignee, ts) AS a, toString(argMax(bz_last_changed, ts)) AS t FROM Bugzilla WHERE bz_id = 100",
    );
    expect(latest).toEqual([{ s: "RESOLVED", a: "ldv@altlinux.org", t: "2026-12-03 07:00:00" }]);
    await expect(call("bugzilla", "bugzilla.bug.changed.status", event(bug(999, "NEW")))).rejects.toThrow(/bug 999 is not in the database/);
    await expect(call("bugzilla", "bugzilla.bug.changed.status", event({ id: 100 }))).rejects.toThrow(InputError);
    await expect(call("bugzilla", "bugzilla.bug.changed.status", { payload: {} })).rejects.toThrow(/_meta/);
    expect((await call("bugzilla", "bugzilla.attachment.new", { _meta: { time: "2026-12-03T10:00:00Z" }, payload: {} })).skipped).toBe(true);
    expect(await count("Bugzilla")).toBe(3);
  }, 60_000);

  test("routing keys and amqpfire verbs", () => {
    expect(REGISTRY.beehive!.schema("beehive.load")).toBeDefined();
    expect(REGISTRY.repocop!.schema("repocop.load")).toBeDefined();
    expect(REGISTRY.watch!.schema("watch.other")).toBeUndefined();
    expect(REGISTRY.acl!.defaults.routingKeys[0]).toBe("acl.load");
    expect(REGISTRY.bugzilla!.defaults.routingKeys[0]).toBe("bugzilla.load");
    const verbs = fireVerbs();
    for (const n of ["acl-load", "acl-event", "bugzilla-load", "beehive-load", "repocop-load", "watch-load"]) expect(verbs.has(n)).toBe(true);
    expect(verbs.get("watch-load")!.verb.build(["force"], loadConfig({ env: {}, cwd: "/nonexistent" }))).toEqual({ routingKey: "watch.load", payload: { force: true } });
    expect(verbs.get("acl-event")!.verb.build(["p10", "bash", "ldv"], loadConfig({ env: {}, cwd: "/nonexistent" })).payload).toMatchObject({ repo: "p10", target: "bash", new_owners: ["ldv"] });
    expect(() => verbs.get("beehive-load")!.verb.build(["now"], loadConfig({ env: {}, cwd: "/nonexistent" }))).toThrow("beehive-load takes [force]");
  });
});

describe.skipIf(!BROKER_UP)("watch service in a running daemon", () => {
  let vh: ReturnType<typeof makeVhost>;
  let client: TestClient;
  let srv: FeedServer;
  beforeAll(async () => {
    vh = makeVhost("feedsvc");
    client = await TestClient.forVhost(vh.vhost);
    srv = feedServer();
  }, 60_000);
  afterAll(async () => {
    srv?.stop();
    await client?.close();
    vh?.remove();
  }, 60_000);

  test("a watch.load message loads the feed from the local server, and is acknowledged", async () => {
    srv.put("/watch/watch-total.txt", watchFile(20));
    const dir = scratch("feed-daemon");
    const cfg = join(dir, "altrepodb.toml");
    writeFileSync(
      cfg,
      `[database]\ndriver = "embedded"\nname = "feedd"\n[database.embedded]\npath = "${join(dir, "db")}"\n` +
        `[feeds.watch]\nurl = "${srv.url}/watch"\ndeadline = 20\n` +
        daemonConfigText(vh.vhost, join(dir, "state"), `[services.watch]\nqueue = "watch-q"\nexchange = "feed-ex"\nmax_attempts = 2\nretry_delay = 0.2\n`),
    );
    const init = Bun.spawnSync([...CLI, "-c", cfg, "db", "init"], { stdout: "pipe", stderr: "pipe" });
    expect(init.exitCode).toBe(0);
    const p = Bun.spawn([...CLI, "-c", cfg, "daemon"], { stdout: Bun.file(join(dir, "daemon.log")), stderr: Bun.file(join(dir, "daemon.err")) });
    const status = () => JSON.parse(readFileSync(join(dir, "state", "status.json"), "utf8"));
    try {
      await until(() => {
        try {
          return status().services[0]?.state === "running";
        } catch {
          return false;
        }
      }, 30_000, "the daemon to run");
      await client.publish("feed-ex", "watch.load", {});
      await until(async () => (await client.depth("watch-q")) === 0, 30_000, "the queue to drain");
      await until(() => (status().services[0]?.counters?.done ?? status().services[0]?.done ?? 0) >= 1, 30_000, "the message to be done");
    } finally {
      p.kill("SIGTERM");
      await p.exited;
    }
    const q = Bun.spawnSync([...CLI, "-c", cfg, "sql", "SELECT count(), uniqExact(pkg_name) FROM PackagesWatch"], { stdout: "pipe", stderr: "pipe" });
    expect(q.stdout.toString()).toBe("20\t20\n");
    const st = Bun.spawnSync([...CLI, "-c", cfg, "feed", "status", "--json"], { stdout: "pipe", stderr: "pipe" });
    expect(JSON.parse(st.stdout.toString())).toMatchObject([{ feed: "watch", last_result: "ok", rows: 20 }]);
  }, 180_000);
});
