/**
 * Insert spool files: each embedded insert is written to <data dir>/altrepodb-spool/<pid>-<n>.bin,
 * read by the engine (INSERT … FROM INFILE) and removed. A process killed during an insert leaves
 * its file behind; the next process that opens the data directory removes the files of dead
 * processes. Files of a live process are left alone (the data directory lock keeps a second
 * process out, but a file is never deleted from under a running insert).
 */
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const SPOOL_FILE = /^(\d+)-\d+\.bin$/;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function spoolDir(dataDir: string): string {
  return join(dataDir, "altrepodb-spool");
}

/**
 * Creates the spool directory and removes the spool files left by processes that are gone.
 * Called once per process, before its first insert: a file named with this process's own pid
 * was left by an earlier process that had the same pid. Returns the names removed.
 */
export function cleanSpool(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    const m = SPOOL_FILE.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && alive(pid)) continue;
    rmSync(join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
