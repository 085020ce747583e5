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
 */
import type { LogType } from "../model";
import { decodeUtf8Backslash, pyStrip } from "../text";
import { utcSeconds } from "./dates";
import { readLines } from "./lines";

export interface LogLine {
  line: number;
  ts: number;
  message: string;
}

const EVENTS = /^(\d{4})-([A-Z][a-z]{2})-(\d{2})\s(\d{2}):(\d{2}):(\d{2})/;
const SRPM = /^<\d+>([A-Z][a-z]{2})\s+(\d+)\s(\d{2}):(\d{2}):(\d{2})/;
const BUILD = /^\[(\d{2}):(\d{2}):(\d{2})\]/;

/** A line parser for one log: text of one line (without terminator) → ts and message. */
export function lineParser(type: LogType, startTime: number): (text: string) => { ts: number; message: string } {
  const startYear = new Date(startTime * 1000).getUTCFullYear();
  if (type === "build") {
    return (text) => {
      const m = BUILD.exec(text);
      if (!m) return { ts: startTime, message: pyStrip(text) };
      return { ts: startTime + Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), message: pyStrip(text.slice(m[0].length)) };
    };
  }
  if (type === "srpm") {
    let last: number | undefined;
    return (text) => {
      const m = SRPM.exec(text);
      const message = pyStrip(m ? text.slice(m[0].length) : text);
      if (m) {
        const ts = utcSeconds(startYear, m[1], Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
        if (ts !== undefined) last = ts;
      }
      return { ts: last ?? startTime, message };
    };
  }
  let last: number | undefined;
  return (text) => {
    const m = EVENTS.exec(text);
    let rest = text;
    if (m) {
      rest = text.slice(m[0].length);
      const ts = utcSeconds(Number(m[1]), m[2], Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
      if (ts !== undefined) last = ts;
    }
    const parts = rest.split(" :: ");
    return { ts: last ?? startTime, message: pyStrip(parts[parts.length - 1]) };
  };
}

/** Parses a log file line by line; `startTime` is the file's mtime (epoch seconds). */
export async function* parseLog(path: string, type: LogType, startTime: number, chunkSize?: number): AsyncGenerator<LogLine> {
  const parse = lineParser(type, startTime);
  let n = 0;
  for await (const bytes of readLines(path, chunkSize)) {
    const { ts, message } = parse(decodeUtf8Backslash(bytes));
    yield { line: ++n, ts, message };
  }
}
