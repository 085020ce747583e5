/**
 * src/cli/_args.ts on a made-up command tree: the strictness comes from what a command declares,
 * so a command added later (image, feed, vuln, …) gets it without code of its own.
 */
import { describe, expect, test } from "bun:test";
import { defineCommand } from "citty";
import { CommandUsageError, helpText, parseLine } from "../../src/cli/_args";

const leaf = defineCommand({
  meta: { name: "load", description: "Load feeds", examples: ["altrepodb feed load x.json"], rest: "repeat" },
  args: {
    file: { type: "positional", description: "A file", required: true },
    since: { type: "string", description: "Date", valueHint: "YYYY-MM-DD" },
    "dry-run": { type: "boolean", description: "Write nothing" },
    kind: { type: "enum", options: ["a", "b"], description: "Kind" },
    level: { type: "string", alias: "l", default: "low", description: "Level" },
  },
});
const say = defineCommand({
  meta: { name: "say", description: "Free text", examples: ["altrepodb say hello -v world"], rest: "text" },
  args: { to: { type: "positional", description: "Whom", required: true }, loud: { type: "boolean", description: "Loud" } },
});
const root = defineCommand({
  meta: { name: "altrepodb", description: "Test root" },
  args: { config: { type: "string", alias: "c" }, verbose: { type: "boolean", alias: "v" }, quiet: { type: "boolean", alias: "q" } },
  subCommands: { feed: () => Promise.resolve(defineCommand({ meta: { name: "feed", description: "Feeds" }, subCommands: { load: leaf } })), say },
});

async function usageError(argv: string[]): Promise<string> {
  try {
    await parseLine(root, argv);
  } catch (e) {
    expect(e).toBeInstanceOf(CommandUsageError);
    return (e as Error).message;
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
}

describe("parseLine", () => {
  test("declared options, aliases, defaults, repeated positionals, global flags before and among options", async () => {
    const p = await parseLine(root, ["-v", "feed", "-c", "x.toml", "load", "a.json", "b.json", "--since=2026-01-01", "--dry-run", "-l", "high", "-v", "--kind", "b"]);
    expect(p.path).toEqual(["altrepodb", "feed", "load"]);
    expect(p.globals).toEqual({ verbose: 2, config: "x.toml" });
    expect(p.args).toMatchObject({ _: ["a.json", "b.json"], file: "a.json", since: "2026-01-01", "dry-run": true, dryRun: true, level: "high", kind: "b" });
    expect((await parseLine(root, ["feed", "load", "a", "--no-dry-run"])).args).toMatchObject({ "dry-run": false, level: "low" });
    expect((await parseLine(root, ["feed", "load", "--", "-a"])).args._).toEqual(["-a"]);
  });

  test("free text keeps options and global flags as words", async () => {
    const p = await parseLine(root, ["say", "--loud", "bob", "hello", "-v", "--loud", "--", "x"]);
    expect(p.args).toMatchObject({ _: ["bob", "hello", "-v", "--loud", "--", "x"], to: "bob", loud: true });
    expect(p.globals).toEqual({});
  });

  test("everything undeclared is a usage error", async () => {
    expect(await usageError(["nosuch"])).toContain('unknown command "nosuch"');
    expect(await usageError(["feed", "nosuch", "--help"])).toContain('unknown command "nosuch"');
    expect(await usageError(["feed", "load", "a", "--dryrun"])).toBe("unknown option --dryrun (did you mean --dry-run?)");
    expect(await usageError(["feed", "load", "a", "--since"])).toContain("--since needs a value");
    expect(await usageError(["feed", "load", "a", "--kind", "c"])).toContain("--kind must be one of a, b");
    expect(await usageError(["feed", "load"])).toBe("missing argument FILE");
    expect(await usageError(["say"])).toBe("missing argument TO");
    expect(await usageError(["feed"])).toContain("a subcommand is needed");
    expect(await usageError(["feed", "load", "a", "--dry-run=maybe"])).toContain("--dry-run takes no value");
    expect(await usageError(["--loud", "say", "x"])).toContain("unknown option --loud");
  });

  test("help: --help anywhere before free text, `help <command>`, examples, named from altrepodb", async () => {
    expect(await parseLine(root, ["feed", "load", "--help"])).toMatchObject({ help: true, path: ["altrepodb", "feed", "load"] });
    expect(await parseLine(root, ["help", "feed", "load"])).toMatchObject({ help: true, path: ["altrepodb", "feed", "load"] });
    expect(await parseLine(root, ["say", "x", "--help"])).toMatchObject({ help: false, args: { _: ["x", "--help"] } });
    const text = await helpText(["altrepodb", "feed", "load"], leaf);
    expect(text).toContain("USAGE altrepodb feed load [OPTIONS] <FILE>");
    expect(text).toContain("EXAMPLE\n\n  altrepodb feed load x.json");
    expect(text).not.toContain("\x1b[");
  });
});
