/**
 * A bounded on-disk FIFO: one JSON file per entry, named so that name order is arrival order
 * (also across restarts). Written with write-then-rename, so a crash leaves whole entries only.
 * When full (count or bytes), the OLDEST entries are dropped, each with a warning in the log.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log";

export interface SpoolLimits {
  maxFiles: number;
  maxBytes: number;
}

let seq = 0;

export class Spool {
  /** Entries dropped because the spool was full, since this object was made. */
  dropped = 0;

  constructor(
    readonly dir: string,
    private readonly limits: SpoolLimits,
    private readonly log: Logger,
  ) {
    mkdirSync(dir, { recursive: true });
    for (const n of readdirSync(dir)) if (n.endsWith(".tmp")) rmSync(join(dir, n), { force: true });
  }

  /** Entry names, oldest first. */
  list(): string[] {
    return readdirSync(this.dir)
      .filter((n) => n.endsWith(".json"))
      .sort();
  }

  size(): { files: number; bytes: number } {
    let bytes = 0;
    const names = this.list();
    for (const n of names) bytes += this.bytesOf(n);
    return { files: names.length, bytes };
  }

  private bytesOf(name: string): number {
    try {
      return statSync(join(this.dir, name)).size;
    } catch {
      return 0;
    }
  }

  push(entry: unknown): string {
    const data = JSON.stringify(entry);
    const name = `${String(Date.now()).padStart(15, "0")}-${String(process.pid).padStart(8, "0")}-${String(++seq).padStart(8, "0")}.json`;
    this.makeRoom(Buffer.byteLength(data));
    const tmp = join(this.dir, `${name}.tmp`);
    writeFileSync(tmp, data);
    renameSync(tmp, join(this.dir, name));
    return name;
  }

  private makeRoom(incoming: number): void {
    const names = this.list();
    let bytes = names.reduce((sum, n) => sum + this.bytesOf(n), 0);
    let files = names.length;
    for (const n of names) {
      if (files + 1 <= this.limits.maxFiles && bytes + incoming <= this.limits.maxBytes) break;
      const size = this.bytesOf(n);
      this.remove(n);
      files--;
      bytes -= size;
      this.dropped++;
      this.log.warn("notification spool full: dropped the oldest notification", { file: n, max_files: this.limits.maxFiles, max_bytes: this.limits.maxBytes });
    }
  }

  /** The entry, or undefined when it is gone or unreadable (an unreadable one is removed). */
  read(name: string): unknown {
    try {
      return JSON.parse(readFileSync(join(this.dir, name), "utf8"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") {
        this.log.warn("notification spool: dropped an unreadable entry", { file: name, error: (e as Error).message });
        this.remove(name);
      }
      return undefined;
    }
  }

  remove(name: string): void {
    rmSync(join(this.dir, name), { force: true });
  }
}
