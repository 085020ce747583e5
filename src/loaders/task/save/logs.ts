/**
 * TaskLogs: every log of the task streamed into the table (reference log_load_worker_pool, §3.7).
 *
 * Idempotency without reading TaskLogs (see journal.ts): per log, the journal says how many
 * lines are stored and their fingerprint (XOR of the rows' RowBinary hashes). While the file is
 * streamed, the fingerprint of its first `stored` lines is compared:
 * - same line count and fingerprint: the log is unchanged, nothing is written;
 * - more lines, same prefix: the log grew (a running build, new events), only the new lines are written;
 * - otherwise (a build log whose mtime moved shifts every timestamp, a rewritten file): the
 *   log's rows are deleted and the whole log is written again.
 * A log missing from the journal whose first line is nevertheless in TaskLogs (loaded before
 * the journal existed) is rewritten too; that check is a lookup by the table's sorting key.
 */
import { BatchWriter, compileLayout, dedupToken, hexLiteral, insertLayout, RowWriter, type Db, type RowEncoder } from "../../../db";
import { mmhash } from "../../../hash";
import type { LoadContext } from "../../context";
import { throwIfAborted } from "../../errors";
import type { TaskFs } from "../fs";
import type { Task, TaskLog } from "../model";
import { parseLog, type LogLine } from "../parse/logs";
import { hook } from "../hook";
import { readLogJournal, writeLogJournal, type LogJournalState } from "./journal";

export interface LogOutcome {
  path: string;
  lines: number;
  written: number;
  action: "new" | "unchanged" | "appended" | "rewritten";
}

export interface LogsResult {
  logs: LogOutcome[];
  rows: number;
}

interface Ctx {
  ctx: LoadContext;
  db: Db;
  fs: TaskFs;
  taskId: number;
  enc: RowEncoder;
  writer?: BatchWriter;
  dryRun: boolean;
  chunkSize?: number;
}

const scratch = new RowWriter(4096);
const utf8 = new TextEncoder();

/** Messages from this length (characters or bytes) on get a row buffer of their own, of exactly their size. */
const LONG_MESSAGE = 64 * 1024;

/** A row from this size on is inserted alone, after the garbage of its line is collected. */
const HUGE_ROW = 16 * 1024 * 1024;

const NO_BYTES = new Uint8Array(0);

/**
 * A row's RowBinary bytes. Short rows are encoded into a shared scratch buffer (valid until the
 * next call; `owned` false). A long message gets a row buffer of the exact size, which the caller
 * hands to the batch as it is (`owned`): a long line costs its row once, and no buffer grown for
 * it stays allocated afterwards.
 */
function encodeRow(enc: RowEncoder, hash: bigint, l: LogLine): { bytes: Uint8Array; owned: boolean } {
  const m = l.message;
  if (m.length < LONG_MESSAGE) {
    scratch.pos = 0;
    enc.encode(scratch, { tlog_hash: hash, tlog_line: l.line, tlog_ts: l.ts, tlog_message: m });
    return { bytes: scratch.bytes(), owned: false };
  }
  // the other columns as they encode with an empty message, which is the last column
  if (enc.columns[enc.columns.length - 1] !== "tlog_message") throw new Error("TaskLogs: tlog_message is expected to be the last column");
  scratch.pos = 0;
  enc.encode(scratch, { tlog_hash: hash, tlog_line: l.line, tlog_ts: l.ts, tlog_message: NO_BYTES });
  const head = scratch.bytes().subarray(0, scratch.pos - 1); // without the empty message's length byte
  const length = typeof m === "string" ? Buffer.byteLength(m, "utf8") : m.length;
  if (typeof m !== "string" && m.byteOffset >= head.length + 10) {
    // the message is a view of its line, read with headroom (LINE_HEADROOM): the row is made in
    // place, its other columns over the line's stamp, so the line is in memory once
    const len = new RowWriter(10);
    len.varint(length);
    const start = m.byteOffset - len.pos - head.length;
    const buf = new Uint8Array(m.buffer, 0, m.byteOffset + m.length);
    buf.set(head, start);
    buf.set(len.bytes(), start + head.length);
    return { bytes: buf.subarray(start), owned: true };
  }
  const w = new RowWriter(head.length + 10 + length);
  w.raw(head);
  w.varint(length);
  if (typeof m === "string") w.pos += utf8.encodeInto(m, w.buf.subarray(w.pos)).written;
  else w.raw(m);
  return { bytes: w.bytes(), owned: true };
}

async function firstLine(path: string, type: TaskLog["type"], start: number): Promise<LogLine | undefined> {
  for await (const l of parseLog(path, type, start)) return l;
  return undefined;
}

/** Bytes of a first line's message put into the lookup's SQL text; the rest is matched by length and hash. */
const FIRST_LINE_PREFIX = 1024;

/**
 * Whether TaskLogs holds line 1 of this log (any timestamp): a lookup on the sorting key (which
 * starts with the message) by a bounded prefix of the message, its length and murmurHash3_64,
 * so the SQL text stays small whatever the line's length (max_query_size is 256 KiB).
 */
async function firstLineStored(db: Db, hash: bigint, l: LogLine): Promise<boolean> {
  const message = typeof l.message === "string" ? utf8.encode(l.message) : l.message;
  const prefix = message.subarray(0, FIRST_LINE_PREFIX);
  const r = await db.query<{ c: bigint }>(
    `SELECT count() AS c FROM TaskLogs
     WHERE startsWith(tlog_message, ${hexLiteral(prefix)}) AND tlog_line = 1 AND tlog_hash = ${hash}
       AND length(tlog_message) = ${message.length} AND murmurHash3_64(tlog_message) = ${mmhash(message)}`,
  );
  return Number(r[0]?.c ?? 0) > 0;
}

/**
 * Streams one log. `keep` stored lines are expected to be identical (their fingerprint is
 * `keepFp`); returns "mismatch" as soon as they are not, else what was written.
 */
async function stream(c: Ctx, log: TaskLog, start: number, keep: number, keepFp: bigint, onFirstWrite: () => Promise<void>): Promise<{ lines: number; written: number; fp: bigint } | "mismatch"> {
  let n = 0;
  let fp = 0n;
  let written = 0;
  let started = false;
  for await (const l of parseLog(c.fs.abs(log.path), log.type, start, c.chunkSize)) {
    const { bytes, owned } = encodeRow(c.enc, log.hash, l);
    fp ^= mmhash(bytes);
    n = l.line;
    if (owned) {
      // the row holds the message now: let the line go, and with a huge one collect what is left of
      // it (the text of a line that was not valid UTF-8) before the engine gets the row
      l.message = "";
      if (bytes.length >= HUGE_ROW) Bun.gc(true);
    }
    if (n <= keep) {
      if (n === keep && fp !== keepFp) return "mismatch";
      continue;
    }
    if (!started) {
      started = true;
      await onFirstWrite();
    }
    written++;
    if (c.writer && bytes.length >= HUGE_ROW) {
      // a huge row is inserted alone: the engine then needs no sort and no copy of the batch for it
      // (optimize_on_insert: the insert-time ReplacingMergeTree pass; its key is unique here)
      await c.db.insertRowBinary("TaskLogs", c.enc.columns, bytes, { dedupToken: dedupToken("TaskLogs", bytes, `${log.hash}:${n}:${Date.now()}`), settings: { optimize_on_insert: 0 } });
    } else if (c.writer) {
      const wait = owned ? c.writer.addEncodedOwned("TaskLogs", bytes, 1) : c.writer.addEncoded("TaskLogs", bytes, 1);
      if (wait) {
        await wait;
        await hook("logs");
      }
    }
    if ((n & 0xffff) === 0) throwIfAborted(c.ctx.signal);
  }
  if (n < keep) return "mismatch"; // the file shrank
  return { lines: n, written, fp };
}

export async function saveLogs(ctx: LoadContext, task: Task, fs: TaskFs, opts: { dryRun: boolean; chunkSize?: number }): Promise<LogsResult> {
  const db = ctx.db;
  const logs = task.logs;
  const result: LogsResult = { logs: [], rows: 0 };
  if (logs.length === 0) return result;
  const enc = compileLayout("TaskLogs", await insertLayout(db, "TaskLogs"));
  const journal = await readLogJournal(
    db,
    logs.map((l) => l.hash),
  ).catch((e) => {
    if (!opts.dryRun) throw e;
    return new Map<bigint, LogJournalState>(); // a dry run on a database without the journal table
  });
  const writer = opts.dryRun ? undefined : await BatchWriter.open(db, ["TaskLogs"], { maxRows: 100_000, maxBytes: 16 * 1024 * 1024 });
  const c: Ctx = { ctx, db, fs, taskId: task.state.taskId, enc, writer, dryRun: opts.dryRun, chunkSize: opts.chunkSize };
  const done: { taskId: number; hash: bigint; state: "done"; lines: number; fingerprint: bigint }[] = [];
  const journalStarted = (log: TaskLog, lines: number) => (opts.dryRun ? Promise.resolve() : writeLogJournal(db, [{ taskId: c.taskId, hash: log.hash, state: "started", lines, fingerprint: 0n }]));

  // logs missing from the journal whose rows an earlier loader wrote: looked up before this load
  // writes any line (a lookup reads the granules around its first line, a huge line included)
  const legacy = new Set<bigint>();
  for (const log of logs) {
    const start = journal.has(log.hash) ? undefined : fs.mtime(log.path);
    if (start === undefined) continue;
    const first = await firstLine(fs.abs(log.path), log.type, start);
    if (first && (await firstLineStored(db, log.hash, first))) legacy.add(log.hash);
  }

  let index = 0;
  for (const log of logs) {
    throwIfAborted(ctx.signal);
    ctx.progress?.({ phase: "logs", done: index++, total: logs.length });
    const start = fs.mtime(log.path);
    if (start === undefined) {
      fs.problem(log.path, "log file disappeared during the load");
      continue;
    }
    let state = journal.get(log.hash);
    let rewrite = false;
    if (state?.interrupted && !opts.dryRun) {
      // rows past the last complete write may be partly stored
      await db.command(`DELETE FROM TaskLogs WHERE tlog_hash = ${log.hash} AND tlog_line > ${state.lines}`);
      await writeLogJournal(db, [{ taskId: c.taskId, hash: log.hash, state: "done", lines: state.lines, fingerprint: state.fingerprint }]);
    }
    if (!state) {
      rewrite = legacy.has(log.hash);
      state = { lines: 0, fingerprint: 0n, interrupted: false };
    }
    let outcome: LogOutcome | undefined;
    if (!rewrite) {
      const r = await stream(c, log, start, state.lines, state.fingerprint, () => journalStarted(log, state!.lines));
      if (r === "mismatch") rewrite = true;
      else {
        outcome = { path: log.path, lines: r.lines, written: r.written, action: state.lines === 0 ? "new" : r.written ? "appended" : "unchanged" };
        if (r.written) done.push({ taskId: c.taskId, hash: log.hash, state: "done", lines: r.lines, fingerprint: r.fp });
      }
    }
    if (rewrite) {
      if (!opts.dryRun) {
        await db.command(`DELETE FROM TaskLogs WHERE tlog_hash = ${log.hash}`);
        await writeLogJournal(db, [{ taskId: c.taskId, hash: log.hash, state: "done", lines: 0, fingerprint: 0n }]);
      }
      const r = await stream(c, log, start, 0, 0n, () => journalStarted(log, 0));
      if (r === "mismatch") throw new Error("unreachable");
      outcome = { path: log.path, lines: r.lines, written: r.written, action: "rewritten" };
      done.push({ taskId: c.taskId, hash: log.hash, state: "done", lines: r.lines, fingerprint: r.fp });
    }
    result.logs.push(outcome!);
    result.rows += outcome!.written;
  }
  if (writer) {
    await writer.close();
    await writeLogJournal(db, done);
  }
  ctx.progress?.({ phase: "logs", done: logs.length, total: logs.length });
  return result;
}
