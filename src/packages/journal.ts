/**
 * The package batch journal. Rows of a batch reach the tables in order (… Packages, Specfiles,
 * PackageHash last); the journal brackets each batch with "started" and "done". A process killed
 * in between leaves a started batch: the next load deletes the partial rows of its packages that
 * have no PackageHash row yet, so re-parsing them writes each row exactly once.
 */
import { quoteIntArray, quoteIntList, quoteString, type Db } from "../db";
import type { Logger } from "../log";

export const JOURNAL_TABLE = "altrepodb_package_batches";
/** Tables holding rows keyed by pkg_hash, cleaned on recovery (Changelog and FileNames are keyed by content). */
const PER_PACKAGE_TABLES = ["Files", "Depends", "Packages", "Specfiles", "PackageHeaderInfo", "PackageHeaderBlob"];

export async function journalStart(db: Db, batch: string, hashes: readonly bigint[]): Promise<void> {
  await db.command(`INSERT INTO ${JOURNAL_TABLE} (batch, state, pkg_hashes) VALUES (${quoteString(batch)}, 'started', ${quoteIntArray(hashes)})`, {
    settings: { max_query_size: 64 * 1024 * 1024 },
  });
}

export async function journalDone(db: Db, batch: string): Promise<void> {
  await db.command(`INSERT INTO ${JOURNAL_TABLE} (batch, state, pkg_hashes) VALUES (${quoteString(batch)}, 'done', [])`);
}

/** Hashes present in PackageHash among `hashes`. */
export async function hashesInPackageHash(db: Db, hashes: readonly bigint[]): Promise<Set<bigint>> {
  const found = new Set<bigint>();
  for (let i = 0; i < hashes.length; i += 20_000) {
    const part = hashes.slice(i, i + 20_000);
    const rows = await db.query<{ h: bigint }>(`SELECT DISTINCT pkgh_mmh AS h FROM PackageHash WHERE pkgh_mmh IN ${quoteIntList(part)}`, {
      settings: { max_query_size: 64 * 1024 * 1024 },
    });
    for (const r of rows) found.add(r.h);
  }
  return found;
}

/** Cleans up after batches that started and never finished. Returns the number of packages cleaned. */
export async function recoverUnfinished(db: Db, log: Logger): Promise<number> {
  const open = await db.query<{ batch: string; hashes: bigint[] }>(
    `SELECT batch, groupArrayArray(pkg_hashes) AS hashes FROM ${JOURNAL_TABLE} GROUP BY batch HAVING countIf(state = 'done') = 0`,
  );
  let cleaned = 0;
  for (const b of open) {
    const complete = await hashesInPackageHash(db, b.hashes);
    const partial = b.hashes.filter((h) => !complete.has(h));
    if (partial.length) {
      log.warn("cleaning rows of an interrupted load", { batch: b.batch, packages: partial.length });
      for (let i = 0; i < partial.length; i += 10_000) {
        const list = quoteIntList(partial.slice(i, i + 10_000));
        for (const t of PER_PACKAGE_TABLES) await db.command(`DELETE FROM ${t} WHERE pkg_hash IN ${list}`, { settings: { max_query_size: 64 * 1024 * 1024 } });
      }
      cleaned += partial.length;
    }
    await journalDone(db, b.batch);
  }
  return cleaned;
}
