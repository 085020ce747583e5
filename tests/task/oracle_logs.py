#!/usr/bin/env python3
"""Test oracle: the reference task log parser (altrepodb task/file_parser.py log_parser), written
out again in Python with the fixes altrepodb-ts documents:
  - an events log whose first line has no stamp: those lines get the log start time;
  - srpm stamps with any syslog priority width;
  - a stamp that is not a date counts as no stamp;
  - naive stamps are UTC.
Usage: oracle_logs.py FILE TYPE START_EPOCH  ->  JSON [[line, ts, message], ...]
"""
import datetime
import json
import re
import sys

path, kind, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
UTC = datetime.timezone.utc
start_dt = datetime.datetime.fromtimestamp(start, UTC)
events = re.compile(r"^\d{4}-[A-Z][a-z]{2}-\d{2}\s\d{2}:\d{2}:\d{2}", re.ASCII)
srpm = re.compile(r"^<\d+>[A-Z][a-z]{2}\s+\d+\s\d{2}:\d{2}:\d{2}", re.ASCII)
build = re.compile(r"^\[\d{2}:\d{2}:\d{2}\]", re.ASCII)


def epoch(dt):
    return int(dt.replace(tzinfo=UTC).timestamp()) if dt.tzinfo is None else int(dt.timestamp())


def parse(fmt, text):
    try:
        return datetime.datetime.strptime(text, fmt)
    except ValueError:
        return None


out = []
last = None
with open(path, "r", encoding="utf-8", errors="backslashreplace") as f:
    for n, line in enumerate(f, 1):
        if kind == "build":
            m = build.findall(line)
            msg = build.split(line)[-1].strip()
            ts = start
            if m:
                h, mi, s = m[0][1:-1].split(":")
                ts = start + int(h) * 3600 + int(mi) * 60 + int(s)
        elif kind == "srpm":
            m = srpm.findall(line)
            msg = srpm.split(line)[-1].strip()
            if m:
                body = m[0][m[0].index(">") + 1:]
                dt = parse("%Y %b %d %H:%M:%S", f"{start_dt.year} " + " ".join(x for x in body.split(" ") if x))
                if dt:
                    last = epoch(dt)
            ts = last if last is not None else start
        else:
            m = events.findall(line)
            msg = events.split(line)[-1].split(" :: ")[-1].strip()
            if m:
                dt = parse("%Y-%b-%d %H:%M:%S", m[0])
                if dt:
                    last = epoch(dt)
            ts = last if last is not None else start
        out.append([n, ts, msg])
print(json.dumps(out))
