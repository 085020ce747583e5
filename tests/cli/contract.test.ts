/**
 * The command-line contract shell scripts depend on (issue 10, items 13–15 and 18): output that
 * reaches a slow pipe whole, quiet EPIPE, strict parsing driven by each command's declared args,
 * exit codes, usage errors and help. Runs the CLI as a process (the compiled binary when
 * ALTREPODB_TEST_BINARY names it).
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../fixtures/_util";
import { CLI, cli, newConfig } from "../helpers/cli";

// each test runs the CLI as a process several times; a busy machine makes that slow
setDefaultTimeout(300_000);

let cfg: string;
beforeAll(() => {
  cfg = newConfig("cli-contract");
});

/** `altrepodb -c cfg ARGS… | READER` through bash, the arguments passed as an array. */
function piped(reader: string, args: string[]) {
  const r = Bun.spawnSync(["bash", "-c", `"$@" | ${reader}; echo "status=\${PIPESTATUS[0]}"`, "piped", ...CLI, "-c", cfg, ...args], { stdout: "pipe", stderr: "pipe" });
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

function withStdin(input: string, args: string[]) {
  const r = Bun.spawnSync([...CLI, "-c", cfg, ...args], { stdin: Buffer.from(input), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A usage error: exit 2, nothing on stdout, the reason and a usage line starting with altrepodb on stderr, no log line. */
function expectUsageError(r: { code: number | null; stdout: string; stderr: string }, reason: string | RegExp) {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  if (typeof reason === "string") expect(r.stderr).toContain(reason);
  else expect(r.stderr).toMatch(reason);
  expect(r.stderr).toMatch(/^Usage: altrepodb( |$)/m);
  expect(r.stderr).not.toMatch(/ERROR|\x1b\[/);
  expect(r.stderr).not.toContain("OPTIONS\n");
}

describe("output reaches the reader whole", () => {
  test("a slow reader of `sql` still gets every row, exit 0", () => {
    const r = piped("(sleep 1; wc -l)", ["sql", "SELECT number FROM numbers(300000)"]);
    expect(r.stdout).toBe("300000\nstatus=0\n");
  });

  test("`| head` ends quietly with status 0 or 141", () => {
    const r = piped("head -n 1", ["sql", "SELECT number FROM numbers(3000000)"]);
    expect(r.stdout).toMatch(/^0\nstatus=(0|141)\n$/);
    expect(r.stderr).toBe("");
  });
});

describe("strict parsing", () => {
  test("an unknown command is a usage error, --help or not", () => {
    expectUsageError(cli(cfg, ["nosuch", "--help"]), 'unknown command "nosuch"');
    expectUsageError(cli(cfg, ["nosuch"]), 'unknown command "nosuch"');
    expectUsageError(cli(cfg, ["repo", "nosuch"]), 'unknown command "nosuch"');
    expectUsageError(cli(cfg, ["help", "nosuch"]), 'unknown command "nosuch"');
  });

  test("an unknown option is a usage error and nothing runs (a typo of --dry-run)", () => {
    const snap = scratchDir("cli-contract-snap");
    const r = cli(cfg, ["repo", "load", "p10", snap, "--date", "2026-11-20", "--dryrun"]);
    expectUsageError(r, "unknown option --dryrun (did you mean --dry-run?)");
    expect(r.stderr).toContain("Usage: altrepodb repo load ");
    expectUsageError(cli(cfg, ["db", "status", "--nosuch"]), "unknown option --nosuch");
    expectUsageError(cli(cfg, ["--nosuch", "db", "status"]), "unknown option --nosuch");
  });

  test("extra arguments, missing arguments and missing values are usage errors", () => {
    expectUsageError(cli(cfg, ["sql", "SELECT 1", "extra"]), 'unexpected argument "extra"');
    expectUsageError(cli(cfg, ["db", "init", "extra"]), 'unexpected argument "extra"');
    expectUsageError(cli(cfg, ["repo", "load", "p10"]), "missing argument PATH");
    expectUsageError(cli(cfg, ["repo", "load", "p10", "/x"]), "missing option --date");
    expectUsageError(cli(cfg, ["sql", "SELECT 1", "--format"]), "--format needs a value");
    expectUsageError(cli(cfg, ["repo"]), "a subcommand is needed");
    const bare = Bun.spawnSync(CLI, { stdout: "pipe", stderr: "pipe" });
    expectUsageError({ code: bare.exitCode, stdout: bare.stdout.toString(), stderr: bare.stderr.toString() }, "a command is needed");
  });

  test("global flags are taken before the command and among its options, never from free text", () => {
    expect(cli(cfg, ["-q", "sql", "SELECT 1"]).stdout).toBe("1\n");
    expect(cli(cfg, ["sql", "-q", "SELECT 2", "--log-format", "json"]).stdout).toBe("2\n");
    const r = cli(cfg, ["amqpfire", "--dry-run", "task-approve", "1", "100", "alice", "-v", "hello"]);
    expect(r.code).toBe(0);
    const payload = JSON.parse(r.stdout.slice(r.stdout.indexOf(" ") + 1));
    expect(Buffer.from(payload.base64_message, "base64").toString()).toMatch(/\n-v hello\n$/);
    // after --, words are arguments: a query may start with a dash
    expect(cli(cfg, ["sql", "--", "-- a comment\nSELECT 3"]).stdout).toBe("3\n");
  });
});

describe("exit codes and messages", () => {
  test("a bad --date or BRANCH is a usage error naming it", () => {
    expectUsageError(cli(cfg, ["repo", "load", "p10", "/x", "--date", "2026-13-01"]), "--date is not a calendar day");
    expectUsageError(cli(cfg, ["repo", "load", "p10", "/x", "--date", "yesterday"]), "--date must be YYYY-MM-DD");
    expectUsageError(cli(cfg, ["repo", "load", "../p10", "/x", "--date", "2026-11-20"]), "BRANCH must be a plain name");
    expectUsageError(cli(cfg, ["repo", "verify", "p10", "/x", "--date", "2026-02-30"]), "--date is not a calendar day");
    expectUsageError(cli(cfg, ["package", "load", "x.rpm", "--workers", "0"]), "--workers must be a positive integer");
    expectUsageError(cli(cfg, ["task", "load", "/x", "--backfill", "some"]), "--backfill must be task, full or off");
  });

  test("a bad ALTREPODB_DB_NAME is a configuration error naming the variable", () => {
    const r = cli(cfg, ["sql", "SELECT 1"], { ALTREPODB_DB_NAME: "no-such;name" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ALTREPODB_DB_NAME must be a plain identifier");
  });

  test("an empty query is a usage error with a plain message", () => {
    expectUsageError(cli(cfg, ["sql", ""]), "the query is empty");
    expectUsageError(cli(cfg, ["sql", "  \n"]), "the query is empty");
  });

  test("rpm dump of an empty or a non-RPM file exits 1 with the reason", () => {
    const dir = scratchDir("cli-contract-rpm");
    writeFileSync(join(dir, "empty.rpm"), "");
    writeFileSync(join(dir, "text.rpm"), "hello, not an rpm\n");
    const empty = cli(cfg, ["rpm", "dump", join(dir, "empty.rpm")]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`${join(dir, "empty.rpm")}: empty file`);
    const text = cli(cfg, ["rpm", "dump", join(dir, "text.rpm")]);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain(join(dir, "text.rpm"));
  });
});

describe("help", () => {
  const leaves = [
    ["db", "init"], ["db", "migrate"], ["db", "status"], ["sql"], ["config", "check"], ["repo", "load"], ["repo", "verify"],
    ["rpm", "dump"], ["task", "load"], ["task", "clean"], ["package", "load"], ["daemon", "run"], ["daemon", "status"], ["amqpfire"],
    ["rpm", "vercmp"], ["rpmdb", "dump"], ["vuln", "load"], ["vuln", "map", "load"], ["vuln", "match"], ["errata", "build"], ["feed", "load"], ["feed", "status"], ["image", "load"],
  ];

  test("every leaf command's help: exit 0, a usage line from altrepodb, an example, no colour codes", () => {
    for (const path of leaves) {
      const r = cli(cfg, [...path, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`USAGE altrepodb ${path.join(" ")}`);
      expect(r.stdout).toMatch(new RegExp(`EXAMPLES?\\n\\n  altrepodb .*${path[0]}`));
      expect(r.stdout).not.toContain("\x1b[");
    }
  });

  test("`altrepodb help <command>` is `<command> --help`", () => {
    const a = cli(cfg, ["help", "repo", "load"]);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(cli(cfg, ["repo", "load", "--help"]).stdout);
    expect(cli(cfg, ["help"]).stdout).toBe(cli(cfg, ["--help"]).stdout);
    for (const line of cli(cfg, ["--help"]).stdout.split("\n").filter((l) => l.startsWith("USAGE"))) expect(line).toStartWith("USAGE altrepodb");
  });
});

describe("sql reads the query from stdin with -", () => {
  test("sql - and sql -f FORMAT -", () => {
    expect(withStdin("SELECT 40 + 2\n", ["sql", "-"])).toMatchObject({ code: 0, stdout: "42\n" });
    expect(withStdin("SELECT 1 AS a", ["sql", "-f", "JSONEachRow", "-"])).toMatchObject({ code: 0, stdout: '{"a":1}\n' });
    expectUsageError(withStdin("", ["sql", "-"]), "the query read from stdin is empty");
  });
});
