/**
 * A full disk for tests: a tmpfs of a few KiB mounted on a scratch directory, holding an output
 * directory marked as a previous export. `run` gets that directory; afterwards the filesystem
 * must unmount at once (no handle of the failed write left open), and it is detached in any case.
 */
import { expect } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "../fixtures/_util";

/** false (with a warning) when this host cannot mount a tmpfs (not root, no mount namespace). */
export async function withFullDisk(sizeKiB: number, run: (out: string) => Promise<void>): Promise<boolean> {
  const mnt = scratchDir("tinyfs");
  const m = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", mnt], { stderr: "pipe", timeout: 10_000 });
  if (m.exitCode !== 0) {
    console.warn(`skipped: cannot mount a small tmpfs (${m.stderr.toString().trim()})`);
    return false;
  }
  try {
    const out = join(mnt, "repo");
    mkdirSync(out);
    writeFileSync(join(out, ".altrepodb-export"), "{}\n");
    writeFileSync(join(out, "previous.txt"), "old export");
    await run(out);
    expect(readdirSync(mnt)).toEqual(["repo"]);
    expect(readdirSync(out).sort()).toEqual([".altrepodb-export", "previous.txt"]);
    // no file of the failed export is still open: the filesystem unmounts at once
    const u = Bun.spawnSync(["umount", mnt], { stderr: "pipe", timeout: 10_000 });
    expect(u.stderr.toString()).toBe("");
    expect(u.exitCode).toBe(0);
    return true;
  } finally {
    if (Bun.spawnSync(["mountpoint", "-q", mnt]).exitCode === 0 && Bun.spawnSync(["umount", mnt], { timeout: 10_000 }).exitCode !== 0) Bun.spawnSync(["umount", "-l", mnt], { timeout: 10_000 });
  }
}
