/**
 * `altrepodb config check`: validate the configuration as the daemon does and print the effective
 * values as a complete TOML file (or JSON), secrets masked.
 */
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { ConfigError, effectiveConfig, effectiveToml, type Config, type Resolved } from "../config";
import { REGISTRY } from "../daemon/services";
import { resolveDaemonSettings } from "../daemon/settings";
import { libchdbCandidates } from "../db/embedded/libchdb";
import { log } from "../log";
import { checkTriggers } from "../triggers/check";
import { resolveBotSettings } from "../bot";
import { locateKey } from "../config/locate";
import { readFileSync } from "node:fs";
import { cliConfig } from "./context";

/** Why the log file cannot be appended to, or undefined when it can. */
function unwritable(file: string): string | undefined {
  try {
    if (existsSync(file)) {
      if (!statSync(file).isFile()) return "not a regular file";
      accessSync(file, constants.W_OK);
    } else accessSync(dirname(file), constants.W_OK);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? `directory ${dirname(file)} does not exist` : (code ?? (e as Error).message);
  }
}

/** The daemon's own checks; a configuration without services is fine for the CLI, with a note. */
function daemonPart(config: Config): Resolved {
  try {
    const s = resolveDaemonSettings(config, REGISTRY);
    return {
      daemon: { state_dir: s.stateDir, status_file: s.statusFile, spool_dir: s.notifier.spoolDir },
      services: Object.fromEntries(s.services.map((x) => [x.name, { queue: x.topology.queue, exchange: x.topology.exchange, routing_keys: [...x.topology.routingKeys] }])),
    };
  } catch (e) {
    if (!(e instanceof ConfigError && e.key === "services" && Object.values(config.file.services).every((x) => !x.enabled))) throw e;
    log.warn(`the daemon would not start with this configuration: ${e.message}`);
    return {};
  }
}

/** [[triggers]]: a program that cannot run is an error naming the key; an exporter not built in, a warning. */
function triggerPart(config: Config): void {
  const problems = checkTriggers(config);
  for (const p of problems.filter((x) => x.warning)) log.warn(`${p.key.join(".")}: ${p.message}`);
  const bad = problems.filter((x) => !x.warning);
  if (!bad.length) return;
  let text = "";
  try {
    text = config.source ? readFileSync(config.source, "utf8") : "";
  } catch {
    // the file was read a moment ago; without it the error names no line
  }
  for (const p of bad.slice(1)) log.error(`${p.key.join(".")}: ${p.message}`);
  throw new ConfigError(bad[0].message, config.source ?? undefined, text ? locateKey(text, bad[0].key) : undefined, bad[0].key.join("."));
}

const check = defineCommand({
  meta: { name: "check", description: "Validate the configuration (as the daemon does) and print the effective values as TOML, secrets masked", examples: ["altrepodb -c /etc/altrepodb/config.toml config check"] },
  args: { json: { type: "boolean", description: "Print JSON (the same keys as the file)" } },
  run({ args }) {
    const config = cliConfig();
    const resolved = daemonPart(config);
    triggerPart(config);
    // the relay's own checks (a token for the chats, something to relay to) when the daemon runs it
    if (config.file.bot.enabled) resolveBotSettings(config);
    if (config.database.driver === "embedded") {
      const configured = config.database.libchdb;
      const found = configured ? (existsSync(configured) ? configured : undefined) : libchdbCandidates().find((p) => existsSync(p));
      if (found) resolved.libchdb = found;
      else log.warn(configured ? `libchdb not found at ${configured} (database.embedded.libchdb)` : "libchdb.so not found: set database.embedded.libchdb or $ALTREPODB_LIBCHDB");
    }
    if (config.log.file) {
      const why = unwritable(config.log.file);
      if (why) log.warn(`[log] file ${config.log.file} is not writable (${why}): log lines go to stderr only`);
    }
    if (args.json) process.stdout.write(jsonText({ source: config.source, ...effectiveConfig(config, resolved) }, 2) + "\n");
    else process.stdout.write(effectiveToml(config, resolved));
  },
});

export default defineCommand({
  meta: { name: "config", description: "Inspect the configuration" },
  subCommands: { check },
});
