/**
 * Task log lines → TaskLogs values (reference log_parser, §3.7), as a stream.
 * Every physical line counts (blank ones too); tlog_line is 1-based. Text is UTF-8 with invalid
 * bytes written as `\xNN` (Python's backslashreplace); the message is stripped.
 *
 * | type   | stamp at line start        | tlog_ts                                                        |
 * | events | 2020-May-15 10:30:00       | the stamp (UTC); lines without one reuse the previous stamp    |
 * | build  | [00:03:15]                 | log mtime + elapsed; lines without one: the log mtime          |
 * | srpm   | <13>Sep 13 17:53:14        | the stamp in the year of the log mtime (UTC); before the first stamp: the log mtime, after it: the last stamp |
 *
 * Fixes of the reference: an events log whose first line has no timestamp is loaded (its
 * leading lines get the log mtime; the reference raised StopIteration → RuntimeError and
 * aborted the task); an srpm stamp with a 1- or 3-digit syslog priority parses (the reference
 * cut 4 characters, assuming `<NN>`); a stamp that matches the pattern but is not a date
 * (Feb 30, month "Abc") counts as no stamp instead of aborting. Naive times (events, srpm) are
 * read as UTC, which is what girar writes (the reference let the server's timezone decide).
 *
 * Memory: a line of valid UTF-8 from LONG_LINE bytes on is never turned into text: its stamp is
 * matched on its first STAMP_SPAN bytes, and its message is a view of its bytes (stamp, events
 * prefixes and surrounding whitespace cut off), so a line costs its length once. (A stamp is
 * never near that long; a line that is not valid UTF-8 is decoded as text, `\xNN` escapes and all.)
 */
import { isUtf8 } from "node:buffer";
import type { LogType } from "../model";
import { decodeUtf8Backslash, pyStrip, pyStripUtf8 } from "../text";
import { utcSeconds } from "./dates";
import { readLines } from "./lines";

export interface LogLine {
  line: number;
  ts: number;
  /** The message: text, or for a long line its UTF-8 bytes (a view of the line read from the file). */
  message: string | Uint8Array;
}

/** Lines from this many bytes on are handled as bytes (see above). */
export const LONG_LINE = 64 * 1024;
/** Bytes at the start of a long line in which its stamp is matched. */
const STAMP_SPAN = 4096;

const EVENTS = /^(\d{4})-([A-Z][a-z]{2})-(\d{2})\s(\d{2}):(\d{2}):(\d{2})/;
const SRPM = /^<\d+>([A-Z][a-z]{2})\s+(\d+)\s(\d{2}):(\d{2}):(\d{2})/;
const BUILD = /^\[(\d{2}):(\d{2}):(\d{2})\]/;

/** The stamp at the start of a line: its time, and how many characters it takes (0: none). */
type Stamp = (text: string) => { ts: number; skip: number };

function stamper(type: LogType, startTime: number): Stamp {
  const startYear = new Date(startTime * 1000).getUTCFullYear();
  if (type === "build") {
    return (text) => {
      const m = BUILD.exec(text);
      if (!m) return { ts: startTime, skip: 0 };
      return { ts: startTime + Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), skip: m[0].length };
    };
  }
  // srpm and events: lines without a (valid) stamp take the last one
  const re = type === "srpm" ? SRPM : EVENTS;
  let last: number | undefined;
  return (text) => {
    const m = re.exec(text);
    if (m) {
      const ts =
        type === "srpm"
          ? utcSeconds(startYear, m[1], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]))
          : utcSeconds(Number(m[1]), m[2], Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      if (ts !== undefined) last = ts;
    }
    return { ts: last ?? startTime, skip: m ? m[0].length : 0 };
  };
}

/** A line parser for one log: text of one line (without terminator) → ts and message. */
export function lineParser(type: LogType, startTime: number): (text: string) => { ts: number; message: string } {
  return textParser(stamper(type, startTime), type);
}

function textParser(stamp: Stamp, type: LogType): (text: string) => { ts: number; message: string } {
  return (text) => {
    const { ts, skip } = stamp(text);
    const rest = skip ? text.slice(skip) : text;
    if (type !== "events") return { ts, message: pyStrip(rest) };
    const parts = rest.split(" :: ");
    return { ts, message: pyStrip(parts[parts.length - 1]) };
  };
}

const SEPARATOR = Buffer.from(" :: ");

/** What follows the last " :: " of the line, as String.split finds them (left to right, not overlapping). */
function lastPart(bytes: Uint8Array): Uint8Array {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let from = 0;
  for (let i = b.indexOf(SEPARATOR, 0); i >= 0; i = b.indexOf(SEPARATOR, from)) from = i + SEPARATOR.length;
  return bytes.subarray(from);
}

/** The start of the code point at or before `i` in valid UTF-8. */
function charStart(bytes: Uint8Array, i: number): number {
  while (i > 0 && (bytes[i] & 0xc0) === 0x80) i--;
  return i;
}

const utf8 = new TextDecoder();

/** A long line of valid UTF-8: the same ts and message as lineParser, the message as a view of `bytes`. */
function parseLong(stamp: Stamp, type: LogType, bytes: Uint8Array): { ts: number; message: Uint8Array } {
  const head = utf8.decode(bytes.subarray(0, charStart(bytes, Math.min(bytes.length, STAMP_SPAN))));
  const { ts, skip } = stamp(head);
  let rest = bytes.subarray(skip ? Buffer.byteLength(head.slice(0, skip), "utf8") : 0);
  if (type === "events") rest = lastPart(rest);
  return { ts, message: pyStripUtf8(rest) };
}

/** Parses a log file line by line; `startTime` is the file's mtime (epoch seconds). */
export async function* parseLog(path: string, type: LogType, startTime: number, chunkSize?: number): AsyncGenerator<LogLine> {
  const stamp = stamper(type, startTime); // one stamp state for text and long lines alike
  const parse = textParser(stamp, type);
  let n = 0;
  for await (const bytes of readLines(path, chunkSize)) {
    if (bytes.length >= LONG_LINE && isUtf8(bytes)) yield { line: ++n, ...parseLong(stamp, type, bytes) };
    else yield { line: ++n, ...parse(decodeUtf8Backslash(bytes)) };
  }
}
