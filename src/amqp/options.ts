/** How to reach the broker: plain or TLS (amqps://), with heartbeats always on. */
import { readFileSync } from "node:fs";
import type { Options, SocketOptions } from "amqplib";
import { VERSION } from "../version";

export interface BrokerOptions {
  host: string;
  port: number;
  vhost: string;
  username: string;
  password: string;
  tls: boolean;
  /** CA certificate (PEM file); the broker's certificate and host name are verified against it. */
  cacert?: string;
  /** Client certificate and key (PEM files) for mutual TLS. */
  cert?: string;
  key?: string;
  /** Seconds. */
  heartbeat: number;
  connectTimeoutMs: number;
  reconnectDelayMs: number;
  reconnectDelayMaxMs: number;
}

export class BrokerConfigError extends Error {
  override name = "BrokerConfigError";
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new BrokerConfigError(`cannot read AMQP ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** amqplib's two arguments: the URL parts and the socket (TLS) options. */
export function connectArgs(o: BrokerOptions, connectionName: string): [Options.Connect, SocketOptions] {
  if (!(o.heartbeat > 0)) throw new BrokerConfigError("AMQP heartbeat must be > 0");
  const url: Options.Connect = {
    protocol: o.tls ? "amqps" : "amqp",
    hostname: o.host,
    port: o.port,
    username: o.username,
    password: o.password,
    vhost: o.vhost,
    heartbeat: o.heartbeat,
  };
  const socket: SocketOptions = {
    timeout: o.connectTimeoutMs,
    noDelay: true,
    keepAlive: true,
    clientProperties: { connection_name: connectionName, product: "altrepodb", version: VERSION, information: connectionName },
  };
  if (o.tls) {
    if (o.cacert) socket.ca = [readPem(o.cacert, "CA certificate")];
    if (o.cert || o.key) {
      if (!o.cert || !o.key) throw new BrokerConfigError("AMQP client TLS needs both cert and key");
      socket.cert = readPem(o.cert, "client certificate");
      socket.key = readPem(o.key, "client key");
    }
    socket.rejectUnauthorized = true;
  }
  return [url, socket];
}

/** amqp[s]://user@host:port/vhost — never the password. */
export function describeBroker(o: BrokerOptions): string {
  return `${o.tls ? "amqps" : "amqp"}://${encodeURIComponent(o.username)}@${o.host}:${o.port}/${encodeURIComponent(o.vhost)}`;
}
