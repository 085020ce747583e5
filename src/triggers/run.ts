/**
 * Runs one trigger program: an argument array (never a shell), in a process group of its own,
 * the summary on its stdin, bounded by a timeout (then SIGTERM to the group, SIGKILL after a
 * grace). Nothing here throws or blocks the caller on the program's behalf: a program that does
 * not exist, fails, hangs or never reads its stdin gives an outcome, not an exception, and a
 * stdin write never waits for the reader (a full pipe buffers in this process; EPIPE is ignored).
 */
import { spawn } from "node:child_process";

export type RunOutcome = "ok" | "failed" | "timeout" | "error";

export interface RunResult {
  outcome: RunOutcome;
  code: number | null;
  signal: string | null;
  /** Why, in a few words (exit status, signal, spawn error). */
  reason: string;
  /** The last bytes the program wrote to stderr (first line used in logs). */
  stderr: string;
  seconds: number;
}

export interface RunOptions {
  stdin: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** SIGTERM → SIGKILL (default 2 s). */
  killGraceMs?: number;
}

const TAIL = 4096;

function killGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}

export function runProgram(argv: readonly string[], o: RunOptions): Promise<RunResult> {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  return new Promise((resolve) => {
    let stderr = "";
    let settled = false;
    let timedOut = false;
    let killTimer: ReturnType<typeof setTimeout> | undefined;
    const finish = (r: Omit<RunResult, "stderr" | "seconds">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      child.stdin?.destroy();
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ ...r, stderr: stderr.slice(-TAIL), seconds: seconds() });
    };
    const child = spawn(argv[0], argv.slice(1), { stdio: ["pipe", "pipe", "pipe"], env: o.env, detached: true });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, "SIGTERM");
      killTimer = setTimeout(() => killGroup(child.pid, "SIGKILL"), o.killGraceMs ?? 2000);
    }, o.timeoutMs);
    child.on("error", (e: NodeJS.ErrnoException) => finish({ outcome: "error", code: null, signal: null, reason: `cannot run: ${e.code ?? e.message}` }));
    child.on("exit", (code, signal) => {
      // the whole group goes: a background child of the trigger must not outlive it holding our pipes
      if (timedOut) killGroup(child.pid, "SIGKILL");
      if (timedOut) finish({ outcome: "timeout", code, signal, reason: `killed after the timeout of ${o.timeoutMs / 1000} s` });
      else if (code === 0) finish({ outcome: "ok", code, signal, reason: "exit 0" });
      else finish({ outcome: "failed", code, signal, reason: signal ? `killed by ${signal}` : `exit ${code}` });
    });
    child.stdout?.on("data", () => {});
    child.stdout?.on("error", () => {});
    child.stderr?.on("data", (b: Buffer) => {
      stderr = (stderr + b.toString("utf8")).slice(-TAIL);
    });
    child.stderr?.on("error", () => {});
    if (child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE: the program does not read its input
      child.stdin.end(o.stdin);
    }
  });
}
