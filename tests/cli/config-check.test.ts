/**
 * `altrepodb config check` (issue 10, item 16): credentials masked everywhere, the daemon's own
 * validation, a warning for an unwritable log file, and a complete TOML that, loaded again by our
 * config loader, gives the same effective configuration.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";
import { scratchDir } from "../fixtures/_util";
import { cli } from "../helpers/cli";

// each test runs the CLI as a process several times; a busy machine makes that slow
setDefaultTimeout(300_000);

function configFile(text: string): { dir: string; path: string } {
  const dir = scratchDir("config-check");
  const path = join(dir, "altrepodb.toml");
  writeFileSync(path, text.replaceAll("$DIR", dir));
  return { dir, path };
}

const FULL = `
[database]
driver = "http"
name = "altrepo"
[database.http]
url = "http://alice:Url-Secret-4711@127.0.0.1:8123/"
password_file = "$DIR/db.pw"
request_timeout = 60
[log]
level = "debug"
file = "$DIR/altrepodb.log"
[load]
workers = 3
[repo_dirs]
p10 = "/srv/p10"
[amqp]
host = "broker.example"
username = "loader"
password = "Amqp-Secret-0815"
[notifier]
on_retry = true
[daemon]
shutdown_grace = 10
[services.repo]
schedule = "every 30m"
schedule_message = { branch = "p10", date = "2026-11-20" }
[services.task]
workers = 2
`;

describe("config check", () => {
  test("no credential is printed, in TOML or JSON; password_file is read up to its first line", () => {
    const { dir, path } = configFile(FULL);
    writeFileSync(join(dir, "db.pw"), "Pw-File-Secret-1\nnot part of it\n");
    for (const args of [["config", "check"], ["config", "check", "--json"]]) {
      const r = cli(path, args);
      expect(r.code).toBe(0);
      for (const secret of ["Url-Secret-4711", "Amqp-Secret-0815", "Pw-File-Secret-1"]) expect(r.stdout + r.stderr).not.toContain(secret);
      expect(r.stdout).toContain("http://alice:***@127.0.0.1:8123/");
    }
    const config = loadConfig({ path, env: {} });
    expect(config.database.driver === "http" && config.database.password).toBe("Pw-File-Secret-1");
  });

  test("a bad URL is quoted back without its password", () => {
    const r = cli(configFile(`[database.http]\nurl = "http://alice:Bad-Url-Secret@no such host:8123"\n`).path, ["config", "check"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("database.http.url");
    expect(r.stderr).not.toContain("Bad-Url-Secret");
  });

  test("the printed TOML is complete, snake_case, and loads to the same effective configuration", () => {
    const { dir, path } = configFile(FULL);
    writeFileSync(join(dir, "db.pw"), "pw\n");
    const first = cli(path, ["config", "check"]);
    expect(first.code).toBe(0);
    for (const section of ["[database]", "[database.http]", "[log]", "[load]", "[repo_dirs]", "[task_dirs]", "[amqp]", "[notifier]", "[daemon]", "[services.repo]", "[services.task]"])
      expect(first.stdout).toContain(`${section}\n`);
    // resolved values: the daemon's directories and each service's queue
    expect(first.stdout).toMatch(/^state_dir = "\/.+"$/m);
    expect(first.stdout).toMatch(/^queue = "repo-loader-q"$/m);
    const again = join(dir, "again.toml");
    writeFileSync(again, first.stdout);
    const second = cli(again, ["config", "check"]);
    expect(second.code).toBe(0);
    const body = (s: string) => s.slice(s.indexOf("\n"));
    expect(body(second.stdout)).toBe(body(first.stdout));
    const json1 = JSON.parse(cli(path, ["config", "check", "--json"]).stdout);
    const json2 = JSON.parse(cli(again, ["config", "check", "--json"]).stdout);
    expect({ ...json2, source: "" }).toEqual({ ...json1, source: "" });
    expect(JSON.stringify(json1)).not.toMatch(/"[a-z]+[A-Z][A-Za-z]*":/);
  });

  test("config.example.toml round-trips too", () => {
    const example = join(import.meta.dir, "..", "..", "config.example.toml");
    const first = cli(example, ["config", "check"]);
    expect(first.code).toBe(0);
    const again = join(scratchDir("config-check"), "again.toml");
    writeFileSync(again, first.stdout);
    const second = cli(again, ["config", "check"]);
    expect(second.stdout.slice(second.stdout.indexOf("\n"))).toBe(first.stdout.slice(first.stdout.indexOf("\n")));
  });

  test("the embedded driver's libchdb is printed resolved", () => {
    const { path } = configFile(`[database.embedded]\npath = "$DIR/db"\n`);
    const r = cli(path, ["config", "check", "--json"]);
    expect(r.code).toBe(0);
    const lib = JSON.parse(r.stdout).database.embedded.libchdb;
    expect(lib).toEndWith("libchdb.so");
    expect(existsSync(lib)).toBe(true);
  });

  test("what the daemon refuses, config check refuses (exit 2, naming the key)", () => {
    const unknown = cli(configFile(`[services.nosuch]\n`).path, ["config", "check"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('services.nosuch: unknown service "nosuch"');
    const zero = cli(configFile(`[services.selftest]\nschedule = "every 0s"\n`).path, ["config", "check"]);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("services.selftest.schedule");
    const delays = cli(configFile(`[daemon]\nrestart_delay = 10\nrestart_delay_max = 5\n[services.selftest]\n`).path, ["config", "check"]);
    expect(delays.code).toBe(2);
    expect(delays.stderr).toContain("daemon.restart_delay");
  });

  test("a configuration without daemon services is fine for the CLI, with a note", () => {
    const r = cli(configFile(`[load]\nworkers = 1\n`).path, ["config", "check"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("the daemon would not start");
  });

  test("an unwritable [log] file is warned about", () => {
    const r = cli(configFile(`[log]\nfile = "$DIR/no/such/dir/altrepodb.log"\n`).path, ["config", "check"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/WARN .*\[log\] file .*no\/such\/dir\/altrepodb\.log is not writable/);
    const dir = configFile(`[log]\nfile = "$DIR"\n`);
    expect(cli(dir.path, ["config", "check"]).stderr).toContain("not a regular file");
  });
});
