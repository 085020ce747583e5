/**
 * SQLite `rpmdb.sqlite` (rpm ≥ 4.16): table Packages(hnum INTEGER PRIMARY KEY, blob BLOB), read
 * with Bun's built-in SQLite.
 *
 * The user's database is opened read-only and immutable (`file:…?immutable=1`): SQLite then takes
 * no lock and creates no -wal, -shm or -journal file next to it. An immutable open ignores a
 * write-ahead log, so when a non-empty `<db>-wal` exists (a database copied from a running system)
 * the database and its log are copied into a private temporary directory and read from there.
 * A database that is not a file of its own (inside an image) is copied there too.
 */
import { constants, Database, type Statement } from "bun:sqlite";
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { recordOf, type RpmdbRecord } from "./blob.ts";
import { RpmdbError } from "./errors.ts";
import type { ByteSource } from "./source.ts";

export const SQLITE_MAGIC = "SQLite format 3\0";

function uri(path: string): string {
  return `file:${encodeURI(resolve(path)).replaceAll("?", "%3F").replaceAll("#", "%23")}?immutable=1`;
}

/** Copy a source into a new file, 1 MiB at a time. */
function copySource(src: ByteSource, file: string): void {
  const fd = openSync(file, "wx", 0o600);
  try {
    const buf = new Uint8Array(1 << 20);
    for (let pos = 0; pos < src.size; ) {
      const n = src.readAt(buf.subarray(0, Math.min(buf.length, src.size - pos)), pos);
      if (n === 0) throw new RpmdbError("truncated", `read ${pos} of the ${src.size} bytes announced`, src.path);
      writeSync(fd, buf, 0, n);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

function nonEmpty(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

export class SqlitePackages {
  readonly format = "sqlite" as const;
  readonly count: number;
  private db: Database;
  private tmp: string | null = null;

  /**
   * `source`: the database is not a file of its own (a file inside an image): it is copied into a
   * private temporary file, read from there and deleted on close. `path` then only names it.
   */
  constructor(
    readonly path: string,
    source?: ByteSource,
  ) {
    try {
      if (source) {
        this.tmp = mkdtempSync(join(tmpdir(), "altrepodb-rpmdb-"));
        const copy = join(this.tmp, "rpmdb.sqlite");
        copySource(source, copy);
        this.db = new Database(copy, { readonly: false, create: false });
      } else if (nonEmpty(`${path}-wal`)) {
        this.tmp = mkdtempSync(join(tmpdir(), "altrepodb-rpmdb-"));
        const copy = join(this.tmp, "rpmdb.sqlite");
        copyFileSync(path, copy);
        copyFileSync(`${path}-wal`, `${copy}-wal`);
        this.db = new Database(copy, { readonly: false, create: false });
      } else {
        this.db = new Database(uri(path), constants.SQLITE_OPEN_READONLY | constants.SQLITE_OPEN_URI);
      }
    } catch (e) {
      this.cleanup();
      throw this.error(e, "cannot open");
    }
    try {
      const table = this.db.query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'Packages'").get() as { sql: string } | null;
      if (!table) throw new RpmdbError("format", "no Packages table: not an rpm sqlite database", path);
      this.count = (this.db.query("SELECT count(*) AS n FROM Packages").get() as { n: number }).n;
    } catch (e) {
      this.close();
      throw this.error(e, "cannot read the Packages table");
    }
  }

  private error(e: unknown, what: string): RpmdbError {
    if (e instanceof RpmdbError) return e;
    const msg = e instanceof Error ? e.message : String(e);
    return new RpmdbError("corrupt", `${what}: sqlite: ${msg}`, this.path);
  }

  /** Package records by hnum (rpm's order). */
  *records(): Generator<RpmdbRecord> {
    let stmt: Statement | undefined;
    try {
      stmt = this.db.query("SELECT hnum, blob FROM Packages ORDER BY hnum");
      for (const row of stmt.iterate() as IterableIterator<{ hnum: number; blob: unknown }>) {
        const where = `hnum ${row.hnum}`;
        if (!(row.blob instanceof Uint8Array)) {
          yield { key: row.hnum, where, header: new Uint8Array(0), error: new RpmdbError("header", `the blob column holds ${typeof row.blob}, not a header blob`, this.path, where) };
          continue;
        }
        yield recordOf(this.path, row.hnum, where, row.blob);
      }
    } catch (e) {
      throw this.error(e, "cannot read the Packages table");
    } finally {
      stmt?.finalize();
    }
  }

  close(): void {
    this.db?.close();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.tmp) rmSync(this.tmp, { recursive: true, force: true });
    this.tmp = null;
  }
}
