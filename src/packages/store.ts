/**
 * PackageStore: RPM files in, package rows out, each package parsed at most once.
 *
 * 1. A file whose MD5 is in PackageHash is not opened; a file without a known MD5 has only its
 *    header read to get its pkg_hash, which is then looked up.
 * 2. Unknown files go to the parser workers, which send back every row already encoded.
 * 3. Rows wait in memory up to a size limit, then one checkpoint writes them: duplicates
 *    (pkg_hash already stored) dropped, journal "started", tables in order with PackageHash
 *    last, journal "done". A checkpoint is the unit of durability (see journal.ts).
 */
import { basename } from "node:path";
import { BatchWriter, insertLayout, type Db, type RowCounts } from "../db";
import { toHex } from "../hash";
import { LoadAborted } from "../loaders/errors";
import type { LoadContext } from "../loaders/context";
import { PACKAGE_TABLES } from "../models/package";
import { crashPoint } from "./crash";
import { journalDone, journalStart, recoverUnfinished } from "./journal";
import { knownByMd5, packageHashPairs, withHeaderInfo } from "./lookup";
import { WorkerPool } from "./pool";
import { tablesOf, type EncodedTable, type FromWorker, type Identified, type Layouts } from "./protocol";

/** Files per worker request at most. */
const MAX_BATCH = 16;
import type { PackageFile, PackageLoadOptions, PackageOutcome } from "./types";

export interface StoreOptions {
  workers: number;
  dryRun?: boolean;
  /** Bytes of encoded rows kept in memory before a checkpoint (default 8 MiB: bigger batches were no faster and made the engine hold more memory). */
  checkpointBytes?: number;
}

interface Loaded {
  /** The outcome array of the load() call this package came from, and its index there. */
  outcomes: PackageOutcome[];
  index: number;
  pkgHash: bigint;
  md5hex: string;
  tables: Record<string, EncodedTable>;
}

export class PackageStore {
  /** Per-package warnings (non-MD5 digests, missing source package), by file path. */
  readonly warnings: { path: string; warning: string }[] = [];
  private pending: Loaded[] = [];
  private pendingBytes = 0;
  private outcomes: PackageOutcome[] = [];
  private readonly written = new Set<bigint>();
  private batchSeq = 0;
  private readonly runId = `${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  private constructor(
    private readonly ctx: LoadContext,
    private readonly db: Db,
    private readonly writer: BatchWriter,
    private readonly pool: WorkerPool,
    private readonly opts: StoreOptions,
  ) {}

  static async open(ctx: LoadContext, opts: StoreOptions): Promise<PackageStore> {
    const db = ctx.db;
    if (!opts.dryRun) {
      const cleaned = await recoverUnfinished(db, ctx.log);
      if (cleaned) ctx.log.info("removed partial rows left by an interrupted load", { packages: cleaned });
    }
    const layouts: Layouts = {};
    for (const t of PACKAGE_TABLES) layouts[t] = await insertLayout(db, t);
    const writer = await BatchWriter.open(db, [...PACKAGE_TABLES], { maxRows: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER });
    writer.afterTable = (table) => crashPoint(`after-${table}`);
    writer.onInsert = (table, rows, bytes, ms) => ctx.log.trace("insert", { table, rows, bytes, ms: Math.round(ms) });
    return new PackageStore(ctx, db, writer, new WorkerPool(Math.max(1, opts.workers), layouts), opts);
  }

  get rows(): RowCounts {
    return this.writer.counts;
  }

  /**
   * Loads the files (sources before the binaries that refer to them: call once per kind).
   * Resolves when every package is known, parsed, a duplicate or failed; parsed rows are
   * durable once `flush()` or `close()` has returned ("loaded" may still become "duplicate").
   */
  async load(files: readonly PackageFile[], opts: PackageLoadOptions = {}): Promise<PackageOutcome[]> {
    if (opts.sourceHashes) this.pool.setSourceHashes(new Map(opts.sourceHashes));
    this.outcomes = new Array(files.length);
    let t = performance.now();
    const todo = opts.force ? files.map((_, i) => i) : await this.identify(files);
    if (!opts.sourceHashes && files.some((f) => f.source) && files.some((f) => !f.source)) await this.resolveSources(files, todo);
    const identifyMs = performance.now() - t;
    if (todo.length && opts.beforeParse) await opts.beforeParse(todo.map((i) => files[i]));
    t = performance.now();
    await this.parse(files, todo);
    const parseMs = performance.now() - t;
    this.ctx.log.debug("package store", { files: files.length, parsed: todo.length, identifyMs: Math.round(identifyMs), parseMs: Math.round(parseMs) });
    return this.outcomes;
  }

  /** Marks known files; returns the indexes still to parse. */
  private async identify(files: readonly PackageFile[]): Promise<number[]> {
    const withMd5 = files.map((f, i) => [f, i] as const).filter(([f]) => f.md5);
    const byMd5 = await knownByMd5(this.db, withMd5.map(([f]) => f.md5!));
    const todo: number[] = [];
    const headerOnly: number[] = [];
    files.forEach((f, i) => {
      if (f.md5) {
        const h = byMd5.get(toHex(f.md5));
        if (h !== undefined) this.outcomes[i] = { status: "known", pkgHash: h };
        else todo.push(i);
      } else headerOnly.push(i);
    });
    if (headerOnly.length) {
      const hashes = new Map<number, bigint>();
      await this.headerHashes(files, headerOnly, (i, r) => {
        if (r.ok) hashes.set(i, r.pkgHash);
        else this.outcomes[i] = { status: "failed", error: r.error };
      });
      const stored = await packageHashPairs(this.db, [...new Set(hashes.values())]);
      for (const [i, h] of hashes) {
        if (stored.has(h)) this.outcomes[i] = { status: "known", pkgHash: h };
        else todo.push(i);
      }
    }
    return todo.sort((a, b) => a - b);
  }

  /**
   * Sources and binaries in one load: a binary's pkg_srcrpm_hash is its source's pkg_hash, so the
   * hashes of the sources to parse are read from their headers first; then sources and binaries
   * are parsed side by side (spec extraction, the slow part of a source, overlaps the binaries).
   */
  private async resolveSources(files: readonly PackageFile[], todo: readonly number[]): Promise<void> {
    const hashes = new Map<string, bigint>();
    const nameOf = (f: PackageFile) => f.name ?? basename(f.path);
    files.forEach((f, i) => {
      const o = this.outcomes[i];
      if (f.source && o && o.status === "known") hashes.set(nameOf(f), o.pkgHash);
    });
    // a source that cannot be read fails in its own load; its binaries get 0 and a warning
    await this.headerHashes(
      files,
      todo.filter((i) => files[i].source),
      (i, r) => r.ok && hashes.set(nameOf(files[i]), r.pkgHash),
    );
    this.pool.setSourceHashes(hashes);
  }

  /** pkg_hash of each file from its header alone, in batches. */
  private async headerHashes(files: readonly PackageFile[], items: readonly number[], each: (i: number, r: Identified) => void): Promise<void> {
    await this.batches(items, async (batch) => {
      const r = await this.pool.request({ type: "identify", paths: batch.map((i) => files[i].path) });
      if (r.type === "identified") batch.forEach((i, k) => each(i, r.results[k]));
      else if (r.type === "failed") {
        if (batch.length === 1) each(batch[0], { ok: false, error: r.error });
        // the worker died on one of them: find which, one file at a time
        else for (const i of batch) await this.headerHashes(files, [i], each);
      }
    });
  }

  /**
   * Runs `fn` over the items in batches (one worker request each), with a bounded number of
   * requests in flight; stops early on abort. Batches shrink for small loads so that every
   * worker gets work.
   */
  private async batches(items: readonly number[], fn: (batch: number[]) => Promise<void>): Promise<void> {
    const limit = this.pool.size * 2;
    const size = Math.max(1, Math.min(MAX_BATCH, Math.ceil(items.length / (this.pool.size * 8))));
    const running = new Set<Promise<void>>();
    for (let k = 0; k < items.length; k += size) {
      if (this.ctx.signal?.aborted) break;
      const p = fn(items.slice(k, k + size)).finally(() => running.delete(p));
      running.add(p);
      if (running.size >= limit) await Promise.race(running);
    }
    await Promise.all(running);
    if (this.ctx.signal?.aborted) {
      await this.checkpoint();
      throw new LoadAborted();
    }
  }

  private async parse(files: readonly PackageFile[], todo: readonly number[]): Promise<void> {
    const limit = this.opts.checkpointBytes ?? 8 * 1024 * 1024;
    const firstByMd5 = new Map<string, number>();
    const copies: [number, number][] = [];
    const unique = todo.filter((i) => {
      const m = files[i].md5;
      if (!m) return true;
      const key = toHex(m);
      const first = firstByMd5.get(key);
      if (first === undefined) {
        firstByMd5.set(key, i);
        return true;
      }
      copies.push([i, first]);
      return false;
    });
    let done = 0;
    const loadBatch = async (batch: number[]): Promise<void> => {
      const r: FromWorker = await this.pool.request({ type: "load", files: batch.map((i) => files[i]) });
      if (r.type === "failed") {
        if (batch.length === 1) this.outcomes[batch[0]] = { status: "failed", error: r.error };
        // the worker died on one of them: the others still load, one at a time
        else for (const i of batch) await loadBatch([i]);
        return;
      }
      if (r.type !== "loaded") return;
      batch.forEach((i, k) => {
        const res = r.results[k];
        if (!res.ok) {
          this.outcomes[i] = { status: "failed", error: res.error };
          return;
        }
        for (const w of res.warnings) this.warnings.push({ path: files[i].path, warning: w });
        const tables = tablesOf(res, r.buffers);
        for (const t of Object.values(tables)) this.pendingBytes += t.data.length;
        this.pending.push({ outcomes: this.outcomes, index: i, pkgHash: res.pkgHash, md5hex: toHex(res.md5), tables });
        this.outcomes[i] = { status: "loaded", pkgHash: res.pkgHash };
      });
      done += batch.length;
      this.ctx.progress?.({ phase: "packages", done, total: unique.length });
      if (this.pendingBytes >= limit) await this.checkpoint();
    };
    await this.batches(unique, loadBatch);
    for (const [i, first] of copies) this.outcomes[i] = this.outcomes[first];
  }

  /** Writes what is pending; see the file comment. */
  async checkpoint(): Promise<void> {
    const items = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (items.length === 0) return;
    if (this.opts.dryRun) return;
    const stored = await packageHashPairs(this.db, [...new Set(items.map((x) => x.pkgHash))]);
    // a stored package parsed again (--force) gets the PackageHeaderInfo row it lacks when it
    // was loaded before migration 0108
    const storedParsed = [...new Set(items.filter((x) => stored.has(x.pkgHash) && x.tables.PackageHeaderInfo).map((x) => x.pkgHash))];
    const haveInfo = storedParsed.length ? await withHeaderInfo(this.db, storedParsed) : new Set<bigint>();
    // and the PackageHeaderBlob row (sql/0109) it lacks when it was loaded before that
    const haveBlob = storedParsed.length ? await withHeaderInfo(this.db, storedParsed, "PackageHeaderBlob") : new Set<bigint>();
    const hashes: bigint[] = [];
    const seen = new Set<string>();
    for (const it of items) {
      const pair = `${it.pkgHash}:${it.md5hex}`;
      const pairKnown = stored.get(it.pkgHash)?.has(it.md5hex) || seen.has(pair);
      seen.add(pair);
      const duplicate = stored.has(it.pkgHash) || this.written.has(it.pkgHash);
      if (duplicate) {
        it.outcomes[it.index] = { status: "duplicate", pkgHash: it.pkgHash };
        // a new file digest of a stored package: remember it, so the file is known next time
        if (!pairKnown) this.writer.addEncodedOwned("PackageHash", it.tables.PackageHash.data, it.tables.PackageHash.rows);
        const info = it.tables.PackageHeaderInfo;
        if (info && stored.has(it.pkgHash) && !haveInfo.has(it.pkgHash)) {
          this.writer.addEncodedOwned("PackageHeaderInfo", info.data, info.rows);
          haveInfo.add(it.pkgHash);
        }
        const blob = it.tables.PackageHeaderBlob;
        if (blob && stored.has(it.pkgHash) && !haveBlob.has(it.pkgHash)) {
          this.writer.addEncodedOwned("PackageHeaderBlob", blob.data, blob.rows);
          haveBlob.add(it.pkgHash);
        }
        continue;
      }
      this.written.add(it.pkgHash);
      hashes.push(it.pkgHash);
      for (const [table, t] of Object.entries(it.tables)) if (t.rows) this.writer.addEncodedOwned(table, t.data, t.rows);
    }
    const batch = `${this.runId}-${++this.batchSeq}`;
    await journalStart(this.db, batch, hashes);
    crashPoint("journal-started");
    await this.writer.flush();
    crashPoint("rows-written");
    await journalDone(this.db, batch);
  }

  /** Writes every parsed package. */
  flush(): Promise<void> {
    return this.checkpoint();
  }

  async close(): Promise<RowCounts> {
    try {
      await this.checkpoint();
    } finally {
      this.pool.close();
    }
    return this.writer.counts;
  }
}
