/**
 * TEST-ONLY: the engine thread of tests/helpers/chdb-http-server.ts. It owns every libchdb
 * connection and runs one request at a time, in the order they arrive, so that the HTTP thread
 * stays free to answer (and to refuse a busy session) while a statement runs — as a real
 * server does.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ChdbConnection, loadLibchdb } from "../../src/db/embedded/libchdb";

declare const self: Worker;

export type EngineRequest =
  | { id: number; op: "init"; dataDir: string; spool: string }
  | { id: number; op: "open" }
  | { id: number; op: "close"; conn: number }
  | { id: number; op: "exec"; conn?: number; sql: string; format: string; settings: [string, string][]; database?: string; data?: Uint8Array };

export type EngineReply = { id: number; out?: Uint8Array; conn?: number; version?: string; error?: { code: number; text: string } };

let lib: ReturnType<typeof loadLibchdb>["lib"];
let dataDir = "";
let spool = "";
let seq = 0;
let fileSeq = 0;
const conns = new Map<number, ChdbConnection>();

function quote(v: string): string {
  return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/** A SET value: numbers as they are, everything else a string literal. */
function literal(v: string): string {
  return /^-?\d+(\.\d+)?$/.test(v) ? v : quote(v);
}

function ident(name: string): string {
  return "`" + name.replace(/\\/g, "\\\\").replace(/`/g, "\\`") + "`";
}

class Failure extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(text);
  }
}

/** One statement with per-request settings; the connection's own settings are restored after. */
function execute(conn: ChdbConnection, r: Extract<EngineRequest, { op: "exec" }>): Uint8Array {
  if (r.database !== undefined) conn.query(`USE ${ident(r.database)}`);
  let previous: { name: string; value: string; changed: string }[] = [];
  if (r.settings.length > 0) {
    const names = r.settings.map(([k]) => quote(k)).join(", ");
    const rows = conn.query(`SELECT name, value, toString(changed) AS changed FROM system.settings WHERE name IN (${names})`, "JSONEachRow").toString();
    previous = rows.split("\n").filter(Boolean).map((l) => JSON.parse(l));
    for (const [k, v] of r.settings) {
      if (!previous.some((p) => p.name === k)) throw new Failure(115, `Code: 115. DB::Exception: Unknown setting '${k}'. (UNKNOWN_SETTING)`);
      conn.query(`SET ${ident(k)} = ${literal(v)}`);
    }
  }
  let file: string | undefined;
  try {
    let statement = r.sql;
    if (r.data) {
      // rows in the body: the engine reads them from a file, byte for byte
      const m = /^(\s*INSERT\s+INTO\s+[\s\S]*?)\s+FORMAT\s+([A-Za-z0-9_]+)\s*$/i.exec(r.sql);
      if (!m) throw new Failure(62, "Code: 62. DB::Exception: this test server takes rows in the body only after INSERT … FORMAT F in the query parameter. (SYNTAX_ERROR)");
      file = join(spool, `${++fileSeq}.bin`);
      writeFileSync(file, r.data);
      statement = `${m[1]} FROM INFILE '${file}' FORMAT ${m[2]}`;
    }
    return conn.query(statement, r.format);
  } finally {
    if (file) rmSync(file, { force: true });
    for (const p of previous) conn.query(`SET ${ident(p.name)} = ${p.changed === "1" ? literal(p.value) : "DEFAULT"}`);
  }
}

function handle(r: EngineRequest): EngineReply {
  switch (r.op) {
    case "init": {
      dataDir = r.dataDir;
      spool = r.spool;
      lib = loadLibchdb().lib;
      const c = new ChdbConnection(lib, dataDir);
      conns.set(0, c);
      return { id: r.id, version: c.query("SELECT version()").toString().trim() };
    }
    case "open": {
      const id = ++seq;
      conns.set(id, new ChdbConnection(lib, dataDir));
      return { id: r.id, conn: id };
    }
    case "close":
      conns.get(r.conn)?.close();
      conns.delete(r.conn);
      return { id: r.id };
    case "exec": {
      const own = r.conn === undefined;
      const conn = own ? new ChdbConnection(lib, dataDir) : conns.get(r.conn!);
      if (!conn) throw new Failure(372, `Code: 372. DB::Exception: Session connection ${r.conn} is gone. (SESSION_NOT_FOUND)`);
      try {
        return { id: r.id, out: execute(conn, r) };
      } finally {
        if (own) conn.close();
      }
    }
  }
}

self.onmessage = (ev: MessageEvent<EngineRequest>) => {
  const r = ev.data;
  let reply: EngineReply;
  try {
    reply = handle(r);
  } catch (e) {
    const text = e instanceof Failure ? e.text : ((e as Error).message ?? String(e));
    const code = e instanceof Failure ? e.code : Number(/Code: (\d+)\./.exec(text)?.[1] ?? 1001);
    reply = { id: r.id, error: { code, text: /^Code: \d+\./.test(text) ? text : `Code: ${code}. DB::Exception: ${text}. (STD_EXCEPTION)` } };
  }
  self.postMessage(reply);
};
