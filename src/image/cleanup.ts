/**
 * What an image opener leaves on the host (FUSE mounts, temporary directories) is registered here
 * and undone on close, and, if the process ends first, at exit: on SIGINT/SIGTERM (the CLI's
 * handlers end with process.exit, which runs the exit hook; without such handlers this module
 * installs its own) and on an uncaught error. Every undo is synchronous so it runs in the exit hook.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pending = new Map<number, () => void>();
let next = 1;
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on("exit", runAll);
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    if (process.listenerCount(sig) === 0) {
      process.on(sig, () => {
        runAll();
        process.exit(130);
      });
    }
  }
}

function runAll(): void {
  for (const [id, undo] of [...pending].reverse()) {
    pending.delete(id);
    try {
      undo();
    } catch {
      // best effort at exit
    }
  }
}

/** Register an undo step; the returned function runs it now (once) and unregisters it. */
export function onCleanup(undo: () => void): () => void {
  hook();
  const id = next++;
  pending.set(id, undo);
  return () => {
    if (!pending.delete(id)) return;
    undo();
  };
}

/** A private temporary directory, removed by the returned function or at exit. */
export function tempDir(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(process.env.ALTREPODB_IMAGE_TMP || tmpdir(), `altrepodb-${prefix}-`));
  const remove = onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, remove };
}

/** Lazy-unmount a FUSE mount point (used at exit and after a failed unmount). */
export function lazyUnmount(dir: string): void {
  const tool = fusermount();
  if (tool) spawnSync(tool, ["-u", "-z", dir], { stdio: "ignore", timeout: 10_000 });
}

export function fusermount(): string | null {
  return which("fusermount3") ?? which("fusermount");
}

/** A tool's path on the current PATH (read at each call, so a changed PATH counts), or null. */
export function which(tool: string): string | null {
  return Bun.which(tool, { PATH: process.env.PATH ?? "" });
}

/** Number of undo steps still registered (tests check that nothing is left). */
export function pendingCleanups(): number {
  return pending.size;
}
