#!/usr/bin/env bun
/** The altrepodb command line: one lazily loaded module per subcommand, only argument handling. */
import { defineCommand, type CommandDef } from "citty";
import { log } from "../log";
import { VERSION, versionString } from "../version";
import { CommandUsageError, helpText, parseLine, usageLine, type ParsedLine } from "./_args";
import { applyGlobalFlags, closeAll } from "./context";
import { isUsageError, describeError, exitCodeOf, EXIT } from "./errors";
import { finishOutput, quietOnClosedPipe } from "./output";

const lazy = <T>(load: () => Promise<{ default: T }>) => () => load().then((m) => m.default);

export const main = defineCommand({
  meta: {
    name: "altrepodb",
    version: VERSION,
    description: "Load ALT Linux repositories, build tasks and feeds into ClickHouse",
    examples: ["altrepodb db init", "altrepodb -c /etc/altrepodb/config.toml repo load p10 /srv/p10/date/2026-11-20 --date 2026-11-20", "altrepodb help repo load"],
  },
  args: {
    config: { type: "string", alias: "c", description: "Configuration file (default: $ALTREPODB_CONFIG, ./altrepodb.toml, /etc/altrepodb/config.toml)", valueHint: "FILE" },
    verbose: { type: "boolean", alias: "v", description: "More log output (twice for trace)" },
    quiet: { type: "boolean", alias: "q", description: "Only warnings and errors" },
    "log-format": { type: "string", description: "text or json", valueHint: "text|json" },
  },
  subCommands: {
    db: lazy(() => import("./db")),
    sql: lazy(() => import("./sql")),
    config: lazy(() => import("./config")),
    repo: lazy(() => import("./repo")),
    rpm: lazy(() => import("./rpm")),
    rpmdb: lazy(() => import("./rpmdb")),
    task: lazy(() => import("./task")),
    package: lazy(() => import("./package")),
    daemon: lazy(() => import("./daemon")),
    amqpfire: lazy(() => import("./amqpfire")),
    vuln: lazy(() => import("./vuln")),
    errata: lazy(() => import("./errata")),
    feed: lazy(() => import("./feed")),
    bot: lazy(() => import("./bot")),
    image: lazy(() => import("./image")),
    export: lazy(() => import("./export")),
    pkgset: lazy(() => import("./pkgset")),
    search: lazy(() => import("./search")),
  },
});

/** A usage error: the message and the command's usage line on stderr, exit 2. */
async function usageFailure(e: unknown, line?: ParsedLine): Promise<number> {
  const path = e instanceof CommandUsageError ? e.path : (line?.path ?? ["altrepodb"]);
  const cmd = e instanceof CommandUsageError ? e.cmd : (line?.cmd ?? (main as CommandDef<any>));
  const message = (e as Error).message;
  process.stderr.write(`${path.join(" ")}: ${message}\nUsage: ${await usageLine(path, cmd)}\n(${path.join(" ")} --help shows more)\n`);
  return EXIT.usage;
}

async function runLeaf(line: ParsedLine): Promise<void> {
  const { cmd, args } = line;
  const context = { rawArgs: args._, args, cmd } as Parameters<NonNullable<typeof cmd.run>>[0];
  if (typeof cmd.setup === "function") await cmd.setup(context);
  try {
    if (typeof cmd.run === "function") await cmd.run(context);
  } finally {
    if (typeof cmd.cleanup === "function") await cmd.cleanup(context);
  }
}

export async function run(argv: string[]): Promise<number> {
  let line: ParsedLine;
  try {
    line = await parseLine(main as CommandDef<any>, argv);
    applyGlobalFlags(line.globals);
  } catch (e) {
    if (isUsageError(e)) return usageFailure(e);
    throw e;
  }
  if (line.version) {
    process.stdout.write(versionString() + "\n");
    return EXIT.ok;
  }
  if (line.help) {
    process.stdout.write(await helpText(line.path, line.cmd));
    return EXIT.ok;
  }
  try {
    await runLeaf(line);
    return process.exitCode ? Number(process.exitCode) : EXIT.ok;
  } catch (e) {
    if (isUsageError(e)) return usageFailure(e, line);
    log.error(describeError(e));
    if (process.env.ALTREPODB_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
    return exitCodeOf(e);
  } finally {
    await closeAll();
  }
}

if (import.meta.main) {
  quietOnClosedPipe();
  const code = await run(process.argv.slice(2));
  await finishOutput();
  process.exit(code);
}
