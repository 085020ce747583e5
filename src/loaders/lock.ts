/**
 * One load per key at a time (`repo p10 2026-11-20`, `task 412345`), across processes and
 * hosts: a lease in the table altrepodb_load_locks (sql/0103_load_locks.sql). The embedded
 * driver's data-directory lock already keeps other processes out, but the http driver has none,
 * and the daemon runs several loads in one process.
 *
 * Protocol (every step a row; rows are never updated):
 * 1. Read the live claims of the key (latest row per owner not released, `expires` in the
 *    future, by the server's clock). If someone holds it, wait (poll, one log line) up to
 *    `waitMs`, then fail with LoadLocked naming the holder's host, pid and since.
 * 2. Insert a claim: (key, owner = host/pid/random, expires = now + ttl). `at` is the server's
 *    insert time.
 * 3. Read back the live claims; the winner is the lowest (first `at`, then owner). Not the
 *    winner: insert a release row for the claim and go back to 1.
 *    A claim made on this host by a process that no longer exists (kill -9) is released by the
 *    next contender at once instead of waiting for its expiry.
 * 4. While the load runs, refresh every ttl/3 (a new row with a later `expires`); a refresh that
 *    finds another winner (this lease expired, e.g. the process was stopped longer than the ttl,
 *    and was taken over) aborts the load; one that finds it expired but not taken renews it. Released at the end (a `released = 1` row). A holder
 *    that dies simply stops refreshing: its claim expires after the ttl and is taken over.
 *
 * The race, since ClickHouse has no transactions: two contenders can both see the key free in
 * step 1 and both insert. Both then read back both claims and agree on one winner, because the
 * order is by server-assigned `at` and owner, never by a client clock. The one gap: a claim whose
 * `at` is earlier but whose insert becomes visible only after the other contender's read-back.
 * The read-back is therefore done twice, `settleMs` apart (1 s with the http driver; 0 with the
 * embedded one, whose inserts in one process are visible when the call returns), and the
 * decision is the second read. A server whose inserts take longer than settleMs to become
 * visible (a replica lagging behind in cluster mode) can still let two loads start; the loads
 * themselves stay idempotent, so the worst case is duplicated work, not duplicated rows from a
 * crash-safe step. A clock jump on the server can shorten or lengthen leases; nothing else uses
 * time.
 */
import { hostname } from "node:os";
import { quoteString, type Db, type Settings } from "../db";
import type { LoadContext } from "./context";
import { throwIfAborted } from "./errors";

const TABLE = "altrepodb_load_locks";

export interface LeaseOptions {
  /** Lease duration; refreshed every third of it. Default 60 s. */
  ttlMs?: number;
  /** How long a second load waits for the first before failing. Default 30 s. */
  waitMs?: number;
  /** Poll interval while waiting. Default 2 s. */
  pollMs?: number;
  /** Delay between the two read-backs of a claim (see the file comment). Default: 1 s over http, 0 embedded. */
  settleMs?: number;
}

export interface LeaseHolder {
  owner: string;
  host: string;
  pid: number;
  /** When the holder claimed the key (server time, ISO). */
  since: string;
}

/** The key is held by another load; a temporary condition (the daemon retries, the CLI exits 1). */
export class LoadLocked extends Error {
  override name = "LoadLocked";
  constructor(
    readonly key: string,
    readonly holder: LeaseHolder,
  ) {
    super(`${key} is being loaded by another process (host ${holder.host}, pid ${holder.pid}, since ${holder.since}); try again when it has finished`);
  }
}

interface Claim extends LeaseHolder {
  expires: string;
}

/**
 * Cluster mode (`db init --cluster`: the lease table is a ReplicatedMergeTree, one replica per
 * node, loaders on different hosts talking to different nodes): a claim is written with a quorum
 * of replicas (`insert_quorum = 'auto'`, the majority, not in parallel) and the claims are read
 * with `select_sequential_consistency`, so a read on any node sees every claim acknowledged
 * before it, or fails (and the load is retried) — the replication-lag gap of the file comment
 * is closed. One server: nothing is set.
 */
export function leaseSettings(engine: string): { write: Settings; read: Settings } {
  if (!engine.startsWith("Replicated")) return { write: {}, read: {} };
  return { write: { insert_quorum: "auto", insert_quorum_parallel: 0 }, read: { select_sequential_consistency: 1 } };
}

const settingsOf = new WeakMap<Db, Promise<{ write: Settings; read: Settings }>>();

function tableSettings(db: Db): Promise<{ write: Settings; read: Settings }> {
  let p = settingsOf.get(db);
  if (!p) {
    p = db
      .query<{ e: string }>(`SELECT engine AS e FROM system.tables WHERE database = currentDatabase() AND name = ${quoteString(TABLE)}`)
      .then((r) => leaseSettings(r[0]?.e ?? ""));
    p.catch(() => settingsOf.delete(db));
    settingsOf.set(db, p);
  }
  return p;
}

async function liveClaims(db: Db, key: string): Promise<Claim[]> {
  const { read } = await tableSettings(db);
  return db.query<Claim>(
    `SELECT owner, host, pid, toString(first_at) AS since, toString(last_expires) AS expires
     FROM (
       SELECT owner, argMax(host, at) AS host, argMax(pid, at) AS pid, min(at) AS first_at,
              argMax(expires, at) AS last_expires, argMax(released, at) AS last_released
       FROM ${TABLE} WHERE key = ${quoteString(key)}
       GROUP BY owner
     )
     WHERE last_released = 0 AND last_expires > now64(3)
     ORDER BY first_at, owner`,
    { settings: read },
  );
}

async function writeRow(db: Db, key: string, owner: string, ttlMs: number, released: boolean, who = { host: hostname(), pid: process.pid }): Promise<void> {
  const { write } = await tableSettings(db);
  await db.command(
    `INSERT INTO ${TABLE} (key, owner, host, pid, expires, released)
     SELECT ${quoteString(key)}, ${quoteString(owner)}, ${quoteString(who.host)}, ${Math.trunc(who.pid)}, now64(3) + toIntervalMillisecond(${Math.round(ttlMs)}), ${released ? 1 : 0}`,
    { settings: write },
  );
}

/** True when the claim was made on this host by a process that no longer exists. */
function deadHere(c: LeaseHolder): boolean {
  if (c.host !== hostname() || Number(c.pid) === process.pid) return false;
  try {
    process.kill(Number(c.pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * The live claims, after releasing those of dead processes on this host (a load killed with -9
 * or stopped by the SIGTERM deadline does not wait out its ttl before it can be run again).
 */
async function claimsOf(ctx: LoadContext, key: string, ttlMs: number): Promise<Claim[]> {
  const claims = await liveClaims(ctx.db, key);
  const dead = claims.filter(deadHere);
  for (const c of dead) {
    ctx.log.info(`taking over the lease on ${key} of pid ${c.pid}, which is gone`, { since: c.since });
    await writeRow(ctx.db, key, c.owner, ttlMs, true, { host: c.host, pid: Number(c.pid) });
  }
  return dead.length ? claims.filter((c) => !dead.includes(c)) : claims;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

/** A held lease; `release()` ends it. `lost` is aborted when a refresh finds it taken over. */
export interface Lease {
  readonly key: string;
  readonly owner: string;
  readonly lost: AbortSignal;
  release(): Promise<void>;
}

/** Claims `key` (waiting up to waitMs for another holder) and keeps it refreshed until released. */
export async function acquireLease(ctx: LoadContext, key: string, opts: LeaseOptions = {}): Promise<Lease> {
  const db = ctx.db;
  const ttlMs = opts.ttlMs ?? 60_000;
  const waitMs = opts.waitMs ?? 30_000;
  const pollMs = opts.pollMs ?? 2_000;
  const settleMs = opts.settleMs ?? (db.kind === "http" ? 1_000 : 0);
  const owner = `${hostname()}/${process.pid}/${crypto.randomUUID().slice(0, 8)}`;
  const deadline = Date.now() + waitMs;
  let logged = false;
  for (;;) {
    throwIfAborted(ctx.signal);
    const before = await claimsOf(ctx, key, ttlMs);
    if (before.length === 0) {
      await writeRow(db, key, owner, ttlMs, false);
      let claims = await liveClaims(db, key);
      if (settleMs > 0) {
        await sleep(settleMs);
        claims = await liveClaims(db, key);
      }
      if (claims[0]?.owner === owner) break;
      await writeRow(db, key, owner, ttlMs, true);
    }
    const holder = (await liveClaims(db, key)).find((c) => c.owner !== owner) ?? before[0];
    if (!holder) continue;
    if (Date.now() + pollMs > deadline) throw new LoadLocked(key, holder);
    if (!logged) {
      ctx.log.info(`waiting for another load of ${key} to finish`, { host: holder.host, pid: holder.pid, since: holder.since, waitSeconds: Math.round(waitMs / 1000) });
      logged = true;
    }
    await sleep(pollMs, ctx.signal);
  }

  const lostController = new AbortController();
  let released = false;
  let refreshing: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    refreshing = (async () => {
      try {
        if (released || lostController.signal.aborted) return;
        const claims = await liveClaims(db, key);
        if (released) return;
        // expired without a successor (the event loop was held up longer than the ttl, e.g. by a
        // long synchronous call into the embedded engine): renewed, as nobody else holds it
        if (claims.length > 0 && claims[0].owner !== owner) {
          const by = claims[0];
          ctx.log.error(`lost the lease on ${key} to host ${by.host}, pid ${by.pid}: stopping this load`);
          lostController.abort();
          return;
        }
        if (claims.length === 0) ctx.log.warn(`the lease on ${key} had expired before its refresh; renewed`);
        await writeRow(db, key, owner, ttlMs, false);
      } catch (e) {
        ctx.log.warn(`could not refresh the lease on ${key}: ${(e as Error).message}`);
      }
    })();
  }, Math.max(50, Math.floor(ttlMs / 3)));
  timer.unref?.();
  return {
    key,
    owner,
    lost: lostController.signal,
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await refreshing;
      await writeRow(db, key, owner, ttlMs, true);
    },
  };
}

/**
 * Runs `fn` holding the lease on `key`. Its context's signal is also aborted when the lease is
 * lost; the lease is released however `fn` ends.
 */
export async function withLoadLock<T>(ctx: LoadContext, key: string, fn: (ctx: LoadContext) => Promise<T>, opts?: LeaseOptions): Promise<T> {
  const lease = await acquireLease(ctx, key, opts);
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, lease.lost]) : lease.lost;
  try {
    return await fn({ ...ctx, signal });
  } finally {
    await lease.release().catch((e: unknown) => ctx.log.warn(`could not release the lease on ${key}: ${(e as Error).message}`));
  }
}
