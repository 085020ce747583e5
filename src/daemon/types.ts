/**
 * The contract of a daemon service module. A loader becomes a service by one module that says
 * which routing keys it takes, how their payloads look (valibot), which options it reads from
 * [services.<name>.options], and how to handle one message — by calling the same loader
 * function the CLI calls. The runner does everything else (AMQP, retries, dead letters,
 * notifications, status).
 */
import type * as v from "valibot";
import type { Config } from "../config";
import type { Db, RowCounts } from "../db";
import type { Logger } from "../log";

export interface ServiceContext<O = unknown> {
  service: string;
  db: Db;
  config: Config;
  /** [services.<name>.options], validated by the module's `options` schema. */
  options: O;
  log: Logger;
  /** Aborted on shutdown (after the grace period) or when the message times out. */
  signal: AbortSignal;
}

export interface IncomingMessage<P = unknown> {
  routingKey: string;
  /** The JSON body after validation with the module's schema for this routing key. */
  payload: P;
  messageId?: string;
  /** 1 for the first try. */
  attempt: number;
  source: "amqp" | "schedule";
  /** AMQP timestamp property, when the publisher set one. */
  publishedAt?: Date;
}

export interface HandleResult {
  /** One line for the log and the notification. */
  summary?: string;
  rows?: RowCounts;
  /** True when nothing had to be done (already loaded, a state that needs no load, …). */
  skipped?: boolean;
  /** Called once the rows are committed (Buffer tables flushed): starts the load's [[triggers]]; must not block. */
  after?: () => void;
}

/** An `altrepodb amqpfire <verb> ARGS…` form that builds one message for this service. */
export interface FireVerb {
  name: string;
  usage: string;
  description: string;
  /** Throws an Error whose message is shown as a usage error. */
  build(args: readonly string[], config: Config): { routingKey: string; payload: unknown };
}

export interface ServiceDefaults {
  queue: string;
  exchange: string;
  /** Bound to the queue when the config names none; also every key the service accepts. */
  routingKeys: readonly string[];
}

export interface ServiceModule<P = any, O = any> {
  name: string;
  description: string;
  defaults: ServiceDefaults;
  /** The payload schema for a routing key; undefined = the service does not take that key. */
  schema(routingKey: string): v.GenericSchema<unknown, P> | undefined;
  /** Schema of [services.<name>.options] (unknown keys should be refused). */
  options: v.GenericSchema<unknown, O>;
  handle(ctx: ServiceContext<O>, msg: IncomingMessage<P>): Promise<HandleResult>;
  /**
   * What the message loads (e.g. "task 412345", "p10 2026-11-20"): two messages with the same
   * key never run at the same time in one daemon, the later waits. Undefined = no such limit.
   */
  key?(msg: IncomingMessage<P>): string | undefined;
  fire?: readonly FireVerb[];
}
