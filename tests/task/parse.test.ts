// Unit tests of the task parsers: text rules, streamed lines, log line rules, plan formats,
// approvals, hashes (reference repo-and-task-loaders.md §3.3–3.7, test vectors §6.1).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { mmhash } from "../../src/hash";
import { InputError } from "../../src/loaders/errors";
import { TaskFs } from "../../src/loaders/task/fs";
import { parseApprovalText, parseApprovals } from "../../src/loaders/task/parse/approvals";
import { parseChroot, logHash } from "../../src/loaders/task/parse/iterations";
import { readLines } from "../../src/loaders/task/parse/lines";
import { lineParser, parseLog } from "../../src/loaders/task/parse/logs";
import { parseHashDiff, parseListDiff, parsePlan, planHash } from "../../src/loaders/task/parse/plan";
import { parseState } from "../../src/loaders/task/parse/state";
import { parseSubtasks } from "../../src/loaders/task/parse/subtasks";
import { decodeUtf8Backslash, pyStrip } from "../../src/loaders/task/text";

const scratch = join(import.meta.dir, "..", "..", ".tmp", "task-tests", `parse-${process.pid}`);
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
let seq = 0;
function tree(files: Record<string, string | Uint8Array>): string {
  const root = join(scratch, `t${++seq}`);
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    if (rel.endsWith("/")) mkdirSync(join(root, rel), { recursive: true });
    else writeFileSync(join(root, rel), data);
  }
  return root;
}
const D = (s: string) => Uint8Array.from(Buffer.from(s, "latin1"));

const hasPython = spawnSync("python3", ["-c", "pass"]).status === 0;
/** Python's own reading of a file in text mode: universal newlines, UTF-8 with backslashreplace. */
function pythonLines(path: string): string[] {
  const r = spawnSync("python3", ["-c", `import json,sys\nprint(json.dumps([l for l in open(sys.argv[1], encoding="utf-8", errors="backslashreplace")]))`, path], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

describe("§6.1 hash vectors", () => {
  test("plan, log and chroot hashes", () => {
    expect(mmhash("")).toBe(0n);
    expect(mmhash("foo")).toBe(11303473983767132390n);
    expect(planHash(283337, 1, 1, "x86_64")).toBe(6677940499402230174n);
    expect(planHash(283337, 1, 1, "src")).toBe(15636151493847624852n);
    expect(logHash("build", 283337, 100, 1, 1, "x86_64")).toBe(1257542022645226987n);
    expect(logHash("srpm", 283337, 100, 1, 1, "x86_64")).toBe(17533706025525510707n);
    expect(mmhash("events28333711")).toBe(17416608856061727603n);
    const root = tree({ chroot: "bash\t5.2-alt1\tx86_64\tbash-5.2-alt1.src.rpm\tda39a3ee5e6b4b0d3255bfef95601890afd80709\n\n" });
    expect(parseChroot(new TaskFs(root), "chroot")).toEqual([13720803726858584048n]);
  });
});

describe("text", () => {
  test("backslashreplace: every byte outside a well-formed UTF-8 sequence becomes \\xNN", () => {
    expect(decodeUtf8Backslash(D("plain"))).toBe("plain");
    expect(decodeUtf8Backslash(Buffer.from("é ü ✓ 😀"))).toBe("é ü ✓ 😀");
    expect(decodeUtf8Backslash(D("a\xffb"))).toBe("a\\xffb");
    expect(decodeUtf8Backslash(D("\xe2\x82A"))).toBe("\\xe2\\x82A"); // truncated sequence
    expect(decodeUtf8Backslash(D("\xed\xa0\x80"))).toBe("\\xed\\xa0\\x80"); // surrogate
    expect(decodeUtf8Backslash(D("\xc0\x80"))).toBe("\\xc0\\x80"); // overlong
    expect(decodeUtf8Backslash(D("\xf4\x90\x80\x80"))).toBe("\\xf4\\x90\\x80\\x80"); // > U+10FFFF
    expect(decodeUtf8Backslash(D("\xe9t\xe9"))).toBe("\\xe9t\\xe9"); // latin-1
  });
  test("pyStrip strips Python's whitespace set", () => {
    expect(pyStrip(" \t\x1c x \u00a0\u3000\n")).toBe("x");
    expect(pyStrip("\ufeffx")).toBe("\ufeffx"); // not whitespace for Python
  });
});

describe("streamed lines (universal newlines)", () => {
  const samples: [string, Uint8Array][] = [
    ["mixed", D("a\r\nb\rc\nd")],
    ["blank lines", D("\n\n\r\r\n\n")],
    ["trailing CR", D("x\r")],
    ["no newline", D("lonely")],
    ["invalid bytes", D("caf\xe9\n\xff\xfe\r\nok \xe2\x82\n")],
    ["utf-8 split across chunks", Buffer.from("ééééééé\r\nжжжж\r\n✓✓✓")],
    ["empty", D("")],
  ];
  for (const [name, bytes] of samples) {
    test(name, async () => {
      const p = join(scratch, `lines-${name.replace(/\W/g, "_")}`);
      writeFileSync(p, bytes);
      const expected = hasPython ? pythonLines(p).map((l) => l.replace(/\n$/, "")) : undefined;
      for (const chunk of [1, 2, 3, 5, 1 << 20]) {
        const got: string[] = [];
        for await (const l of readLines(p, chunk)) got.push(decodeUtf8Backslash(l));
        if (expected) expect(got).toEqual(expected);
        else expect(got.length).toBeGreaterThanOrEqual(0);
      }
    });
  }
  test("\\r\\n split exactly at a chunk boundary is one line end", async () => {
    const p = join(scratch, "crlf-boundary");
    writeFileSync(p, D("abc\r\ndef\r\n"));
    const got: string[] = [];
    for await (const l of readLines(p, 4)) got.push(Buffer.from(l).toString());
    expect(got).toEqual(["abc", "def"]);
  });
});

describe("log line rules", () => {
  const start = Date.UTC(2024, 2, 1, 12, 0, 0) / 1000;
  test("events: stamp, message after the last ' :: ', stamp reused", () => {
    const p = lineParser("events", start);
    expect(p("2024-Mar-01 10:30:00 :: task #1: build started :: x86_64")).toEqual({ ts: Date.UTC(2024, 2, 1, 10, 30) / 1000, message: "x86_64" });
    expect(p("  continuation line ")).toEqual({ ts: Date.UTC(2024, 2, 1, 10, 30) / 1000, message: "continuation line" });
  });
  test("events log whose first line has no timestamp is loaded (reference aborted the task)", () => {
    const p = lineParser("events", start);
    expect(p("no stamp here")).toEqual({ ts: start, message: "no stamp here" });
    expect(p("2024-Mar-01 10:30:00 :: later").ts).toBe(Date.UTC(2024, 2, 1, 10, 30) / 1000);
  });
  test("build: mtime + elapsed, lines without stamp get the mtime", () => {
    const p = lineParser("build", start);
    expect(p("[00:03:15] compiling foo.c ")).toEqual({ ts: start + 195, message: "compiling foo.c" });
    expect(p("plain")).toEqual({ ts: start, message: "plain" });
  });
  test("srpm: syslog stamp in the mtime's year; start time until the first stamp", () => {
    const p = lineParser("srpm", start);
    expect(p("before")).toEqual({ ts: start, message: "before" });
    expect(p("<13>Feb  9 17:53:14 hsh-rebuild: ok")).toEqual({ ts: Date.UTC(2024, 1, 9, 17, 53, 14) / 1000, message: "hsh-rebuild: ok" });
    expect(p("after").ts).toBe(Date.UTC(2024, 1, 9, 17, 53, 14) / 1000);
  });
  test("srpm stamp with a 1-digit syslog priority parses (reference assumed <NN>)", () => {
    expect(lineParser("srpm", start)("<5>Feb  9 17:53:14 x").ts).toBe(Date.UTC(2024, 1, 9, 17, 53, 14) / 1000);
  });
  test("a stamp that is not a date (Feb 30) counts as no stamp (reference aborted)", () => {
    const p = lineParser("events", start);
    expect(p("2024-Feb-30 10:00:00 :: x")).toEqual({ ts: start, message: "x" });
    const s = lineParser("srpm", start);
    expect(s("<13>Feb 29 10:00:00 leap ok").ts).toBe(Date.UTC(2024, 1, 29, 10) / 1000); // 2024 is a leap year
  });
  test("parseLog numbers every physical line, blank and \\r-separated ones included", async () => {
    const p = join(scratch, "events.log");
    writeFileSync(p, D("2024-Mar-01 10:00:00 :: a\r\n\r2024-Mar-01 10:00:05 :: b\xff\n"));
    const rows = [];
    for await (const l of parseLog(p, "events", start)) rows.push(l);
    expect(rows).toEqual([
      { line: 1, ts: Date.UTC(2024, 2, 1, 10) / 1000, message: "a" },
      { line: 2, ts: Date.UTC(2024, 2, 1, 10) / 1000, message: "" },
      { line: 3, ts: Date.UTC(2024, 2, 1, 10, 0, 5) / 1000, message: "b\\xff" },
    ]);
  });
});

describe("long log lines", () => {
  const start = Date.UTC(2024, 2, 1, 12, 0, 0) / 1000;
  const big = (s: string) => s.repeat(Math.ceil((80 * 1024) / Buffer.byteLength(s)));
  const cases: [string, "events" | "build" | "srpm", string[]][] = [
    ["events", "events", [
      `2024-Mar-01 10:30:00 :: task #1 :: ${big("жёлтый ")}\u3000 `,
      `\u00a0${big("a :: :: b ")} :: :: tail\u2029`, // split is left to right, not overlapping: ":: tail"
      `  no stamp, still the last one ${big("✓")}`,
      "short :: line",
      `2024-Feb-30 10:00:00 :: not a date ${big("x")}`,
    ]],
    ["build", "build", [`[00:03:15] \u2000${big("compile ")}\u3000`, `plain ${big("é")}`, "[00:00:01] short"]],
    ["srpm", "srpm", [`before ${big("b")}`, `<13>Feb  9 17:53:14 ${big("hsh ")}`, `after ${big("c")}`]],
  ];
  for (const [name, type, lines] of cases) {
    test(`${name}: the same ts and message as the text parser, as UTF-8 bytes`, async () => {
      const p = join(scratch, `long-${name}.log`);
      writeFileSync(p, lines.join("\n") + "\n");
      const text = lineParser(type, start);
      const want = lines.map((l, i) => {
        const r = text(l);
        return { line: i + 1, ts: r.ts, message: r.message };
      });
      const got = [];
      for await (const l of parseLog(p, type, start, 4096)) got.push({ ...l, message: typeof l.message === "string" ? l.message : Buffer.from(l.message).toString("utf8") });
      expect(got).toEqual(want);
    });
  }
  test("a long line that is not valid UTF-8 is decoded with \\xNN escapes", async () => {
    const p = join(scratch, "long-invalid.log");
    writeFileSync(p, Buffer.concat([Buffer.from(`[00:00:01] ${"z".repeat(70 * 1024)}`), Buffer.from([0xff, 0x0a])]));
    const got = [];
    for await (const l of parseLog(p, "build", start)) got.push(l);
    expect(got).toEqual([{ line: 1, ts: start + 1, message: `${"z".repeat(70 * 1024)}\\xff` }]);
  });
});

describe("plan files", () => {
  test("list diffs: headers and context ignored, 1-char package names kept (reference ignored them)", () => {
    const root = tree({
      "plan/bin.list.diff":
        "--- files/list/bin.list\n+++ plan/next.bin\n@@ -1,2 +1,3 @@\n bash\t5.2-alt1\tx86_64\tbash-5.2-alt1.x86_64.rpm\tbash-5.2-alt1.src.rpm\n" +
        "+R\t4.3-alt1\tx86_64\tR-4.3-alt1.x86_64.rpm\tR-4.3-alt1.src.rpm\n-old\t1-alt1\tnoarch\told-1-alt1.noarch.rpm\told-1-alt1.src.rpm\n",
      "plan/src.list.diff": "--- a\n+++ b\n+R\t4.3-alt1\tR-4.3-alt1.src.rpm\n",
    });
    const fs = new TaskFs(root);
    const bin = parseListDiff(fs, "plan/bin.list.diff", false);
    expect(bin.add).toEqual([{ name: "R", evr: "4.3-alt1", arch: "x86_64", file: "R-4.3-alt1.x86_64.rpm", srpm: "R-4.3-alt1.src.rpm" }]);
    expect(bin.del.map((p) => p.name)).toEqual(["old"]);
    expect(parseListDiff(fs, "plan/src.list.diff", true).add).toEqual([{ name: "R", evr: "4.3-alt1", file: "R-4.3-alt1.src.rpm", srpm: "R-4.3-alt1.src.rpm", arch: "src" }]);
    expect(fs.problems).toEqual([]);
  });
  test("a list diff line with the wrong field count is skipped and reported (reference aborted)", () => {
    const root = tree({ "plan/bin.list.diff": "+foo\t1-alt1\tfoo.rpm\n+bar\t1-alt1\tx86_64\tbar-1-alt1.x86_64.rpm\tbar-1-alt1.src.rpm\n" });
    const fs = new TaskFs(root);
    expect(parseListDiff(fs, "plan/bin.list.diff", false).add.map((p) => p.name)).toEqual(["bar"]);
    expect(fs.problems.length).toBe(1);
    expect(fs.problems[0].path).toEndWith("plan/bin.list.diff");
  });
  test("hash diffs", () => {
    const a = "a".repeat(64);
    const b = "b".repeat(64);
    const root = tree({ "plan/x86_64.hash.diff": `--- x\n+++ y\n+${a}  foo.rpm\n-${b}  old.rpm\n ${a}  ctx.rpm\n` });
    const { add, del } = parseHashDiff(new TaskFs(root), "plan/x86_64.hash.diff");
    expect([...add.keys()]).toEqual(["foo.rpm"]);
    expect(Buffer.from(add.get("foo.rpm")!).toString("hex")).toBe(a);
    expect([...del.keys()]).toEqual(["old.rpm"]);
  });
  test("freshness gate: stale plan not loaded, missing plan dir does not crash (reference TypeError)", () => {
    const base = { "task/id": "5\n", "task/state": "EPERM\n", "task/try": "1\n", "task/iter": "1\n" };
    const noPlan = tree(base);
    expect(parsePlan(new TaskFs(noPlan), parseState(new TaskFs(noPlan))).loaded).toBe(false);
    const stale = tree({ ...base, "plan/add-src": "" });
    utimesSync(join(stale, "plan"), 1000, 1000);
    expect(parsePlan(new TaskFs(stale), parseState(new TaskFs(stale))).loaded).toBe(false);
    const done = tree({ ...base, "task/state": "DONE\n", "plan/add-src": "" });
    utimesSync(join(done, "plan"), 1000, 1000);
    expect(parsePlan(new TaskFs(done), parseState(new TaskFs(done))).loaded).toBe(true);
  });
  test("§6.3 plan example", () => {
    const root = tree({
      "task/id": "283337\n",
      "task/state": "DONE\n",
      "task/try": "1\n",
      "task/iter": "1\n",
      "plan/bin.list.diff": "+foo\t1.0-alt1\tx86_64\tfoo-1.0-alt1.x86_64.rpm\tfoo-1.0-alt1.src.rpm\n",
      "plan/add-bin": "foo\t1.0-alt1\tx86_64\tfoo-1.0-alt1.x86_64.rpm\tbuild/100/x86_64/rpms/foo-1.0-alt1.x86_64.rpm\t100\tclassic\n",
      "plan/x86_64.hash.diff": `+${"ab".repeat(32)}  foo-1.0-alt1.x86_64.rpm\n`,
    });
    const fs = new TaskFs(root);
    const plan = parsePlan(fs, parseState(fs));
    expect(plan.hashes.get("x86_64")).toBe(6677940499402230174n);
    expect(plan.add.get("x86_64")!.get("foo-1.0-alt1.x86_64.rpm")).toEqual({
      file: "foo-1.0-alt1.x86_64.rpm",
      name: "foo",
      evr: "1.0-alt1",
      srpm: "foo-1.0-alt1.src.rpm",
      arch: "x86_64",
      comp: "classic",
      path: "build/100/x86_64/rpms/foo-1.0-alt1.x86_64.rpm",
      subtask: 100,
    });
  });
});

describe("state, subtasks, approvals", () => {
  test("not a task: a clear InputError naming the directory", () => {
    const root = tree({ "README": "hello" });
    expect(() => parseState(new TaskFs(root))).toThrow(InputError);
    expect(() => parseState(new TaskFs(root))).toThrow(/task\/id is missing/);
    const noState = tree({ "task/id": "7\n" });
    expect(() => parseState(new TaskFs(noState))).toThrow(/task\/state is missing/);
    const garbage = tree({ "task/id": "7\n", "task/state": "NEW\n", "task/try": "one\n" });
    expect(() => parseState(new TaskFs(garbage))).toThrow(/task\/try: not a number/);
  });
  test("task_changed is the newer of task/state and info.json; prev from the resolved symlink", () => {
    const root = tree({ "task/id": "9\n", "task/state": "TESTED\n", "info.json": '{"shared": true}', "task/depends": "1\n\n2\n" });
    utimesSync(join(root, "task/state"), 2000, 2000);
    utimesSync(join(root, "info.json"), 3000, 3000);
    mkdirSync(join(root, "build/repo"), { recursive: true });
    symlinkSync("/nonexistent/repo/task/12345", join(root, "build/repo/prev"));
    const s = parseState(new TaskFs(root));
    expect(s).toMatchObject({ taskId: 9, state: "TESTED", changed: 3000, shared: 1, depends: [1, 2], prev: 12345 });
  });
  test("subtask without userid takes the directory mtime (reference crashed on naive/aware datetimes)", () => {
    const root = tree({ "gears/100/dir": "/people/x/packages/foo.git\n", "gears/100/sid": "gear:abc\n", "gears/200/": "" });
    utimesSync(join(root, "gears/100"), 4000, 4000);
    const subs = parseSubtasks(new TaskFs(root));
    expect(subs.map((s) => [s.subtaskId, s.changed, s.deleted, s.type, s.sid])).toEqual([
      [100, 4000, 0, "gear", "abc"],
      [200, expect.any(Number), 1, "unknown", ""],
    ]);
  });
  test("subtask types: copy, delete, rebuild; bad sid and nevr without tab are corrected, not fatal", () => {
    const root = tree({
      "gears/100/package": "foo\n",
      "gears/100/copy_repo": "p10\n",
      "gears/200/package": "bar\n",
      "gears/300/package": "baz\n",
      "gears/300/rebuild_from": "sisyphus\n",
      "gears/400/dir": "/x.git\n",
      "gears/400/sid": "weird:123\n",
      "gears/400/nevr": "foo 1.0-alt1\n",
    });
    const fs = new TaskFs(root);
    const subs = parseSubtasks(fs);
    expect(subs.map((s) => [s.type, s.pkgFrom])).toEqual([
      ["copy", "p10"],
      ["delete", ""],
      ["rebuild", "sisyphus"],
      ["unknown", ""],
    ]);
    expect(subs[3].srpmName).toBe("foo 1.0-alt1");
    expect(fs.warnings.length).toBe(2);
  });
  test("approval file format", () => {
    expect(parseApprovalText("2024-Mar-01 12:00:00 :: approved by alice\nok\n\nsecond\n")).toEqual({ name: "alice", date: Date.UTC(2024, 2, 1, 12) / 1000, message: "ok\nsecond" });
    expect(parseApprovalText("")).toBeNull();
    expect(typeof parseApprovalText("2024-Mar-01 12:00:00 approved by alice\n")).toBe("string");
  });
  test("approvals are read from acl/approved even without an acl/disapproved subtask dir (reference bug)", () => {
    const root = tree({ "acl/approved/100/alice": "2024-Mar-01 12:00:00 :: approved by alice\nok\n" });
    const fs = new TaskFs(root);
    expect(parseApprovals(fs)).toEqual([{ subtaskId: 100, type: "approve", name: "alice", date: Date.UTC(2024, 2, 1, 12) / 1000, message: "ok" }]);
  });
});
