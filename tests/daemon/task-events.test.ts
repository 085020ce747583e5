/** Rows from girar task events and their idempotent writers (src/loaders/task/events). */
import { beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import * as v from "valibot";
import type { Db } from "../../src/db";
import { migrate } from "../../src/db/migrations";
import { InputError } from "../../src/loaders/errors";
import {
  approvalRow,
  eventTime,
  searchRow,
  splitSrpm,
  stageProgressRow,
  stateProgressRow,
  subtaskProgressRow,
  subtaskRows,
  TaskApprovalEvent,
  TaskProgressEvent,
  TaskStateEvent,
  writeApproval,
  writeDeleted,
  writeProgress,
  writeSearch,
  writeSubtaskProgress,
} from "../../src/loaders/task/events";
import { testDb } from "../helpers/db";

setDefaultTimeout(60_000);

const state = (o: unknown) => v.parse(TaskStateEvent, o);
const progress = (o: unknown) => v.parse(TaskProgressEvent, o);
const approval = (o: unknown) => v.parse(TaskApprovalEvent, o);
const b64 = (s: string) => Buffer.from(s).toString("base64");

const DONE = state({
  taskid: 412345,
  state: "DONE",
  repo: "sisyphus",
  owner: "ldv",
  try: 2,
  iter: 1,
  test_only: 0,
  depends: [412300],
  message: "rebuild",
  _timestamp: 1795300000.75,
  subtasks: {
    "100": { type: "repo", dir: "/gears/b/bash.git", tag_name: "5.2-alt1", tag_id: "abc", tag_author: "ldv", pkgname: "bash" },
    "200": { type: "srpm", srpm: "/srpms/foo-bar-1.0-alt1.src.rpm" },
    "300": { type: "copy", package: "zlib", copy_repo: "p10" },
    x: { type: "junk" },
  },
});

describe("rows", () => {
  test("event time: _timestamp, else the AMQP timestamp, else now", () => {
    expect(eventTime({ _timestamp: 1795300000.75 })).toBe(1795300000);
    expect(eventTime({}, new Date(1795300001_000))).toBe(1795300001);
    expect(eventTime({}, undefined, new Date(1795300002_000))).toBe(1795300002);
  });

  test("approval: the first line parsed like an approval file, the rest is the message", () => {
    const row = approvalRow(approval({ taskid: 412345, subtaskid: "100", base64_message: b64("2026-Nov-20 12:34:56 :: approved by ldv\n\nLooks good\nreally\n") }), "approve");
    expect(row).toEqual({ task_id: 412345, subtask_id: 100, tapp_type: "approve", tapp_revoked: 0, tapp_date: Date.UTC(2026, 10, 20, 12, 34, 56) / 1000, tapp_name: "ldv", tapp_message: "Looks good\nreally" });
  });

  test("revocation: girar_user, _timestamp, empty message", () => {
    const row = approvalRow(approval({ taskid: 1, subtaskid: 200, revoked: true, girar_user: "bob", _timestamp: "1795300000.9" }), "disapprove");
    expect(row).toEqual({ task_id: 1, subtask_id: 200, tapp_type: "disapprove", tapp_revoked: 1, tapp_date: 1795300000, tapp_name: "bob", tapp_message: "" });
  });

  test("a bad approval text is an InputError (dead-lettered, not retried)", () => {
    const bad = (text: string) => () => approvalRow(approval({ taskid: 1, subtaskid: 100, base64_message: b64(text) }), "approve");
    expect(bad("no separator here")).toThrow(InputError);
    expect(bad("no separator here")).toThrow('base64_message: first line is not "<date> :: <verb> by <user>"');
    expect(bad("2026-Foo-20 12:34:56 :: approved by x")).toThrow("bad date");
    expect(bad("\n\n")).toThrow("base64_message is empty");
    expect(() => approvalRow(approval({ taskid: 1, subtaskid: 100, base64_message: "***" }), "approve")).toThrow("not base64");
  });

  test("TaskProgress rows for state and progress events", () => {
    expect(stateProgressRow(DONE, 1795300000)).toEqual({
      task_id: 412345,
      task_repo: "sisyphus",
      task_owner: "ldv",
      task_state: "DONE",
      task_try: 2,
      task_iter: 1,
      task_testonly: 0,
      task_changed: 1795300000,
      task_message: "rebuild",
      task_depends: [412300],
      stage: "",
      stage_status: "",
      type: "state",
    });
    const p = progress({ taskid: 5, stage: "build", stage_status: "started", repo: "p10" });
    expect(stageProgressRow(p, 10)).toMatchObject({ task_id: 5, task_state: "BUILDING", stage: "build", stage_status: "started", type: "progress", task_repo: "p10" });
    expect(stageProgressRow(progress({ taskid: 5, state: "EPERM", stage: "build-task", stage_status: "processed" }), 10).task_state).toBe("EPERM");
  });

  test("TaskSubtaskProgress rows: one per listed subtask, and per-arch progress", () => {
    const rows = subtaskRows(DONE, 1795300000);
    expect(rows.map((r) => [r.subtask_id, r.subtask_type, r.subtask_package, r.subtask_srpm_name, r.subtask_srpm_evr, r.subtask_pkg_from, r.type, r.arch])).toEqual([
      [100, "gear", "bash", "", "", "", "create", "all"],
      [200, "srpm", "foo-bar", "foo-bar", "1.0-alt1", "", "create", "all"],
      [300, "copy", "zlib", "", "", "p10", "create", "all"],
    ]);
    expect(rows[0]).toMatchObject({ subtask_dir: "/gears/b/bash.git", subtask_tag_name: "5.2-alt1", subtask_tag_id: "abc", subtask_tag_author: "ldv", task_repo: "sisyphus" });
    expect(subtaskProgressRow(progress({ taskid: 5, subtaskid: 100, arch: "x86_64", stage: "build", stage_status: "failed", status: "failed" }), 7)).toMatchObject({ subtask_id: 100, arch: "x86_64", type: "progress", stage_status: "failed", status: "failed" });
    expect(subtaskProgressRow(progress({ taskid: 5 }), 7)).toBeUndefined();
  });

  test("GlobalSearch: repo|owner||STATE|components", () => {
    expect(searchRow(DONE)).toEqual({ lead: "412345", type: "task", search_string: "sisyphus|ldv||DONE|bash,foo-bar,zlib" });
    expect(splitSrpm("a-b-1.0-alt1.src.rpm")).toEqual(["a-b", "1.0-alt1"]);
    expect(splitSrpm("weird.rpm")).toEqual(["", ""]);
  });
});

describe("writers: a second delivery writes nothing", () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb("tev");
    await migrate(db);
  }, 120_000);

  const count = async (sql: string) => Number((await db.query<{ n: bigint }>(`SELECT count() AS n FROM ${sql}`))[0].n);

  test("approvals", async () => {
    const row = approvalRow(approval({ taskid: 7, subtaskid: 100, base64_message: b64("2026-Nov-20 12:34:56 :: approved by ldv\nok") }), "approve");
    expect(await writeApproval(db, row)).toBe(1);
    expect(await writeApproval(db, row)).toBe(0);
    const revoke = approvalRow(approval({ taskid: 7, subtaskid: 100, revoke: 1, girar_user: "ldv", _timestamp: 1795300000 }), "approve");
    expect(await writeApproval(db, revoke)).toBe(1);
    expect(await count("TaskApprovals WHERE task_id = 7")).toBe(2);
    const [latest] = await db.query<{ r: number }>("SELECT argMax(tapp_revoked, (ts, tapp_date)) AS r FROM TaskApprovals WHERE task_id = 7");
    expect(Number(latest.r)).toBe(1);
  });

  test("the DELETED state row, once", async () => {
    expect(await writeDeleted(db, 8, 1795300000)).toBe(1);
    expect(await writeDeleted(db, 8, 1795300050)).toBe(0);
    const [r] = await db.query<{ s: string; m: string; c: number }>("SELECT task_state AS s, task_message AS m, toUInt32(task_changed) AS c FROM TaskStates WHERE task_id = 8");
    expect(r).toEqual({ s: "DELETED", m: "task deleted", c: 1795300000 });
  });

  test("progress, subtask progress and search rows", async () => {
    expect(await writeProgress(db, [stateProgressRow(DONE, 1795300000)])).toBe(1);
    expect(await writeProgress(db, [stateProgressRow(DONE, 1795300000)])).toBe(0);
    expect(await writeSubtaskProgress(db, subtaskRows(DONE, 1795300000))).toBe(3);
    expect(await writeSubtaskProgress(db, subtaskRows(DONE, 1795300000))).toBe(0);
    expect(await writeSearch(db, searchRow(DONE))).toBe(1);
    expect(await writeSearch(db, searchRow(DONE))).toBe(0);
    expect(await writeSearch(db, searchRow({ ...DONE, state: "deleted" }))).toBe(1);
    const [s] = await db.query<{ s: string }>("SELECT argMax(search_string, ts) AS s FROM GlobalSearch WHERE lead = '412345'");
    expect(s.s).toBe("sisyphus|ldv||DELETED|bash,foo-bar,zlib");
    const [p] = await db.query<{ st: string; n: bigint }>("SELECT argMax(task_state, ts) AS st, count() AS n FROM TaskProgress WHERE task_id = 412345 AND type = 'state'");
    expect(p.st).toBe("DONE");
  });
});
