/**
 * A fixed set of parser workers. Each request gets a reply; a worker that dies fails its
 * requests with a named error and is replaced, so one bad file cannot stall a load.
 */
import type { FromWorker, Layouts, ToWorker } from "./protocol";
import type { PackageFile } from "./types";

type Pending = { resolve: (m: FromWorker) => void; msg: ToWorker & { id: number } };

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending>;
}

function workerUrl(): string | URL {
  // Compiled binaries embed the worker as an extra entry point (build.ts), addressed by its path
  // relative to the entry points' common root (src/); tests/build checks it.
  return import.meta.path.startsWith("/$bunfs") ? "./packages/worker.ts" : new URL("./worker.ts", import.meta.url);
}

/** A request without its id (the pool numbers them). */
export type Request = { type: "identify"; paths: string[] } | { type: "load"; files: PackageFile[] };

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private sources?: Map<string, bigint>;
  private closed = false;

  /** Workers start on the first request: a load that finds every package known needs none. */
  constructor(
    readonly size: number,
    private readonly layouts: Layouts,
  ) {}

  private start(): void {
    if (this.slots.length || this.closed) return;
    for (let i = 0; i < this.size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl());
    const slot: Slot = { worker, inFlight: new Map() };
    worker.onmessage = (ev: MessageEvent<FromWorker>) => {
      const p = slot.inFlight.get(ev.data.id);
      if (!p) return;
      slot.inFlight.delete(ev.data.id);
      p.resolve(ev.data);
    };
    worker.onerror = (ev) => this.replace(slot, ev.message || "worker crashed");
    worker.addEventListener("close", () => {
      if (!this.closed) this.replace(slot, "worker exited");
    });
    worker.postMessage({ type: "init", layouts: this.layouts } satisfies ToWorker);
    if (this.sources) worker.postMessage({ type: "sources", hashes: this.sources } satisfies ToWorker);
    return slot;
  }

  private replace(slot: Slot, reason: string): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    slot.worker.terminate();
    this.slots[i] = this.spawn();
    for (const p of slot.inFlight.values()) p.resolve({ type: "failed", id: p.msg.id, error: `parser worker failed: ${reason}` });
    slot.inFlight.clear();
  }

  setSourceHashes(hashes: Map<string, bigint>): void {
    this.sources = hashes;
    for (const s of this.slots) s.worker.postMessage({ type: "sources", hashes } satisfies ToWorker);
  }

  request(msg: Request): Promise<FromWorker> {
    this.start();
    const slot = this.slots.reduce((a, b) => (b.inFlight.size < a.inFlight.size ? b : a));
    const id = this.nextId++;
    const full = { ...msg, id } as Extract<ToWorker, { id: number }>;
    return new Promise((resolve) => {
      slot.inFlight.set(id, { resolve, msg: full });
      slot.worker.postMessage(full);
    });
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) s.worker.terminate();
    this.slots.length = 0;
  }
}
