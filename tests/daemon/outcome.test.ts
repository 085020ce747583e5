/** The fate of a message without a broker: one outcome → one broker action, one notification, its counters; and the keyed lock. */
import { describe, expect, test } from "bun:test";
import { delayQueueName } from "../../src/amqp";
import { HEADER } from "../../src/daemon/headers";
import { KeyedLock } from "../../src/daemon/keyed";
import { fateOf, outcomeOfError, putBack, type Delivery, type Outcome } from "../../src/daemon/outcome";
import { REGISTRY } from "../../src/daemon/services";
import { DbError } from "../../src/db";
import { InputError } from "../../src/loaders/errors";

const NOW = new Date("2026-12-03T10:00:00.000Z");

function delivery(headers: Record<string, unknown> = {}, over: Partial<Delivery> = {}): Delivery {
  return {
    service: "task",
    queue: "task-q",
    deadLetterExchange: "dlx",
    routingKey: "task.state",
    exchange: "girar-ex",
    headers,
    messageId: "m-1",
    body: Buffer.from('{"taskid": 1}'),
    maxAttempts: 3,
    retryDelaysMs: [1000, 2000],
    ...over,
  };
}

const fate = (o: Outcome, d = delivery()) => fateOf(o, d, (ms) => delayQueueName(d.queue, ms), NOW);

describe("fate of a message", () => {
  test("done: ack, a done notification, counted done or skipped", () => {
    const f = fate({ kind: "done", summary: "task 1 loaded", skipped: false });
    expect(f.action).toEqual({ kind: "ack" });
    expect(f.counts).toEqual(["done"]);
    expect(f.notification).toMatchObject({ event: "done", type: "MESSAGE", severity: "INFO", service: "task", reason: "task 1 loaded", routingKey: "task.state", messageId: "m-1", attempts: 1 });
    expect(fate({ kind: "done", summary: "nothing", skipped: true }).counts).toEqual(["skipped"]);
  });

  test("retry: the delay queue of the try with attempts and failure times, then ack; a retry notification", () => {
    const f = fate({ kind: "retry", error: "boom" }, delivery({ [HEADER.attempts]: 1, [HEADER.firstFailure]: "2026-12-03T09:00:00.000Z", "x-death": [{}] }));
    expect(f.action).toEqual({
      kind: "republish",
      exchange: "",
      routingKey: "task-q.delay.2s",
      headers: {
        [HEADER.attempts]: 2,
        [HEADER.firstFailure]: "2026-12-03T09:00:00.000Z",
        [HEADER.lastFailure]: NOW.toISOString(),
        [HEADER.error]: "boom",
        [HEADER.reason]: "failed",
        [HEADER.service]: "task",
        [HEADER.routingKey]: "task.state",
        [HEADER.exchange]: "girar-ex",
      },
    });
    expect(f.counts).toEqual(["failed", "retried"]);
    expect(f.notification).toMatchObject({ event: "retry", type: "SERVICE_RETRY", attempts: 2, firstFailure: "2026-12-03T09:00:00.000Z" });
    expect(f.log).toMatchObject({ level: "warn", msg: "message failed; will retry", fields: { retry_in_s: 2, next_try: 3 } });
  });

  test("dead letter: to the dead-letter exchange with the reason; invalid used no try, failed used this one", () => {
    const inv = fate({ kind: "dead-letter", reason: "invalid", error: "bad JSON" });
    expect(inv.action).toMatchObject({ kind: "republish", exchange: "dlx", routingKey: "task-q", headers: { [HEADER.reason]: "invalid", [HEADER.attempts]: 0, [HEADER.error]: "bad JSON" } });
    expect(inv.counts).toEqual(["invalid", "dead_lettered"]);
    expect(inv.notification).toMatchObject({ event: "dead-lettered", type: "SERVICE_WORKER_ERROR", severity: "CRITICAL", reason: "bad JSON" });
    const failed = fate({ kind: "dead-letter", reason: "failed", error: "boom" }, delivery({ [HEADER.attempts]: 2 }));
    expect(failed.action).toMatchObject({ headers: { [HEADER.reason]: "failed", [HEADER.attempts]: 3 } });
    expect(failed.counts).toEqual(["failed", "dead_lettered"]);
    // a retry with no delay left is a dead letter
    expect(fate({ kind: "retry", error: "boom" }, delivery({ [HEADER.attempts]: 2 })).counts).toEqual(["failed", "dead_lettered"]);
  });

  test("defer: the first delay queue without counting a try and without a notification; no delay queue → the tail of the queue", () => {
    const f = fate({ kind: "defer", error: "connection refused" }, delivery({ [HEADER.deferrals]: 2, [HEADER.attempts]: 1 }));
    expect(f.action).toMatchObject({ kind: "republish", exchange: "", routingKey: "task-q.delay.1s", headers: { [HEADER.deferrals]: 3, [HEADER.attempts]: 1, [HEADER.reason]: "deferred" } });
    expect(f.counts).toEqual(["deferred"]);
    expect(f.notification).toBeUndefined();
    expect(f.lastError).toBe("database unavailable: connection refused");
    expect(fate({ kind: "defer", error: "x" }, delivery({}, { retryDelaysMs: [], maxAttempts: 1 })).action).toMatchObject({ kind: "republish", exchange: "", routingKey: "task-q", headers: { [HEADER.deferrals]: 1 } });
  });

  test("requeue on shutdown: republished to the tail of its queue with a count (never a nack: the delivery limit must not see it)", () => {
    const f = fate({ kind: "requeue", why: "shutdown" }, delivery({ [HEADER.requeues]: 4, [HEADER.attempts]: 1 }));
    expect(f.action).toMatchObject({ kind: "republish", exchange: "", routingKey: "task-q", headers: { [HEADER.requeues]: 5, [HEADER.attempts]: 1, [HEADER.routingKey]: "task.state" } });
    expect(f.counts).toEqual(["requeued"]);
    expect(f.notification).toBeUndefined();
    expect(f.log.msg).toContain("requeued");
  });

  test("a refused copy: the message goes back to its queue unchanged but for a refusal count", () => {
    expect(putBack(delivery({ [HEADER.attempts]: 2, "x-delivery-count": 3 }))).toEqual({
      kind: "republish",
      exchange: "",
      routingKey: "task-q",
      headers: { [HEADER.attempts]: 2, [HEADER.refusals]: 1, [HEADER.service]: "task", [HEADER.routingKey]: "task.state", [HEADER.exchange]: "girar-ex" },
    });
  });

  test("every outcome: exactly one broker action", () => {
    const outcomes: Outcome[] = [
      { kind: "done", summary: "s", skipped: false },
      { kind: "retry", error: "e" },
      { kind: "defer", error: "e" },
      { kind: "dead-letter", reason: "invalid", error: "e" },
      { kind: "dead-letter", reason: "failed", error: "e" },
      { kind: "requeue", why: "shutdown" },
    ];
    for (const o of outcomes) expect(["ack", "republish"]).toContain(fate(o).action.kind);
  });
});

describe("outcome of an error", () => {
  const base = { attempt: 1, maxAttempts: 3, stopping: false, mayBeDb: false, dbDown: async () => false };

  test("refused input → dead letter (invalid), even while stopping", async () => {
    expect(await outcomeOfError(new InputError("no such branch"), { ...base, stopping: true })).toEqual({ kind: "dead-letter", reason: "invalid", error: "no such branch" });
  });

  test("stopping → requeue; database away → defer; else retry until the last try, then dead letter", async () => {
    expect(await outcomeOfError(new Error("aborted"), { ...base, stopping: true })).toEqual({ kind: "requeue", why: "shutdown" });
    let asked = 0;
    const down = async () => (asked++, true);
    expect(await outcomeOfError(new DbError("connection refused"), { ...base, mayBeDb: true, dbDown: down })).toEqual({ kind: "defer", error: "connection refused" });
    expect(await outcomeOfError(new Error("boom"), { ...base, dbDown: down })).toEqual({ kind: "retry", error: "boom" });
    expect(asked).toBe(1);
    expect(await outcomeOfError(new Error("boom"), { ...base, attempt: 3 })).toEqual({ kind: "dead-letter", reason: "failed", error: "boom" });
  });
});

describe("keys of messages", () => {
  const { task, repo } = REGISTRY;
  const msg = (routingKey: string, payload: unknown) => ({ routingKey, payload, attempt: 1, source: "amqp" as const });

  test("task: every message of one task has one key (TESTED and DONE, progress, approvals)", () => {
    const keys = [msg("task.state", { taskid: 7, state: "tested" }), msg("task.state", { taskid: 7, state: "done" }), msg("task.progress", { taskid: 7 }), msg("task.subtask.approve", { taskid: 7, subtaskid: 100 })].map((m) => task.key!(m));
    expect(new Set(keys)).toEqual(new Set(["task 7"]));
    expect(task.key!(msg("task.state", { taskid: 8, state: "done" }))).toBe("task 8");
  });

  test("repo: branch and date", () => {
    expect(repo.key!(msg("repo.load", { branch: "p10", date: "2026-11-20" }))).toBe("repo p10 2026-11-20");
    expect(repo.key!(msg("repo.load", { branch: "p10", date: "2026-11-21" }))).not.toBe(repo.key!(msg("repo.load", { branch: "p10", date: "2026-11-20" })));
  });
});

describe("keyed lock", () => {
  test("one job per key at a time, in arrival order; other keys run alongside; a job with two keys waits for both", async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const job = (name: string, ms: number) => async () => {
      log.push(`${name}+`);
      await Bun.sleep(ms);
      log.push(`${name}-`);
    };
    let waits = 0;
    const all = [
      lock.run(["a"], job("a1", 60)),
      lock.run(["a"], job("a2", 10), (w) => (waits += w ? 1 : 0)),
      lock.run(["b"], job("b1", 10)),
      lock.run(["b", "a"], job("ab", 10)),
    ];
    await Promise.all(all);
    expect(log.indexOf("a2+")).toBeGreaterThan(log.indexOf("a1-"));
    expect(log.indexOf("b1-")).toBeLessThan(log.indexOf("a1-"));
    expect(log.indexOf("ab+")).toBeGreaterThan(log.indexOf("a2-"));
    expect(log.indexOf("ab+")).toBeGreaterThan(log.indexOf("b1-"));
    expect(waits).toBe(1);
    expect(lock.size).toBe(0);
  });

  test("a failing job releases its key", async () => {
    const lock = new KeyedLock();
    await expect(lock.run(["k"], async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await lock.run(["k"], async () => 42)).toBe(42);
    expect(lock.size).toBe(0);
  });
});
