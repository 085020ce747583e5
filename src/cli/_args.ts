/**
 * Strict command-line parsing over citty's command definitions (citty itself accepts any option
 * and any number of arguments). Driven only by what each command declares (`args`, `subCommands`,
 * `default`, `meta.rest`), so a new command is strict without code of its own:
 * - an unknown command, an unknown option, a missing value, a missing or an extra argument is a
 *   UsageError (exit 2);
 * - the global flags (the root command's args) are taken before the command and among a leaf's
 *   options, but never after `--` nor among free-text arguments (`meta.rest = "text"`);
 * - `--help`/`-h` anywhere before free text, and `altrepodb help <command…>`, ask for help.
 */
import { renderUsage, type ArgDef, type CommandDef, type CommandMeta } from "citty";
import { UsageError } from "./errors";

declare module "citty" {
  interface CommandMeta {
    /** Example command lines for --help, each starting with "altrepodb". */
    examples?: string[];
    /**
     * Arguments after the declared positionals: "repeat" takes more of the last one (FILE…);
     * "text" passes every following word as it is, options and `-v` included (amqpfire).
     */
    rest?: "repeat" | "text";
  }
}

type AnyCommand = CommandDef<any>;
const resolve = async <T>(v: T | Promise<T> | (() => T | Promise<T>)): Promise<T> => (typeof v === "function" ? (v as () => T | Promise<T>)() : v);

export interface GlobalValues {
  [name: string]: string | boolean | number | undefined;
}

export interface ParsedLine {
  /** The words naming the command, from "altrepodb" on. */
  path: string[];
  cmd: AnyCommand;
  /** The leaf's arguments in citty's shape: `_` (every positional) plus one entry per declared arg. */
  args: Record<string, unknown> & { _: string[] };
  /** Values of global flags (the root's args); `verbose` counts. */
  globals: GlobalValues;
  help: boolean;
  version: boolean;
}

/** A usage error that knows which command it is about, for the usage line. */
export class CommandUsageError extends UsageError {
  constructor(
    message: string,
    readonly path: string[],
    readonly cmd: AnyCommand,
  ) {
    super(message);
  }
}

interface Option {
  name: string;
  def: ArgDef;
  global: boolean;
}

function optionTable(args: Record<string, ArgDef>, global: boolean, into: Map<string, Option>): void {
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const o = { name, def, global };
    into.set(`--${name}`, o);
    const aliases = "alias" in def && def.alias ? (Array.isArray(def.alias) ? def.alias : [def.alias]) : [];
    for (const a of aliases) into.set(a.length === 1 ? `-${a}` : `--${a}`, o);
  }
}

const squash = (s: string) => s.replace(/^-+/, "").replace(/[-_]/g, "").toLowerCase();

function unknownOption(token: string, table: Map<string, Option>): string {
  const want = squash(token.split("=")[0]);
  const near = [...table.keys()].find((k) => k.startsWith("--") && squash(k) === want);
  return `unknown option ${token.split("=")[0]}${near ? ` (did you mean ${near}?)` : ""}`;
}

/**
 * Parses argv (without the program name) against the command tree rooted at `root`, whose own
 * args are the global flags. Throws CommandUsageError for anything the commands do not declare.
 */
export async function parseLine(root: AnyCommand, argv: string[]): Promise<ParsedLine> {
  const rootArgs = (await resolve(root.args ?? {})) as Record<string, ArgDef>;
  const globalTable = new Map<string, Option>();
  optionTable(rootArgs, true, globalTable);
  const globals: GlobalValues = {};
  const path = [((await resolve(root.meta ?? {})) as { name?: string }).name ?? "altrepodb"];
  let cmd = root;
  let help = false;
  let version = false;
  let i = 0;
  const fail = (msg: string): never => {
    throw new CommandUsageError(msg, [...path], cmd);
  };

  /** Takes option argv[i] if it is a global flag (the command's own options were tried first) or help. */
  const takeGlobal = (token: string): boolean => {
    if (token === "--help" || token === "-h") return (help = true);
    if (token === "-vv" && globalTable.has("-v")) {
      globals.verbose = Number(globals.verbose ?? 0) + 2;
      return true;
    }
    const o = globalTable.get(token.startsWith("--") ? token.split("=")[0] : token);
    if (!o) return false;
    i = takeValue(o, token, globals, i);
    return true;
  };

  const takeValue = (o: Option, token: string, into: Record<string, unknown>, at: number): number => {
    const eq = token.startsWith("--") ? token.indexOf("=") : -1;
    if (o.def.type === "boolean") {
      if (eq >= 0) {
        const v = token.slice(eq + 1);
        if (v !== "true" && v !== "false") fail(`${token.slice(0, eq)} takes no value (or true/false), not ${JSON.stringify(v)}`);
        into[o.name] = v === "true";
      } else if (o.global && o.name === "verbose") into[o.name] = Number(into[o.name] ?? 0) + 1;
      else into[o.name] = true;
      return at;
    }
    let value: string | undefined;
    if (eq >= 0) value = token.slice(eq + 1);
    else {
      value = argv[at + 1];
      if (value === undefined) fail(`${token} needs a value${o.def.valueHint ? ` (${o.def.valueHint})` : ""}`);
      at++;
    }
    const options = o.def.type === "enum" ? (o.def.options ?? []) : [];
    if (options.length && !options.includes(value!)) fail(`--${o.name} must be one of ${options.join(", ")}, not ${JSON.stringify(value)}`);
    into[o.name] = value;
    return at;
  };

  // the command groups down to a leaf
  for (;;) {
    const subs = (await resolve(cmd.subCommands)) as Record<string, unknown> | undefined;
    if (!subs || Object.keys(subs).length === 0) break;
    let name: string | undefined;
    for (; i < argv.length; i++) {
      const t = argv[i];
      if (t === "--") fail("a command name is expected before --");
      if (t.startsWith("-") && t !== "-") {
        if (cmd === root && (t === "--version" || t === "-V")) {
          version = true;
          continue;
        }
        if (!takeGlobal(t)) fail(unknownOption(t, globalTable));
        continue;
      }
      name = t;
      i++;
      break;
    }
    if (name === undefined) {
      if (help || version) return { path, cmd, args: { _: [] }, globals, help, version };
      const fallback = cmd.default ? await resolve(cmd.default) : undefined;
      if (!fallback) fail(`${cmd === root ? "a command" : "a subcommand"} is needed (${Object.keys(subs).join(", ")})`);
      name = fallback!;
    } else if (cmd === root && name === "help" && !("help" in subs)) {
      help = true;
      continue;
    }
    const next = subs[name!];
    if (!next) fail(`unknown command ${JSON.stringify(name)} (${cmd === root ? "commands" : `${path.join(" ")} takes`}: ${Object.keys(subs).join(", ")})`);
    cmd = (await resolve(next as AnyCommand)) as AnyCommand;
    path.push(name!);
  }
  if (version && path.length === 1) return { path, cmd, args: { _: [] }, globals, help, version };
  if (version) fail("--version goes alone: altrepodb --version");

  // the leaf's options and positionals
  const defs = (await resolve(cmd.args ?? {})) as Record<string, ArgDef>;
  const table = new Map<string, Option>();
  optionTable(defs, false, table);
  const meta = (await resolve(cmd.meta ?? {})) as { rest?: "repeat" | "text" };
  const positionals = Object.entries(defs).filter(([, d]) => d.type === "positional");
  const values: Record<string, unknown> = {};
  const words: string[] = [];
  let freeText = false;
  for (; i < argv.length; i++) {
    const t = argv[i];
    if (freeText) words.push(t);
    else if (t === "--") {
      words.push(...argv.slice(i + 1));
      break;
    } else if (t.startsWith("-") && t !== "-") {
      const key = t.startsWith("--") ? t.split("=")[0] : t;
      const own = table.get(key);
      if (own) i = takeValue(own, t, values, i);
      else if (key.startsWith("--no-") && table.get(`--${key.slice(5)}`)?.def.type === "boolean" && !t.includes("=")) values[table.get(`--${key.slice(5)}`)!.name] = false;
      else if (!takeGlobal(t)) fail(unknownOption(t, new Map([...globalTable, ...table])));
    } else {
      words.push(t);
      if (meta.rest === "text" && words.length >= positionals.length) freeText = true;
    }
  }
  if (help) return { path, cmd, args: { _: words }, globals, help, version };

  const args: Record<string, unknown> & { _: string[] } = { _: words };
  positionals.forEach(([name, def], n) => {
    const word = words[n];
    if (word !== undefined) args[name] = word;
    else if (def.default !== undefined) args[name] = def.default;
    else if (def.required !== false) fail(`missing argument ${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`);
  });
  if (words.length > positionals.length && !meta.rest) {
    const extra = words.slice(positionals.length);
    fail(`unexpected argument${extra.length > 1 ? "s" : ""} ${extra.map((w) => JSON.stringify(w)).join(" ")}`);
  }
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") continue;
    if (values[name] !== undefined) args[name] = values[name];
    else if (def.default !== undefined) args[name] = def.default;
    else if (def.required) fail(`missing option --${name}${def.valueHint ? ` ${def.valueHint}` : ""}`);
  }
  // citty's context offers camelCase names too (args.dryRun for "dry-run")
  for (const name of Object.keys(args)) {
    const camel = name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    if (camel !== name && !(camel in args)) args[camel] = args[name];
  }
  return { path, cmd, args, globals, help, version };
}

const ANSI = /\x1b\[[0-9;]*m/g;

/** Colour only for a terminal that wants it. */
function plain(text: string, stream: NodeJS.WriteStream): string {
  return stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== "dumb" ? text : text.replace(ANSI, "");
}

/** citty's help, named from "altrepodb" on, with the command's examples. */
export async function helpText(path: string[], cmd: AnyCommand, stream: NodeJS.WriteStream = process.stdout): Promise<string> {
  const parent = path.length > 1 ? { meta: { name: path.slice(0, -1).join(" ") } } : undefined;
  const meta = (await resolve(cmd.meta ?? {})) as CommandMeta;
  let text = await renderUsage({ ...cmd, meta: { ...meta, name: path[path.length - 1] } }, parent as AnyCommand | undefined);
  if (path.length > 1) text += `\n\nGlobal options (before the command's free-text arguments): -c/--config FILE, -v/--verbose, -q/--quiet, --log-format text|json`;
  if (meta.examples?.length) text += `\n\n${meta.examples.length > 1 ? "EXAMPLES" : "EXAMPLE"}\n\n${meta.examples.map((e) => `  ${e}`).join("\n")}`;
  return plain(text, stream) + "\n";
}

/** The one usage line of a command ("altrepodb repo load [OPTIONS] <BRANCH> <PATH> --date=…"). */
export async function usageLine(path: string[], cmd: AnyCommand): Promise<string> {
  const text = (await helpText(path, cmd, process.stderr)).replace(ANSI, "");
  const line = text.split("\n").find((l) => l.startsWith("USAGE "));
  return line ? line.slice("USAGE ".length).trim() : path.join(" ");
}
