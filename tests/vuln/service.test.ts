/**
 * The vuln daemon service: its handlers on a migrated database, then a real daemon process on
 * the real RabbitMQ loading a fixture NVD file from a vuln.load message.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { loadConfig } from "../../src/config";
import type { Db } from "../../src/db";
import { REGISTRY } from "../../src/daemon/services";
import type { IncomingMessage, ServiceContext } from "../../src/daemon/types";
import { log } from "../../src/log";
import { BROKER_UP, makeVhost, until } from "../amqp/_broker";
import { daemonConfigText, scratch, TestClient } from "../daemon/_daemon";
import { scratchDir } from "../fixtures/_util";
import { CLI } from "../helpers/cli";
import { migratedDb } from "../helpers/context";
import { cveItem, feedDoc } from "./_nvd";

describe("vuln service handlers", () => {
  let db: Db;
  let file: string;
  beforeAll(async () => {
    db = await migratedDb("vuln_svc");
    file = join(scratchDir("vuln-svc"), "nvd.json");
    writeFileSync(file, feedDoc([cveItem({ id: "CVE-2024-4242", v31: 5 })]));
  }, 120_000);
  afterAll(async () => {
    await db?.close();
  }, 60_000);

  function call(routingKey: string, body: unknown) {
    const m = REGISTRY.vuln!;
    const config = loadConfig({ env: {}, cwd: "/nonexistent" });
    const ctx: ServiceContext = { service: "vuln", db, config, options: v.parse(m.options, {}), log: log.child("test"), signal: new AbortController().signal };
    const msg: IncomingMessage = { routingKey, payload: v.parse(m.schema(routingKey)!, body), attempt: 1, source: "amqp" };
    return m.handle(ctx, msg);
  }

  test("vuln.load (+ match), again skipped; repo.load done → match; task.state not DONE → skipped", async () => {
    const r = await call("vuln.load", { source: "nvd", from: file, match: true });
    expect(r.summary).toContain("1 new or changed");
    expect(r.summary).toContain("vuln match");
    expect((await call("vuln.load", { source: "nvd", from: file })).skipped).toBe(true);
    // a done message for a branch without a complete package set is refused (dead-lettered)
    await expect(call("repo.load", { branch: "p10", date: "2026-11-20" })).rejects.toThrow("branch p10 has no complete package set");
    expect(await call("task.state", { taskid: 5, state: "tested" })).toEqual({ summary: "task 5 is tested: no errata", skipped: true });
  });

  test("payloads are validated", () => {
    const m = REGISTRY.vuln!;
    expect(() => v.parse(m.schema("vuln.load")!, { source: "oval" })).toThrow();
    expect(() => v.parse(m.schema("vuln.match")!, { branch: "../x" })).toThrow();
    expect(m.schema("nosuch.key")).toBeUndefined();
  });
});

describe.skipIf(!BROKER_UP)("vuln service in a running daemon", () => {
  let vh: ReturnType<typeof makeVhost>;
  let client: TestClient;
  beforeAll(async () => {
    vh = makeVhost("vuln");
    client = await TestClient.forVhost(vh.vhost);
  }, 60_000);
  afterAll(async () => {
    await client?.close();
    vh?.remove();
  }, 60_000);

  test("a vuln.load message is loaded once, and acknowledged", async () => {
    const dir = scratch("vuln-daemon");
    const nvd = join(dir, "nvd.json");
    writeFileSync(nvd, feedDoc([cveItem({ id: "CVE-2024-5151" }), cveItem({ id: "CVE-2024-5152" })]));
    const cfg = join(dir, "altrepodb.toml");
    writeFileSync(
      cfg,
      `[database]\ndriver = "embedded"\nname = "vulnd"\n[database.embedded]\npath = "${join(dir, "db")}"\n` +
        daemonConfigText(vh.vhost, join(dir, "state"), `[services.vuln]\nqueue = "vuln-q"\nexchange = "vuln-ex"\nmax_attempts = 2\nretry_delay = 0.2\n`),
    );
    const init = Bun.spawnSync([...CLI, "-c", cfg, "db", "init"], { stdout: "pipe", stderr: "pipe" });
    expect(init.exitCode).toBe(0);
    const logFile = join(dir, "daemon.log");
    const p = Bun.spawn([...CLI, "-c", cfg, "daemon"], { stdout: Bun.file(logFile), stderr: Bun.file(join(dir, "daemon.err")) });
    try {
      await until(() => {
        try {
          return JSON.parse(readFileSync(join(dir, "state", "status.json"), "utf8")).services[0]?.state === "running";
        } catch {
          return false;
        }
      }, 30_000, "the daemon to run");
      await client.publish("vuln-ex", "vuln.load", { source: "nvd", from: nvd });
      await until(async () => (await client.depth("vuln-q")) === 0, 30_000, "the queue to drain");
      await until(() => {
        const st = JSON.parse(readFileSync(join(dir, "state", "status.json"), "utf8"));
        return (st.services[0]?.counters?.done ?? st.services[0]?.done ?? 0) >= 1;
      }, 30_000, "the message to be done");
    } finally {
      p.kill("SIGTERM");
      await p.exited;
    }
    const q = Bun.spawnSync([...CLI, "-c", cfg, "sql", "SELECT vuln_id FROM Vulnerabilities ORDER BY vuln_id"], { stdout: "pipe", stderr: "pipe" });
    expect(q.stdout.toString()).toBe("CVE-2024-5151\nCVE-2024-5152\n");
    void readdirSync;
  }, 180_000);
});
