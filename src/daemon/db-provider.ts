/**
 * The daemon's database handle, opened lazily and reopened after a failure. The daemon must keep
 * running while the database is away (server down, embedded data directory locked by another
 * process): a failed open is an error for the message at hand, and `healthy()` tells a broken
 * database from a bad message.
 */
import { DbError, type Db } from "../db";
import type { Logger } from "../log";

export type OpenDb = () => Promise<Db>;

export class DbProvider {
  private db: Db | undefined;
  private opening: Promise<Db> | undefined;
  /** What the last open or health check found, for the status file. */
  state: { healthy?: boolean; error?: string } = {};

  constructor(
    private readonly open: OpenDb,
    private readonly log: Logger,
  ) {}

  async get(): Promise<Db> {
    if (this.db) return this.db;
    this.opening ??= this.open()
      .then((db) => {
        this.db = db;
        this.log.debug("database opened", { database: db.database, driver: db.kind });
        return db;
      })
      .catch((e) => {
        this.mark(false, (e as Error).message);
        throw e;
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  /** SELECT 1 through the (re)opened database; a failure drops the handle so the next get reopens. */
  async healthy(): Promise<boolean> {
    try {
      const db = await this.get();
      await db.query("SELECT 1");
      this.mark(true);
      return true;
    } catch (e) {
      this.mark(false, (e as Error).message);
      this.log.debug("database health check failed", { error: (e as Error).message });
      await this.reset();
      return false;
    }
  }

  /** Logs the transitions only: one line when the database goes away, one when it is back. */
  private mark(healthy: boolean, error?: string): void {
    const was = this.state.healthy;
    this.state = healthy ? { healthy } : { healthy, error };
    if (healthy && was !== true) this.log.info(was === false ? "database answers again" : "database ready");
    if (!healthy && was !== false) this.log.warn("database unavailable", { error });
  }

  async reset(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db) await db.close().catch(() => {});
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db) await db.close().catch(() => {});
  }
}

/** Errors that may mean "the database is away" rather than "this message is bad". */
export function mayBeUnavailable(e: unknown): boolean {
  if (e instanceof DbError) return true;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === "string" && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|EAI_AGAIN)$/.test(code);
}
