/**
 * Logging on stderr through consola: human lines by default, one JSON object per line with
 * format "json", an optional log file, and syslog priority prefixes under systemd (JOURNAL_STREAM)
 * so journald keeps the levels. Secret values registered here are masked in every line.
 */
import { appendFileSync } from "node:fs";
import { createConsola, type ConsolaInstance, type LogObject } from "consola";

export type Level = "error" | "warn" | "info" | "debug" | "trace";
export type Fields = Record<string, unknown>;

export interface LogOptions {
  level?: Level;
  format?: "text" | "json";
  file?: string;
  secrets?: readonly string[];
  /** Defaults to `"JOURNAL_STREAM" in process.env`. */
  journald?: boolean;
}

export interface Logger {
  error(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  trace(msg: string, fields?: Fields): void;
  child(tag: string): Logger;
}

const LEVELS: Record<Level, number> = { error: 0, warn: 1, info: 3, debug: 4, trace: 5 };
const NAMES: Record<number, Level> = { 0: "error", 1: "warn", 2: "info", 3: "info", 4: "debug", 5: "trace" };
const SYSLOG: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7, trace: 7 };

let options: Required<Omit<LogOptions, "file">> & { file?: string } = {
  level: "info",
  format: "text",
  secrets: [],
  journald: "JOURNAL_STREAM" in process.env,
};

function mask(s: string): string {
  for (const secret of options.secrets) if (secret) s = s.split(secret).join("***");
  return s;
}

function fieldText(v: unknown): string {
  if (typeof v === "string") return /[\s="]/.test(v) || v === "" ? JSON.stringify(v) : v;
  if (typeof v === "bigint") return String(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? String(x) : x));
}

function format(obj: LogObject): string {
  const level = NAMES[obj.level] ?? "info";
  const [msg, fields] = obj.args as [unknown, Fields | undefined];
  const text = msg instanceof Error ? msg.message : String(msg);
  if (options.format === "json") {
    const rec: Fields = { time: obj.date.toISOString(), level, ...(obj.tag ? { component: obj.tag } : {}), msg: text };
    if (fields && typeof fields === "object") for (const [k, v] of Object.entries(fields)) rec[k] = v instanceof Error ? v.message : v;
    return mask(JSON.stringify(rec, (_k, x) => (typeof x === "bigint" ? String(x) : x)));
  }
  const parts = [level.toUpperCase().padEnd(5), obj.tag ? `[${obj.tag}]` : "", text];
  if (fields && typeof fields === "object") for (const [k, v] of Object.entries(fields)) if (v !== undefined) parts.push(`${k}=${fieldText(v)}`);
  const line = parts.filter(Boolean).join(" ");
  return mask(options.journald ? `<${SYSLOG[level]}>${line}` : `${obj.date.toISOString()} ${line}`);
}

const reporter = {
  log(obj: LogObject) {
    const line = format(obj);
    process.stderr.write(line + "\n");
    if (options.file) {
      try {
        appendFileSync(options.file, (options.journald && options.format === "text" ? `${obj.date.toISOString()} ${line.replace(/^<\d>/, "")}` : line) + "\n");
      } catch {
        // a broken log file must not stop a load; stderr still has the line
      }
    }
  },
};

const root: ConsolaInstance = createConsola({ level: LEVELS.info, reporters: [reporter] });

export function setupLogging(opts: LogOptions): void {
  options = {
    level: opts.level ?? options.level,
    format: opts.format ?? options.format,
    file: opts.file ?? options.file,
    secrets: [...options.secrets, ...(opts.secrets ?? [])],
    journald: opts.journald ?? options.journald,
  };
  root.level = LEVELS[options.level];
}

function wrap(c: ConsolaInstance): Logger {
  return {
    error: (m, f) => c.error(m, f),
    warn: (m, f) => c.warn(m, f),
    info: (m, f) => c.info(m, f),
    debug: (m, f) => c.debug(m, f),
    trace: (m, f) => c.trace(m, f),
    child: (tag) => wrap(c.withTag(tag)),
  };
}

export const log: Logger = wrap(root);
export const logger = (tag: string): Logger => log.child(tag);
