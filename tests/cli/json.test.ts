/**
 * One JSON key style (issue 10, item 17): every `--json` output uses snake_case keys like the
 * tables (table names used as keys stay as they are), stdout holds only the JSON, logs go to
 * stderr.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jsonText, snakeKey } from "../../src/models/json";
import { scratchDir } from "../fixtures/_util";
import { cli, newConfig } from "../helpers/cli";
import { corpusFile, hasCorpus } from "../rpm/_corpus";

// each test runs the CLI as a process several times; a busy machine makes that slow
setDefaultTimeout(300_000);

/** Every key at any depth, except those of `rows` (table names). */
function keysOf(v: unknown, out: string[] = [], parent = ""): string[] {
  if (Array.isArray(v)) for (const x of v) keysOf(x, out, parent);
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) {
      if (parent !== "rows") out.push(k);
      keysOf(x, out, k);
    }
  return out;
}

function jsonLines(stdout: string): unknown[] {
  return stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

function expectSnake(values: unknown[]) {
  expect(values.length).toBeGreaterThan(0);
  const camel = values.flatMap((v) => keysOf(v)).filter((k) => /^[a-z][a-z0-9]*[A-Z]/.test(k));
  expect(camel).toEqual([]);
}

let cfg: string;
beforeAll(() => {
  cfg = newConfig("cli-json", true);
});

describe("the key style helper", () => {
  test("lowerCamelCase becomes snake_case; table names, paths and snake_case stay", () => {
    expect(["taskId", "pkgHash", "unchangedFrom", "dryRun", "TaskLogs", "Specfiles_insert", "x86_64", "files/list", "pkg_hash"].map(snakeKey)).toEqual([
      "task_id", "pkg_hash", "unchanged_from", "dry_run", "TaskLogs", "Specfiles_insert", "x86_64", "files/list", "pkg_hash",
    ]);
    expect(JSON.parse(jsonText({ taskId: 1n << 60n, rows: { TaskLogs: 2 }, skipped: [{ lineNo: 3 }] }))).toEqual({
      task_id: String(1n << 60n), rows: { TaskLogs: 2 }, skipped: [{ line_no: 3 }],
    });
  });
});

describe("--json outputs", () => {
  test("db status", () => {
    const r = cli(cfg, ["db", "status", "--json"]);
    expect(r.code).toBe(0);
    const rows = jsonLines(r.stdout) as Record<string, unknown>[];
    expectSnake(rows);
    expect(rows[0]).toHaveProperty("applied_at");
  });

  test("task load of a missing and of an empty directory", () => {
    const r = cli(cfg, ["task", "load", "/nonexistent/tasks/1", scratchDir("cli-json-empty"), "--json"]);
    expect(r.code).toBe(1);
    expectSnake(jsonLines(r.stdout));
  });

  test("task clean", () => {
    const tasks = scratchDir("cli-json-tasks");
    Bun.spawnSync(["mkdir", "-p", join(tasks, "1", "task")]);
    const r = cli(cfg, ["task", "clean", tasks, "--task", "1", "--json"]);
    expect(r.code).toBe(0);
    const [report] = jsonLines(r.stdout) as Record<string, unknown>[];
    expectSnake([report]);
    expect(report).toHaveProperty("not_open", 1);
  });

  test.skipIf(!hasCorpus)("package load and rpm dump", () => {
    const rpm = corpusFile("alt-squidfw/squid-helpers-6.10-alt1.x86_64.rpm");
    const load = cli(cfg, ["package", "load", rpm, "/nonexistent/x.rpm", "--json"]);
    expect(load.code).toBe(1);
    const [report] = jsonLines(load.stdout) as { files: Record<string, unknown>[] }[];
    expectSnake([report]);
    expect(report.files.find((f) => f.path === rpm)).toHaveProperty("pkg_hash");
    const dump = cli(cfg, ["rpm", "dump", rpm, "--json"]);
    expect(dump.code).toBe(0);
    expectSnake(jsonLines(dump.stdout));
  }, 60_000);

  test("config check and daemon status", () => {
    expectSnake([JSON.parse(cli(cfg, ["config", "check", "--json"]).stdout)]);
    const daemonCfg = join(scratchDir("cli-json-daemon"), "altrepodb.toml");
    writeFileSync(daemonCfg, `[daemon]\nstate_dir = "${scratchDir("cli-json-state")}"\n[services.selftest]\n`);
    const status = cli(daemonCfg, ["daemon", "status", "--json", "--no-broker"]);
    expect(status.code).toBe(1);
    expectSnake([JSON.parse(status.stdout)]);
  });
});
