/**
 * Numbered SQL migrations (sql/NNNN_name.sql), embedded in the binary.
 * A bookkeeping table records version, checksum, time and, for a failure, the step that failed.
 */
import { createHash } from "node:crypto";
import { DbError } from "../errors";
import { quoteIdent, quoteString } from "../sql";
import type { Db } from "../types";
import { migrationFiles } from "./bundle";
import { splitStatements, toClusterStatement } from "./cluster";

export const MIGRATIONS_TABLE = "altrepodb_migrations";

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

export interface MigrationState {
  version: number;
  name: string;
  state: "applied" | "pending" | "failed" | "changed";
  appliedAt?: string;
  failedStep?: number;
  error?: string;
}

export interface MigrateOptions {
  cluster?: string;
  onStep?: (m: Migration, step: number) => void;
}

export function loadMigrations(files: Record<string, string> = migrationFiles()): Migration[] {
  return Object.entries(files)
    .map(([file, text]) => {
      const m = /^(\d{4})_([A-Za-z0-9_-]+)\.sql$/.exec(file);
      if (!m) throw new Error(`bad migration file name ${file}`);
      return {
        version: Number(m[1]),
        name: file,
        checksum: createHash("sha256").update(text).digest("hex"),
        statements: splitStatements(text),
      };
    })
    .sort((a, b) => a.version - b.version);
}

/** The first words of a statement, on one line, to name it in a message. */
export function statementHead(stmt: string, max = 60): string {
  const flat = stmt.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max + 1);
  const space = cut.lastIndexOf(" ");
  return `${(space > max / 2 ? cut.slice(0, space) : cut.slice(0, max)).trimEnd()}…`;
}

function render(stmt: string, db: Db, cluster?: string): string {
  const s = stmt.replaceAll("{database}", quoteIdent(db.database));
  return cluster ? toClusterStatement(s, cluster) : s;
}

async function ensureTable(db: Db, cluster?: string): Promise<void> {
  const ddl = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE}
(
    version UInt32,
    name String,
    checksum String,
    status Enum8('applied' = 1, 'failed' = 2),
    failed_step UInt32,
    error String,
    at DateTime64(6) DEFAULT now64(6)
)
ENGINE = MergeTree
ORDER BY (version, at)`;
  await db.command(render(ddl, db, cluster));
}

interface Recorded {
  version: number;
  checksum: string;
  status: "applied" | "failed";
  failed_step: number;
  error: string;
  last_at: string;
}

async function recorded(db: Db): Promise<Map<number, Recorded>> {
  const rows = await db.query<Recorded>(
    `SELECT version, argMax(checksum, at) AS checksum, argMax(status, at) AS status, argMax(failed_step, at) AS failed_step,
            argMax(error, at) AS error, toString(toDateTime(max(at))) AS last_at
     FROM ${MIGRATIONS_TABLE} GROUP BY version`,
  );
  return new Map(rows.map((r) => [Number(r.version), r]));
}

async function record(db: Db, m: Migration, status: "applied" | "failed", step = 0, error = ""): Promise<void> {
  await db.command(
    `INSERT INTO ${MIGRATIONS_TABLE} (version, name, checksum, status, failed_step, error) VALUES (${m.version}, ${quoteString(m.name)}, ${quoteString(m.checksum)}, ${quoteString(status)}, ${step}, ${quoteString(error)})`,
  );
}

export async function migrationStatus(db: Db, migrations = loadMigrations()): Promise<MigrationState[]> {
  const exists = await db.query<{ n: bigint }>(
    `SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = ${quoteString(MIGRATIONS_TABLE)}`,
  );
  const done = exists[0].n > 0n ? await recorded(db) : new Map<number, Recorded>();
  return migrations.map((m) => {
    const r = done.get(m.version);
    if (!r) return { version: m.version, name: m.name, state: "pending" };
    if (r.status === "failed") return { version: m.version, name: m.name, state: "failed", appliedAt: r.last_at, failedStep: Number(r.failed_step), error: r.error };
    if (r.checksum !== m.checksum) return { version: m.version, name: m.name, state: "changed", appliedAt: r.last_at };
    return { version: m.version, name: m.name, state: "applied", appliedAt: r.last_at };
  });
}

/** Applies pending migrations in order; returns the names applied. Idempotent. */
export async function migrate(db: Db, opts: MigrateOptions = {}, migrations = loadMigrations()): Promise<string[]> {
  await ensureTable(db, opts.cluster);
  const states = await migrationStatus(db, migrations);
  const changed = states.find((s) => s.state === "changed");
  if (changed) {
    throw new DbError(
      `migration ${changed.name} was changed after it was applied (checksum differs)`,
      "migrations are append-only: put the change in a new numbered file",
    );
  }
  const applied: string[] = [];
  for (const m of migrations) {
    if (states.find((s) => s.version === m.version)?.state === "applied") continue;
    for (let i = 0; i < m.statements.length; i++) {
      opts.onStep?.(m, i + 1);
      try {
        await db.command(render(m.statements[i], db, opts.cluster));
      } catch (e) {
        const msg = (e as Error).message;
        await record(db, m, "failed", i + 1, msg).catch(() => {});
        throw new DbError(`migration ${m.name} failed at statement ${i + 1} of ${m.statements.length} (${statementHead(m.statements[i])}): ${msg}`, "fix the cause and run `altrepodb db migrate` again; `altrepodb db status` shows the failed step");
      }
    }
    await record(db, m, "applied");
    applied.push(m.name);
  }
  return applied;
}
