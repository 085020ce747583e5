/** Pushes every Buffer table of the database into its destination, so acknowledged rows are on disk. */
import { quoteIdent, type Db } from "../db";

export async function flushBuffers(db: Db): Promise<number> {
  const tables = await db.query<{ name: string }>("SELECT name FROM system.tables WHERE database = currentDatabase() AND engine = 'Buffer'");
  for (const t of tables) await db.command(`OPTIMIZE TABLE ${quoteIdent(t.name)}`);
  return tables.length;
}
