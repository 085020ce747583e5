/**
 * What the benches share: the repository root, a fresh work directory under .tmp/, the
 * altrepodb command to run (--bin, else dist/altrepodb, else the sources through bun), and one
 * process measured by GNU time (wall time, user + system CPU, peak RSS).
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");

/** `.tmp/<name>` under the repository, emptied. */
export function freshWorkDir(name: string): string {
  const work = join(ROOT, ".tmp", name);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  return work;
}

/** The argv prefix that runs altrepodb: `bin` if given, else dist/altrepodb when built, else src/cli/main.ts. */
export function altrepodbCommand(bin?: string): string[] {
  if (bin) return [resolve(bin)];
  const dist = join(ROOT, "dist", "altrepodb");
  return existsSync(dist) ? [dist] : [process.execPath, join(ROOT, "src", "cli", "main.ts")];
}

export interface TimedProcess {
  seconds: number;
  /** user + system CPU seconds of the process (libchdb's threads included) */
  cpu: number;
  maxRssMb: number;
  code: number | null;
  /** "" when stdout was ignored */
  stdout: string;
  stderr: string;
}

/** Wall time, CPU time and peak RSS of a whole process (GNU time); stdout piped or ignored. */
export function timeProcess(argv: string[], stdout: "pipe" | "ignore" = "pipe"): TimedProcess {
  const t0 = performance.now();
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "@@rss %M %U %S", ...argv], { stdout, stderr: "pipe", env: process.env });
  const seconds = (performance.now() - t0) / 1000;
  const stderr = r.stderr.toString();
  const m = /@@rss (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
  return { seconds, cpu: m ? Number(m[2]) + Number(m[3]) : NaN, maxRssMb: m ? Number(m[1]) / 1024 : NaN, code: r.exitCode, stdout: stdout === "pipe" ? (r.stdout?.toString() ?? "") : "", stderr };
}
