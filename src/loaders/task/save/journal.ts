/**
 * Log journal: which task logs are in TaskLogs, with how many lines and a fingerprint, so a
 * reload neither scans TaskLogs (its sorting key starts with the message text: a lookup by
 * tlog_hash reads the whole column) nor writes a line twice.
 *
 * Each log write is bracketed: 'started' (lines already present before, lines after) before
 * any row is sent, 'done' after the rows are flushed. A 'started' entry without a later 'done'
 * belongs to an interrupted load: the next load deletes that log's rows past the last done
 * line count and writes them again.
 *
 * The table is altrepodb's own bookkeeping (like altrepodb_package_batches), created by the
 * migration sql/0101_task_log_journal.sql.
 */
import { quoteIntList, type Db } from "../../../db";

export const LOG_JOURNAL = "altrepodb_task_logs";

export interface LogJournalState {
  /** Lines of the log known to be stored, and their fingerprint (0/0n: none). */
  lines: number;
  fingerprint: bigint;
  /** An interrupted write: rows past `lines` may be stored partially. */
  interrupted: boolean;
}

/** The state of each log in the journal (logs never written are absent). */
export async function readLogJournal(db: Db, hashes: readonly bigint[]): Promise<Map<bigint, LogJournalState>> {
  const out = new Map<bigint, LogJournalState>();
  if (hashes.length === 0) return out;
  const rows = await db.query<{ h: bigint; lines: number; fp: bigint; last: string }>(
    `SELECT tlog_hash AS h,
            argMaxIf(lines, at, state = 'done') AS lines,
            argMaxIf(fingerprint, at, state = 'done') AS fp,
            toString(argMax(state, at)) AS last
     FROM ${LOG_JOURNAL} WHERE tlog_hash IN ${quoteIntList(hashes)} GROUP BY tlog_hash`,
  );
  for (const r of rows) out.set(BigInt(r.h), { lines: Number(r.lines), fingerprint: BigInt(r.fp), interrupted: r.last !== "done" });
  return out;
}

export async function writeLogJournal(db: Db, entries: { taskId: number; hash: bigint; state: "started" | "done"; lines: number; fingerprint: bigint }[]): Promise<void> {
  if (entries.length === 0) return;
  const values = entries.map((e) => `(${e.taskId}, ${e.hash}, '${e.state}', ${e.lines}, ${e.fingerprint})`).join(", ");
  await db.command(`INSERT INTO ${LOG_JOURNAL} (task_id, tlog_hash, state, lines, fingerprint) VALUES ${values}`);
}
