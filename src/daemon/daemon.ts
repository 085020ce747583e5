/**
 * The daemon: one process, one database handle, one runner per enabled service, the notifier,
 * the status file and systemd notifications.
 *
 * SIGTERM/SIGINT: stop taking messages, let running ones finish within daemon.shutdown_grace,
 * requeue the rest, exit 0. A second signal skips the grace. SIGHUP: read and check the
 * configuration again; on an error keep the running one (and log why); otherwise restart the
 * services whose settings changed, and move the metrics endpoint when its address changed.
 *
 * Metrics ([daemon] metrics_listen): src/daemon/metrics-server.ts serves what status() returns plus
 * live database/broker checks and queue depths. An address that cannot be bound is one error line
 * (also in the status file); the daemon runs on without metrics until a reload binds it.
 */
import { loadConfig, secretsOf, type Config } from "../config";
import { openDb } from "../db";
import { logger, setupLogging, type Logger } from "../log";
import { VERSION } from "../version";
import { DbProvider, type OpenDb } from "./db-provider";
import { ScheduleSuccess } from "./metrics";
import { MetricsEndpoint, queuesOf } from "./metrics-server";
import { Notifier } from "./notifier";
import { ServiceRunner } from "./runner";
import { REGISTRY } from "./services";
import { resolveDaemonSettings, type DaemonSettings, type Registry } from "./settings";
import { writeStatus, type DaemonStatus } from "./status";
import { sdNotify, watchdogIntervalMs } from "./systemd";
import { settleTriggers, triggerStats } from "../triggers";
import { Relay, resolveBotSettings } from "../bot";

export interface DaemonOptions {
  config: Config;
  registry?: Registry;
  /** How to open the database (tests pass wrappers); default: the configured database. */
  openDb?: OpenDb;
  /** Reads the configuration again on SIGHUP; default: the same file. */
  reloadConfig?: () => Config;
  env?: Record<string, string | undefined>;
  log?: Logger;
}

export class Daemon {
  private config: Config;
  private settings: DaemonSettings;
  private readonly registry: Registry;
  private readonly log: Logger;
  private readonly db: DbProvider;
  private notifier: Notifier;
  /** The notification relay, when [bot] enabled = true. */
  private bot: Relay | undefined;
  private runners = new Map<string, ServiceRunner>();
  /** Runners being stopped by a reload (a second signal hurries them too). */
  private readonly retiring = new Set<ServiceRunner>();
  private state: DaemonStatus["state"] = "starting";
  private readonly startedAt = new Date().toISOString();
  private statusTimer: ReturnType<typeof setInterval> | undefined;
  private watchdogTimer: ReturnType<typeof setInterval> | undefined;
  private statusPending: ReturnType<typeof setTimeout> | undefined;
  private stopping: Promise<void> | undefined;
  private reloading: Promise<boolean> | undefined;
  private readonly metrics: MetricsEndpoint;
  private readonly scheduleSuccess = new ScheduleSuccess();
  private doneResolve!: () => void;
  /** Resolves when the daemon has stopped. */
  readonly done: Promise<void>;

  /** Checks the configuration (ConfigError on anything wrong) without starting anything. */
  constructor(private readonly opts: DaemonOptions) {
    this.config = opts.config;
    this.registry = opts.registry ?? REGISTRY;
    this.log = opts.log ?? logger("daemon");
    this.settings = resolveDaemonSettings(this.config, this.registry, opts.env);
    this.db = new DbProvider(opts.openDb ?? (() => openDb(this.config.database)), this.log.child("db"));
    this.notifier = new Notifier(this.settings.notifier, this.settings.broker, this.log.child("notifier"));
    this.bot = this.config.file.bot.enabled ? new Relay(resolveBotSettings(this.config), this.log.child("bot")) : undefined;
    this.done = new Promise((resolve) => (this.doneResolve = resolve));
    this.metrics = new MetricsEndpoint(
      {
        status: () => this.status(),
        queues: () => queuesOf(this.settings.services),
        broker: () => this.settings.broker,
        // not DbProvider.healthy(): a failed check there closes the handle under running loads
        databaseUp: async () => {
          if (this.state === "stopped") return false;
          await (await this.db.get()).query("SELECT 1");
          return true;
        },
      },
      this.log.child("metrics"),
    );
  }

  get statusFile(): string {
    return this.settings.statusFile;
  }

  async start(): Promise<void> {
    this.log.info("starting", { version: VERSION, config: this.config.source ?? "(defaults)", services: this.settings.services.map((s) => s.name).join(","), status_file: this.settings.statusFile });
    this.writeStatusNow();
    // an unavailable database is logged by the provider; messages then wait until it answers
    await this.db.healthy();
    this.notifier.start();
    this.bot?.start();
    for (const s of this.settings.services) this.startRunner(s);
    await this.metrics.apply(this.settings.metrics);
    this.state = "running";
    this.statusTimer = setInterval(() => this.writeStatusNow(), this.settings.statusIntervalMs);
    const wd = watchdogIntervalMs(this.opts.env ?? process.env);
    if (wd) this.watchdogTimer = setInterval(() => sdNotify("WATCHDOG=1", this.opts.env), wd);
    this.writeStatusNow();
    sdNotify(`READY=1\nSTATUS=${this.summary()}\nMAINPID=${process.pid}`, this.opts.env);
    this.log.info("daemon started");
  }

  private startRunner(s: DaemonSettings["services"][number], previous?: ServiceRunner): void {
    const r = new ServiceRunner(
      {
        settings: s,
        broker: this.settings.broker,
        config: () => this.config,
        db: this.db,
        notifier: this.notifier,
        log: this.log.child(s.name),
        flushBuffers: this.settings.flushBuffers,
        restartDelayMs: this.settings.restartDelayMs,
        restartDelayMaxMs: this.settings.restartDelayMaxMs,
        onChange: () => this.statusChanged(),
      },
      previous,
    );
    this.runners.set(s.name, r);
    r.start();
  }

  /** SIGHUP: a configuration that fails to load or check is logged and ignored. */
  reload(): Promise<boolean> {
    this.reloading ??= this.doReload().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async doReload(): Promise<boolean> {
    if (this.stopping) return false;
    this.log.info("reloading the configuration", { config: this.config.source ?? "(defaults)" });
    sdNotify("RELOADING=1", this.opts.env);
    let config: Config;
    let settings: DaemonSettings;
    let bot: ReturnType<typeof resolveBotSettings> | undefined;
    try {
      config = (this.opts.reloadConfig ?? (() => loadConfig({ path: this.config.source ?? undefined })))();
      settings = resolveDaemonSettings(config, this.registry, this.opts.env);
      bot = config.file.bot.enabled ? resolveBotSettings(config) : undefined;
    } catch (e) {
      this.log.error("configuration reload failed; keeping the running configuration", { error: (e as Error).message });
      sdNotify(`READY=1\nSTATUS=reload failed: ${(e as Error).message.slice(0, 200)}`, this.opts.env);
      return false;
    }
    setupLogging({ secrets: secretsOf(config) });
    this.state = "reloading";
    this.statusChanged();
    if (JSON.stringify(config.database) !== JSON.stringify(this.config.database)) {
      this.log.warn("database settings changed; they take effect after a restart of the daemon");
    }
    const brokerChanged = JSON.stringify(settings.broker) !== JSON.stringify(this.settings.broker);
    const old = this.settings;
    this.config = { ...config, database: this.config.database };
    this.settings = settings;
    if (brokerChanged || JSON.stringify(settings.notifier) !== JSON.stringify(old.notifier)) {
      await this.notifier.stop();
      this.notifier = new Notifier(settings.notifier, settings.broker, this.log.child("notifier"));
      this.notifier.start();
    }
    if (JSON.stringify(bot) !== JSON.stringify(this.bot?.settings)) {
      await this.bot?.stop();
      this.bot = bot ? new Relay(bot, this.log.child("bot")) : undefined;
      this.bot?.start();
    }
    const wanted = new Map(settings.services.map((s) => [s.name, s]));
    const stops: Promise<void>[] = [];
    const replaced = new Map<string, ServiceRunner>();
    for (const [name, r] of this.runners) {
      const next = wanted.get(name);
      if (next && !brokerChanged && next.fingerprint === r.settings.fingerprint) continue;
      this.log.info(next ? "restarting service with new settings" : "stopping removed service", { service: name });
      this.runners.delete(name);
      replaced.set(name, r);
      this.retiring.add(r);
      stops.push(r.stop(old.shutdownGraceMs).finally(() => this.retiring.delete(r)));
    }
    await Promise.all(stops);
    for (const s of settings.services) if (!this.runners.has(s.name)) this.startRunner(s, replaced.get(s.name));
    await this.metrics.apply(this.settings.metrics);
    clearInterval(this.statusTimer);
    this.statusTimer = setInterval(() => this.writeStatusNow(), this.settings.statusIntervalMs);
    this.state = "running";
    this.writeStatusNow();
    sdNotify(`READY=1\nSTATUS=${this.summary()}`, this.opts.env);
    this.log.info("configuration reloaded", { services: settings.services.map((s) => s.name).join(",") });
    return true;
  }

  /** Stop taking messages, finish or requeue running ones, then stop everything. */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  /** Second signal: no more waiting for running loads; they are stopped and their messages requeued. */
  hurry(): void {
    this.settings = { ...this.settings, shutdownGraceMs: 0 };
    for (const r of [...this.runners.values(), ...this.retiring]) r.hurry();
  }

  private async doStop(): Promise<void> {
    await this.reloading;
    this.state = "stopping";
    this.log.info("stopping: no new messages; waiting for running ones", { grace_s: this.settings.shutdownGraceMs / 1000 });
    sdNotify("STOPPING=1\nSTATUS=stopping", this.opts.env);
    this.writeStatusNow();
    await Promise.all([...this.runners.values()].map((r) => r.stop(this.settings.shutdownGraceMs)));
    // triggers of the last loads get their time (each is bounded by its own timeout)
    await settleTriggers(this.settings.shutdownGraceMs);
    await this.bot?.stop();
    await this.notifier.stop();
    await this.metrics.stop();
    clearInterval(this.statusTimer);
    clearInterval(this.watchdogTimer);
    clearTimeout(this.statusPending);
    await this.db.close();
    this.state = "stopped";
    this.writeStatusNow();
    sdNotify("STATUS=All services stopped", this.opts.env);
    this.log.info("daemon stopped");
    this.doneResolve();
  }

  /** SIGTERM/SIGINT stop (twice: at once), SIGHUP reloads. Returns the uninstaller. */
  installSignals(): () => void {
    let signals = 0;
    const onStop = (sig: NodeJS.Signals) => {
      signals++;
      if (signals === 1) {
        this.log.info(`${sig} received`);
        void this.stop();
      } else {
        this.log.warn(`${sig} received again: requeueing running messages now`);
        this.hurry();
      }
    };
    const onHup = () => void this.reload();
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onStop);
    process.on("SIGHUP", onHup);
    return () => {
      process.off("SIGTERM", onStop);
      process.off("SIGINT", onStop);
      process.off("SIGHUP", onHup);
    };
  }

  status(): DaemonStatus {
    return {
      pid: process.pid,
      version: VERSION,
      state: this.state,
      started_at: this.startedAt,
      updated_at: new Date().toISOString(),
      config: this.config.source,
      status_interval_ms: this.settings.statusIntervalMs,
      database: this.db.state,
      notifier: this.notifier.stats(),
      services: this.scheduleSuccess.observe([...this.runners.values()].map((r) => r.status())),
      metrics: this.metrics.state,
      triggers: triggerStats(),
      bot: this.bot?.stats(),
    };
  }

  private summary(): string {
    const parts = [...this.runners.values()].map((r) => `${r.name} ${r.state}`);
    return `${this.state}: ${parts.join(", ")}`;
  }

  private statusChanged(): void {
    if (this.statusPending || this.state === "stopped") return;
    this.statusPending = setTimeout(() => {
      this.statusPending = undefined;
      this.writeStatusNow();
    }, 200);
  }

  private lastSummary = "";

  private writeStatusNow(): void {
    try {
      writeStatus(this.settings.statusFile, this.status());
    } catch (e) {
      this.log.warn("cannot write the status file", { file: this.settings.statusFile, error: (e as Error).message });
    }
    const summary = this.summary();
    if (summary !== this.lastSummary && this.state !== "starting") {
      this.lastSummary = summary;
      sdNotify(`STATUS=${summary}`, this.opts.env);
    }
  }
}
