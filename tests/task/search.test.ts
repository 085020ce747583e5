/**
 * GlobalSearch (schema-newer-tables.md §2.3) from `task load` and `task clean`: one row per task
 * state change, '<repo>|<owner>|<?>|<STATE>|<components>', latest row per lead wins.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { loadTask } from "../../src/loaders/task";
import { cleanTasks } from "../../src/loaders/task/clean";
import { mergeSearch } from "../../src/loaders/task/events";
import { scratchDir } from "../fixtures/_util";
import { makeTask, type TaskResult } from "../fixtures/task";
import { contextFor, migratedDb } from "./_task";

let db: Db;
let tasks: string;
let t: TaskResult;

const latest = async (id: number) => {
  const rows = await db.query<{ s: string; n: bigint }>(`SELECT argMax(search_string, ts) AS s, count() AS n FROM GlobalSearch WHERE lead = '${id}' AND type = 'task'`);
  return { s: rows[0].s, n: Number(rows[0].n) };
};

beforeAll(async () => {
  db = await migratedDb("gsearch");
  tasks = scratchDir("gsearch");
  t = await makeTask(join(tasks, "350001"), {
    id: 350001,
    owner: "alice",
    repo: "p11",
    state: "NEW",
    subtasks: [
      { type: "copy", package: "zlib", copyRepo: "sisyphus" },
      { type: "delete", package: "old-pkg", removedEvr: "1.0-alt1", removedBinaries: [{ name: "old-pkg", arch: "x86_64" }] },
    ],
  });
}, 600_000);

describe("GlobalSearch rows of task loads", () => {
  test("a loaded task gets its search row; loading it again adds nothing", async () => {
    const r = await loadTask(contextFor(db), { path: t.root });
    expect(r.complete).toBe(true);
    expect(r.rows.GlobalSearch).toBe(1);
    expect(await latest(350001)).toEqual({ s: "p11|alice||NEW|zlib,old-pkg", n: 1 });
    const again = await loadTask(contextFor(db), { path: t.root });
    expect(again.rows.GlobalSearch).toBeUndefined();
    expect((await latest(350001)).n).toBe(1);
  }, 600_000);

  test("a state change appends a row; the latest one is what the API reads", async () => {
    writeFileSync(join(t.root, "task/state"), "AWAITING\n");
    const later = Date.now() / 1000 + 60;
    utimesSync(join(t.root, "task/state"), later, later);
    const r = await loadTask(contextFor(db), { path: t.root });
    expect(r.state).toBe("AWAITING");
    expect(r.rows.GlobalSearch).toBe(1);
    expect(await latest(350001)).toEqual({ s: "p11|alice||AWAITING|zlib,old-pkg", n: 2 });
  }, 600_000);

  test("task clean: a task whose directory is gone is DELETED in GlobalSearch too, keeping repo, owner and components", async () => {
    writeFileSync(join(tasks, "keep"), "");
    rmSync(t.root, { recursive: true });
    const r = await cleanTasks(contextFor(db), { tasksDir: tasks });
    expect(r.deleted).toEqual([350001]);
    expect(await latest(350001)).toEqual({ s: "p11|alice||DELETED|zlib,old-pkg", n: 3 });
  }, 600_000);

  test("mergeSearch keeps the previous repo, owner and components when the new row has none", () => {
    expect(mergeSearch("p10|bob||NEW|a,b", "|||DELETED|")).toBe("p10|bob||DELETED|a,b");
    expect(mergeSearch("p10|bob||NEW|a,b", "p10|bob||DONE|c")).toBe("p10|bob||DONE|c");
    expect(mergeSearch("garbage", "p10|bob||DONE|c")).toBe("p10|bob||DONE|c");
  });
});
