/** The daemon's configuration: defaults, and refusals that name file:line:key (exit 2 at start). */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config";
import { REGISTRY } from "../../src/daemon/services";
import { resolveDaemonSettings } from "../../src/daemon/settings";

function settingsOf(text: string, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, "dcfg-"));
  const file = join(dir, "c.toml");
  writeFileSync(file, text);
  return { file, get: () => resolveDaemonSettings(loadConfig({ path: file, env }), REGISTRY, { HOME: dir, ...env }) };
}

function refusal(text: string): string {
  const s = settingsOf(text);
  try {
    s.get();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.replace(s.file, "FILE");
  }
  throw new Error("expected a ConfigError");
}

describe("daemon settings", () => {
  test("defaults from the service modules", () => {
    const s = settingsOf(`[services.repo]\n[services.task]\nworkers = 2\n`, { STATE_DIRECTORY: "/var/lib/altrepodb", RUNTIME_DIRECTORY: "/run/altrepodb" }).get();
    expect(s.statusFile).toBe("/run/altrepodb/status.json");
    expect(s.notifier.spoolDir).toBe("/var/lib/altrepodb/notifier");
    const [repo, task] = s.services;
    expect(repo.topology).toEqual({
      queue: "repo-loader-q",
      queueType: "quorum",
      exchange: "repodb-ex",
      declareExchange: true,
      routingKeys: ["repo.load"],
      deadLetterExchange: "altrepodb.dlx",
      deliveryLimit: 20,
      delaysMs: [30_000, 60_000, 120_000, 240_000],
    });
    expect(repo.options).toEqual({ validate_date: false, workers: 0 });
    expect(task.topology.routingKeys).toEqual(["task.state", "task.progress", "task.subtask.approve", "task.subtask.disapprove"]);
    expect(task.topology.exchange).toBe("girar-ex");
    expect(task.workers).toBe(2);
    expect(task.options).toEqual({ load_states: ["done", "eperm", "failed", "new", "tested"], progress_tables: true });
    expect(s.broker).toMatchObject({ host: "localhost", port: 5672, heartbeat: 60, password: "guest" });
  });

  test("without systemd directories the status file lives in the state dir", () => {
    const s = settingsOf(`[daemon]\nstate_dir = "/srv/state"\n[services.selftest]\n`).get();
    expect(s.statusFile).toBe("/srv/state/status.json");
  });

  test("an unknown service is refused with its line", () => {
    expect(refusal(`[services.repo]\n\n[services.bugzila]\nworkers = 1\n`)).toBe('FILE:3: services.bugzila: unknown service "bugzila" (known: acl, beehive, bugzilla, repo, repocop, selftest, task, vuln, watch)');
  });

  test("unknown keys in a service table and in its options", () => {
    expect(refusal(`[services.repo]\nworkrs = 2\n`)).toBe("FILE:2: services.repo.workrs: unknown key");
    expect(refusal(`[services.repo]\n[services.repo.options]\nvalidate_date = true\nthreads = 4\n`)).toBe("FILE:4: services.repo.options.threads: unknown key");
    expect(refusal(`[services.task.options]\nload_states = ["DONE"]\n`)).toContain("FILE:2: services.task.options.load_states.0: a lower-case state name");
  });

  test("routing keys the service does not take, bad schedules and schedule messages", () => {
    expect(refusal(`[services.repo]\nrouting_keys = ["repo.load", "repo.unload"]\n`)).toBe('FILE:2: services.repo.routing_keys.1: service repo does not take routing key "repo.unload" (takes repo.load)');
    expect(refusal(`[services.selftest]\nschedule = "hourly"\n`)).toContain('FILE:2: services.selftest.schedule: schedule "hourly": expected');
    expect(refusal(`[services.selftest]\nschedule = "every 1h"\nschedule_message = { idd = "x" }\n`)).toContain("FILE:3: services.selftest.schedule_message: invalid selftest.run message: id:");
  });

  test("two services on one queue, no service at all, inverted delays", () => {
    expect(refusal(`[services.repo]\nqueue = "q"\n[services.selftest]\nqueue = "q"\n`)).toContain("FILE:4: services.selftest.queue: queue q is already used by service repo");
    expect(refusal(`[services.repo]\nenabled = false\n`)).toContain("services: no service is enabled");
    expect(refusal(`[services.repo]\nretry_delay = 100\nretry_delay_max = 10\n`)).toContain("FILE:2: services.repo.retry_delay: must not exceed retry_delay_max");
    expect(refusal(`[amqp]\nheartbeat = 0\n[services.repo]\n`)).toContain("FILE:2: amqp.heartbeat");
  });

  test("the daemon command refuses such a config with exit code 2", async () => {
    const s = settingsOf(`[services.nosuch]\n`);
    const p = Bun.spawnSync([process.execPath, join(import.meta.dir, "../../src/cli/main.ts"), "-c", s.file, "daemon"], { stdout: "pipe", stderr: "pipe" });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain(`${s.file}:1: services.nosuch: unknown service "nosuch"`);
  });
});
