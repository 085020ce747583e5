/**
 * One at a time per key: a job waits until every earlier job holding any of its keys is over.
 * First come, first served per key; a job's keys are taken all at once, so two jobs never wait
 * for each other.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `fn` once no earlier job with one of `keys` runs; `onWait` is called if it has to wait. */
  async run<T>(keys: readonly string[], fn: () => Promise<T>, onWait?: (waiting: boolean) => void): Promise<T> {
    const before = [...new Set(keys)].map((k) => this.tails.get(k)).filter((p): p is Promise<void> => p !== undefined);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    for (const k of keys) this.tails.set(k, mine);
    try {
      if (before.length) {
        onWait?.(true);
        try {
          await Promise.all(before);
        } finally {
          onWait?.(false);
        }
      }
      return await fn();
    } finally {
      release();
      for (const k of keys) if (this.tails.get(k) === mine) this.tails.delete(k);
    }
  }

  /** Keys held or waited for. */
  get size(): number {
    return this.tails.size;
  }
}
