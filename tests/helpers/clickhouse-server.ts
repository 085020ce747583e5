/**
 * A throwaway clickhouse-server for the http half of the database tests.
 *
 * Starts the distribution's `clickhouse-server` (Debian: package clickhouse-server, 18.16) as a
 * child process on 127.0.0.1, on free ports, with its own config, users and data directory
 * under the test scratch area; waits until it answers; stops it and removes the directory
 * afterwards. Nothing of the system's installation (/etc/clickhouse-server, /var/lib/clickhouse,
 * systemd) is used or touched.
 *
 * Environment:
 *   ALTREPODB_TEST_CLICKHOUSE_SERVER  path of the server binary (default: found on PATH, /usr/sbin, /usr/bin)
 *   ALTREPODB_TEST_CLICKHOUSE_URL     use this running server instead (ALTREPODB_TEST_CLICKHOUSE_USER and
 *                                     _PASSWORD for an admin account); tests that need the helper's own
 *                                     users or TLS are skipped then
 *   ALTREPODB_TEST_KEEP=1             keep the server's directory (logs) after the tests
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface Account {
  user: string;
  password: string;
}

export interface ClickHouseServer {
  /** http://127.0.0.1:PORT */
  url: string;
  /** `SELECT version()` */
  version: string;
  /** Full rights, may create databases. */
  admin: Account;
  /** Started by this helper (its own users, TLS, logs) rather than given by ALTREPODB_TEST_CLICKHOUSE_URL. */
  managed: boolean;
  /** A user with a password (managed servers only). */
  loader?: Account;
  /** A user whose profile is readonly=2: no DDL, no writes (managed servers only). */
  reader?: Account;
  /** A user whose profile is readonly=1: not even settings (managed servers only). */
  strict?: Account;
  /** https://127.0.0.1:PORT and the CA that signed its certificate (managed servers, when openssl is installed). */
  tls?: { url: string; caFile: string };
  /** The server's working directory (config, data, logs). */
  dir?: string;
  stop(): Promise<void>;
}

const CANDIDATES = ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server", "/usr/local/bin/clickhouse-server"];

/** The clickhouse-server binary, or undefined when it is not installed. */
export function findClickHouseServer(): string | undefined {
  const env = process.env.ALTREPODB_TEST_CLICKHOUSE_SERVER;
  if (env) return existsSync(env) ? env : undefined;
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    const p = join(dir, "clickhouse-server");
    if (existsSync(p)) return p;
  }
  return CANDIDATES.find((p) => existsSync(p));
}

/** Why the http tests cannot run here, or undefined when they can. */
export function clickHouseUnavailable(): string | undefined {
  if (process.env.ALTREPODB_TEST_CLICKHOUSE_URL) return undefined;
  if (findClickHouseServer()) return undefined;
  const env = process.env.ALTREPODB_TEST_CLICKHOUSE_SERVER;
  if (env) return `ALTREPODB_TEST_CLICKHOUSE_SERVER=${env} does not exist`;
  return "clickhouse-server is not installed (Debian: apt-get install clickhouse-server; or set ALTREPODB_TEST_CLICKHOUSE_SERVER / ALTREPODB_TEST_CLICKHOUSE_URL)";
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sql(url: string, account: Account, query: string): Promise<string> {
  const res = await fetch(url + "/", {
    method: "POST",
    body: query,
    headers: { authorization: "Basic " + Buffer.from(`${account.user}:${account.password}`).toString("base64") },
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${query}: HTTP ${res.status}: ${text.trim()}`);
  return text.trim();
}

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A CA and a certificate for 127.0.0.1 signed by it; undefined without openssl. */
function makeCertificates(dir: string): { ca: string; cert: string; key: string } | undefined {
  const run = (...args: string[]) => spawnSync("openssl", args, { cwd: dir, stdio: "ignore" }).status === 0;
  const subj = (cn: string) => ["-subj", `/CN=${cn}`];
  writeFileSync(join(dir, "san.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  const ok =
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", ...subj("altrepodb test CA"), "-keyout", "ca.key", "-out", "ca.crt") &&
    run("req", "-newkey", "rsa:2048", "-nodes", ...subj("127.0.0.1"), "-keyout", "server.key", "-out", "server.csr") &&
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.cnf", "-out", "server.crt");
  return ok ? { ca: join(dir, "ca.crt"), cert: join(dir, "server.crt"), key: join(dir, "server.key") } : undefined;
}

interface Ports {
  http: number;
  tcp: number;
  https?: number;
}

function configXml(dir: string, ports: Ports, tls?: { cert: string; key: string }): string {
  const https = tls && ports.https
    ? `
  <https_port>${ports.https}</https_port>
  <openSSL>
    <server>
      <certificateFile>${xml(tls.cert)}</certificateFile>
      <privateKeyFile>${xml(tls.key)}</privateKeyFile>
      <verificationMode>none</verificationMode>
      <loadDefaultCAFile>false</loadDefaultCAFile>
      <cacheSessions>true</cacheSessions>
      <disableProtocols>sslv2,sslv3</disableProtocols>
      <preferServerCiphers>true</preferServerCiphers>
    </server>
  </openSSL>`
    : "";
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${xml(join(dir, "log", "server.log"))}</log>
    <errorlog>${xml(join(dir, "log", "server.err.log"))}</errorlog>
    <console>0</console>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${ports.http}</http_port>
  <tcp_port>${ports.tcp}</tcp_port>${https}
  <path>${xml(join(dir, "data"))}/</path>
  <tmp_path>${xml(join(dir, "tmp"))}/</tmp_path>
  <user_files_path>${xml(join(dir, "user_files"))}/</user_files_path>
  <format_schema_path>${xml(join(dir, "format_schemas"))}/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
  <keep_alive_timeout>10</keep_alive_timeout>
</yandex>
`;
}

const LOADER: Account = { user: "loader", password: "s3cret-loader" };
const READER: Account = { user: "reader", password: "s3cret-reader" };
const STRICT: Account = { user: "strict", password: "s3cret-strict" };

function usersXml(): string {
  const local = "<networks><ip>127.0.0.1</ip><ip>::1</ip></networks>";
  const user = (name: string, password: string, profile: string) =>
    `<${name}><password>${xml(password)}</password>${local}<profile>${profile}</profile><quota>default</quota></${name}>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default></default>
    <readonly><readonly>2</readonly></readonly>
    <strict><readonly>1</readonly></strict>
  </profiles>
  <users>
    ${user("default", "", "default")}
    ${user(LOADER.user, LOADER.password, "default")}
    ${user(READER.user, READER.password, "readonly")}
    ${user(STRICT.user, STRICT.password, "strict")}
  </users>
  <quotas><default></default></quotas>
</yandex>
`;
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-lines).join("\n");
  } catch {
    return "";
  }
}

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((p) => existsSync(p));

let seq = 0;
const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  // 18.16 lingers for its keep-alive connections after SIGTERM; its data is thrown away anyway
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
  await exited;
  clearTimeout(timer);
}

/** Starts the server once; rejects with the server's own complaint when it does not come up. */
async function startOnce(binary: string, dir: string, certs: ReturnType<typeof makeCertificates>, readyTimeoutMs: number): Promise<{ child: ChildProcess; ports: Ports }> {
  const ports: Ports = { http: await freePort(), tcp: await freePort(), https: certs ? await freePort() : undefined };
  writeFileSync(join(dir, "config.xml"), configXml(dir, ports, certs));
  writeFileSync(join(dir, "users.xml"), usersXml());
  const args = [`--config-file=${join(dir, "config.xml")}`];
  // setpriv (util-linux) makes the kernel kill the server when this process dies, even by SIGKILL
  const child = SETPRIV
    ? spawn(SETPRIV, ["--pdeathsig", "KILL", "--", binary, ...args], { cwd: dir, stdio: ["ignore", "ignore", "pipe"] })
    : spawn(binary, args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let stderr = "";
  child.stderr?.on("data", (d) => {
    if (stderr.length < 10_000) stderr += String(d);
  });
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.once("error", (e) => (exited = e.message));

  const url = `http://127.0.0.1:${ports.http}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) {
      const log = tail(join(dir, "log", "server.err.log")) || stderr.trim();
      throw new Error(`clickhouse-server stopped while starting (${exited})${log ? `:\n${log}` : ""}`);
    }
    try {
      const res = await fetch(url + "/ping", { signal: AbortSignal.timeout(2000) });
      if (res.ok && (await res.text()).startsWith("Ok")) {
        await sql(url, { user: "default", password: "" }, "SELECT 1");
        return { child, ports };
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopChild(child);
      const log = tail(join(dir, "log", "server.err.log")) || stderr.trim();
      throw new Error(`clickhouse-server did not answer on ${url} within ${readyTimeoutMs / 1000} s${log ? `:\n${log}` : ""}`);
    }
    await sleep(100);
  }
}

/**
 * Starts a private clickhouse-server (or connects to ALTREPODB_TEST_CLICKHOUSE_URL).
 * Returns undefined when no server binary is installed; throws when one is but does not start.
 */
export async function startClickHouseServer(opts: { readyTimeoutMs?: number; scratch?: string } = {}): Promise<ClickHouseServer | undefined> {
  const external = process.env.ALTREPODB_TEST_CLICKHOUSE_URL;
  if (external) {
    const admin = { user: process.env.ALTREPODB_TEST_CLICKHOUSE_USER ?? "default", password: process.env.ALTREPODB_TEST_CLICKHOUSE_PASSWORD ?? "" };
    const url = external.replace(/\/+$/, "");
    return { url, admin, managed: false, version: await sql(url, admin, "SELECT version()"), stop: async () => {} };
  }
  const binary = findClickHouseServer();
  if (!binary) return undefined;

  const scratch = opts.scratch ?? process.env.ALTREPODB_TEST_SCRATCH ?? join(import.meta.dir, "..", "..", ".tmp", "test");
  const dir = join(scratch, `clickhouse-${process.pid}-${++seq}`);
  rmSync(dir, { recursive: true, force: true });
  for (const d of ["data", "tmp", "user_files", "format_schemas", "log"]) mkdirSync(join(dir, d), { recursive: true });
  const certs = makeCertificates(dir);

  // A port may be taken between choosing and binding it: try again on fresh ports.
  let started: { child: ChildProcess; ports: Ports } | undefined;
  let lastError: unknown;
  for (let i = 0; i < 3 && !started; i++) {
    try {
      started = await startOnce(binary, dir, certs, opts.readyTimeoutMs ?? 60_000);
    } catch (e) {
      lastError = e;
      if (!/Address already in use|bind/i.test(String((e as Error).message))) break;
    }
  }
  if (!started) {
    if (!process.env.ALTREPODB_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }
  const { child, ports } = started;
  const url = `http://127.0.0.1:${ports.http}`;
  const admin = { user: "default", password: "" };
  let stopped = false;
  return {
    url,
    version: await sql(url, admin, "SELECT version()"),
    admin,
    managed: true,
    loader: LOADER,
    reader: READER,
    strict: STRICT,
    tls: certs && ports.https ? { url: `https://127.0.0.1:${ports.https}`, caFile: certs.ca } : undefined,
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(child);
      if (!process.env.ALTREPODB_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };
}
