#!/usr/bin/env bun
/** The altrepodb command line: one lazily loaded module per subcommand, only argument handling. */
import { defineCommand, runCommand, showUsage, type CommandDef } from "citty";
import { log } from "../log";
import { VERSION, versionString } from "../version";
import { closeAll, extractGlobalFlags } from "./context";
import { isUsageError, describeError, exitCodeOf, EXIT } from "./errors";

const lazy = <T>(load: () => Promise<{ default: T }>) => () => load().then((m) => m.default);

export const main = defineCommand({
  meta: { name: "altrepodb", version: VERSION, description: "Load ALT Linux repositories, build tasks and feeds into ClickHouse" },
  args: {
    config: { type: "string", alias: "c", description: "Configuration file (default: $ALTREPODB_CONFIG, ./altrepodb.toml, /etc/altrepodb/config.toml)" },
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
    task: lazy(() => import("./task")),
    package: lazy(() => import("./package")),
    daemon: lazy(() => import("./daemon")),
    amqpfire: lazy(() => import("./amqpfire")),
    vuln: lazy(() => import("./vuln")),
    errata: lazy(() => import("./errata")),
    feed: lazy(() => import("./feed")),
  },
});

async function resolveChain(cmd: CommandDef, args: string[]): Promise<[CommandDef, CommandDef | undefined]> {
  let parent: CommandDef | undefined;
  for (const a of args) {
    if (a.startsWith("-")) continue;
    const subs = typeof cmd.subCommands === "function" ? await cmd.subCommands() : await cmd.subCommands;
    const next = subs?.[a];
    if (!next) break;
    parent = cmd;
    cmd = typeof next === "function" ? await next() : await next;
  }
  return [cmd, parent];
}

export async function run(argv: string[]): Promise<number> {
  let args: string[];
  try {
    args = extractGlobalFlags(argv);
  } catch (e) {
    process.stderr.write(`altrepodb: ${describeError(e)}\n`);
    return EXIT.usage;
  }
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    process.stdout.write(versionString() + "\n");
    return EXIT.ok;
  }
  if (args.length === 0 || args.includes("--help") || args.includes("-h")) {
    const [cmd, parent] = await resolveChain(main as unknown as CommandDef, args);
    await showUsage(cmd, parent);
    return args.length === 0 ? EXIT.usage : EXIT.ok;
  }
  try {
    await runCommand(main, { rawArgs: args });
    return process.exitCode ? Number(process.exitCode) : EXIT.ok;
  } catch (e) {
    if (isUsageError(e)) {
      const [cmd, parent] = await resolveChain(main as unknown as CommandDef, args);
      await showUsage(cmd, parent);
    }
    log.error(describeError(e));
    if (process.env.ALTREPODB_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + "\n");
    return exitCodeOf(e);
  } finally {
    await closeAll();
  }
}

if (import.meta.main) {
  const code = await run(process.argv.slice(2));
  process.exit(code);
}
