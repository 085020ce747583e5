/**
 * SIGTERM always stops `repo load`, even when the load is stuck where it cannot notice (a parser
 * thread blocked in a read that never returns, as on a hung NFS mount or a FIFO): exit 130, and
 * running the command again completes the load.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { CLI, cli, newConfig } from "../helpers/cli";
import type { SnapshotResult } from "../fixtures/snapshot";
import { edgeSnapshot } from "./_snapshot";

let snap: SnapshotResult;
beforeAll(async () => {
  snap = await edgeSnapshot();
}, 600_000);

describe("signals", () => {
  test("a load blocked in a parser thread dies on SIGTERM with exit 130; a rerun completes it", async () => {
    const cfg = newConfig("sigterm", true);
    // ALTREPODB_HANG_AT blocks the parser thread in its first load request, for good
    const proc = Bun.spawn([...CLI, "-c", cfg, "repo", "load", "p10", snap.root, "--date", "2026-11-20"], {
      env: { ...process.env, ALTREPODB_HANG_AT: "worker-load" },
      stdout: "pipe",
      stderr: "pipe",
    });
    let stderr = "";
    const reader = proc.stderr.getReader();
    const decoder = new TextDecoder();
    while (!stderr.includes("blocked at worker-load")) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value);
    }
    expect(stderr).toContain("blocked at worker-load");
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
    const code = await proc.exited;
    clearTimeout(killer);
    expect(proc.signalCode).toBeNull();
    expect(code).toBe(130);
    const rerun = cli(cfg, ["repo", "load", "p10", snap.root, "--date", "2026-11-20"]);
    expect(rerun.code).toBe(0);
  }, 180_000);
});
