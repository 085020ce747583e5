/**
 * One load per key at a time (src/loaders/lock.ts), the lease logic with two database handles
 * on one database (two processes cannot open one embedded data directory, and the lease is for
 * the http driver, where nothing else keeps them apart): the second claim fails naming the
 * holder or waits for it, simultaneous claims give exactly one winner, expired and dead holders
 * are taken over, a lease taken over stops its load, and `repo load` / `task load` use it.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { hostname } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../src/db";
import { loadRepo } from "../../src/loaders/repo";
import { acquireLease, LoadLocked } from "../../src/loaders/lock";
import { loadTask } from "../../src/loaders/task";
import { TEST_DATA_DIR } from "../helpers/db";
import { makeTask } from "../fixtures/task";
import { scratchDir } from "../fixtures/_util";
import { contextFor, edgeSnapshot, migratedDb } from "./_snapshot";

setDefaultTimeout(120_000);

let a: Db;
let b: Db;
beforeAll(async () => {
  a = await migratedDb("lock");
  b = await openDb({ driver: "embedded", path: TEST_DATA_DIR, database: a.database });
}, 600_000);

/** Short waits; the ttl must still cover a claim and its read-back on a busy machine. */
const fast = { ttlMs: 10_000, pollMs: 50, waitMs: 0 };

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("lease", () => {
  test("a second claim fails naming the holder's host, pid and since; after release it succeeds", async () => {
    const first = await acquireLease(contextFor(a), "repo p10 2026-11-20", fast);
    const e = await rejection(acquireLease(contextFor(b), "repo p10 2026-11-20", fast));
    expect(e).toBeInstanceOf(LoadLocked);
    const locked = e as LoadLocked;
    expect(locked.holder.host).toBe(hostname());
    expect(Number(locked.holder.pid)).toBe(process.pid);
    expect(locked.message).toContain(`host ${hostname()}, pid ${process.pid}, since 20`);
    // another key is free
    const other = await acquireLease(contextFor(b), "repo p10 2026-11-21", fast);
    await other.release();
    await first.release();
    const second = await acquireLease(contextFor(b), "repo p10 2026-11-20", fast);
    await second.release();
  });

  test("the second waits for the first when allowed to", async () => {
    const first = await acquireLease(contextFor(a), "task 1", fast);
    setTimeout(() => void first.release(), 300);
    const second = await acquireLease(contextFor(b), "task 1", { ...fast, waitMs: 30_000 });
    expect(second.owner).not.toBe(first.owner);
    await second.release();
  });

  test("claims at the same moment: exactly one winner, every time", async () => {
    for (let round = 0; round < 6; round++) {
      const key = `race ${round}`;
      const results = await Promise.allSettled([acquireLease(contextFor(a), key, fast), acquireLease(contextFor(b), key, fast), acquireLease(contextFor(a), key, fast)]);
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won.length).toBe(1);
      for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(LoadLocked);
      await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLease>>>).value.release();
    }
  });

  test("an expired claim of another host is taken over; a claim of a dead process on this host at once", async () => {
    await a.command(`INSERT INTO altrepodb_load_locks (key, owner, host, pid, expires) SELECT 'stale', 'elsewhere/1/x', 'elsewhere', 1, now64(3) + toIntervalMillisecond(2000)`);
    expect(await rejection(acquireLease(contextFor(b), "stale", fast))).toBeInstanceOf(LoadLocked);
    await Bun.sleep(2500);
    await (await acquireLease(contextFor(b), "stale", fast)).release();

    const gone = Bun.spawnSync(["true"]).pid;
    await a.command(`INSERT INTO altrepodb_load_locks (key, owner, host, pid, expires) SELECT 'dead', 'here/x', '${hostname()}', ${gone}, now64(3) + toIntervalMillisecond(3600000)`);
    const lease = await acquireLease(contextFor(b), "dead", fast);
    await lease.release();
  });

  test("a lease that was taken over aborts its load at the next refresh", async () => {
    const lease = await acquireLease(contextFor(a), "lost", { ...fast, ttlMs: 300 });
    expect(lease.lost.aborted).toBe(false);
    // taken over: its claim released behind its back and another owner's claim live
    await a.command(`INSERT INTO altrepodb_load_locks (key, owner, host, pid, expires, released) SELECT 'lost', '${lease.owner}', 'x', 0, now64(3), 1`);
    await a.command(`INSERT INTO altrepodb_load_locks (key, owner, host, pid, expires) SELECT 'lost', 'elsewhere/2/y', 'elsewhere', 2, now64(3) + toIntervalMillisecond(60000)`);
    for (let i = 0; i < 100 && !lease.lost.aborted; i++) await Bun.sleep(50);
    expect(lease.lost.aborted).toBe(true);
    await lease.release();
  });
});

describe("loaders hold the lease", () => {
  test("repo load of a branch and date being loaded elsewhere fails naming the holder; nothing written", async () => {
    const snap = await edgeSnapshot();
    const holder = await acquireLease(contextFor(a), "repo p10 2026-11-20", fast);
    const ctx = { ...contextFor(b), lock: fast };
    const e = await rejection(loadRepo(ctx, { branch: "P10", path: snap.root, date: "2026-11-20" }));
    expect(e).toBeInstanceOf(LoadLocked);
    expect((await b.query<{ n: bigint }>("SELECT count() AS n FROM PackageSetName"))[0].n).toBe(0n);
    // a dry run takes no lease
    expect((await loadRepo(ctx, { branch: "p10", path: snap.root, date: "2026-11-20", dryRun: true })).dryRun).toBe(true);
    await holder.release();
    const report = await loadRepo(ctx, { branch: "p10", path: snap.root, date: "2026-11-20" });
    expect(report.complete).toBe(true);
    // released at the end: the next load of the key is not refused by the lease
    const live = await a.query("SELECT owner FROM altrepodb_load_locks WHERE key = 'repo p10 2026-11-20' GROUP BY owner HAVING argMax(released, at) = 0 AND argMax(expires, at) > now64(3)");
    expect(live).toEqual([]);
  });

  test("task load of a task being loaded elsewhere fails naming the holder", async () => {
    const dir = join(scratchDir("locktask"), "340777");
    await makeTask(dir, { id: 340777, state: "DONE", try: 1, iter: 1, subtasks: [] });
    const holder = await acquireLease(contextFor(a), "task 340777", fast);
    const e = await rejection(loadTask({ ...contextFor(b), lock: fast }, { path: dir }));
    expect(e).toBeInstanceOf(LoadLocked);
    expect((e as Error).message).toContain("task 340777 is being loaded by another process");
    await holder.release();
  });
});
