/** Table layouts (insertable columns and types), asked from the server once per table and cached. */
import { quoteIdent } from "./sql";
import type { ColumnInfo, Db } from "./types";
import { compileLayout, type LayoutColumn, type RowEncoder } from "./rowbinary";
import { DbError } from "./errors";

const cache = new WeakMap<Db, Map<string, Promise<ColumnInfo[]>>>();

export function describeTable(db: Db, table: string): Promise<ColumnInfo[]> {
  let perDb = cache.get(db);
  if (!perDb) cache.set(db, (perDb = new Map()));
  let found = perDb.get(table);
  if (!found) {
    // DESCRIBE works on every server version and on temporary tables (system.columns does not)
    found = db.query<{ name: string; type: string; default_type: string }>(`DESCRIBE TABLE ${quoteIdent(table)}`).then(
      (rows) => rows.map((r) => ({ name: r.name, type: r.type, defaultKind: r.default_type })),
      (e) => {
        if (e instanceof DbError && e.code === 60) throw new DbError(`table ${table} does not exist in database ${db.database}`, "run `altrepodb db init`");
        throw e;
      },
    );
    found.catch(() => perDb!.delete(table));
    perDb.set(table, found);
  }
  return found;
}

/** Without `columns`: the plain columns (DEFAULT, MATERIALIZED, ALIAS and EPHEMERAL ones are left to the server). */
export async function insertLayout(db: Db, table: string, columns?: readonly string[]): Promise<LayoutColumn[]> {
  const all = await describeTable(db, table);
  if (!columns) return all.filter((c) => c.defaultKind === "");
  return columns.map((name) => {
    const c = all.find((x) => x.name === name);
    if (!c) throw new DbError(`table ${table} has no column ${name}`, "run `altrepodb db migrate`");
    return { name: c.name, type: c.type };
  });
}

export async function tableEncoder(db: Db, table: string, columns?: readonly string[]): Promise<RowEncoder> {
  return compileLayout(table, await insertLayout(db, table, columns));
}
