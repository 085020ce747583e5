/**
 * The image's checksums in ONE read of the file: MD5 and SHA-256 in-process (node:crypto), GOST
 * R 34.11-2012 256-bit by `gost12sum` (Debian's gostsum) fed the same chunks on its stdin, as the
 * reference did. Its C Streebog runs at ≈165 MB/s here, on the other core; Streebog in
 * TypeScript would be several times slower and become the floor of every image load.
 * Lowercase hex, as the reference stores them.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { ImageError } from "./errors.ts";
import { which } from "./cleanup.ts";

export interface Checksums {
  md5: string;
  sha256: string;
  gost12: string;
  size: number;
}

const CHUNK = 4 * 1024 * 1024;

/** Whether gost12sum is installed (tests skip saying why when not). */
export function hasGost12sum(): boolean {
  return which("gost12sum") !== null;
}

export async function imageChecksums(path: string, opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Checksums> {
  const tool = which("gost12sum");
  if (!tool) throw new ImageError("tool", "gost12sum is not installed (not found on PATH; Debian package gostsum)", path);
  const md5 = createHash("md5");
  const sha256 = createHash("sha256");
  const child = spawn(tool, [], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += String(d)));
  child.stderr.on("data", (d) => (err += String(d)));
  child.stdin.on("error", () => {});
  const exited = new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  const spawnError = new Promise<Error>((r) => child.on("error", r));
  const timeoutMs = opts.timeoutMs ?? 0;
  let timedOut = false;
  const timer = timeoutMs ? setTimeout(() => ((timedOut = true), child.kill("SIGKILL")), timeoutMs) : undefined;
  const fh = await open(path, "r");
  let size = 0;
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new ImageError("io", "checksums stopped (the load was asked to stop)", path);
      // a fresh buffer per chunk: the child's pipe may still hold the previous one
      const b = Buffer.allocUnsafe(CHUNK);
      const { bytesRead } = await fh.read(b, 0, CHUNK, null);
      if (bytesRead === 0) break;
      const view = b.subarray(0, bytesRead);
      size += bytesRead;
      md5.update(view);
      sha256.update(view);
      if (!child.stdin.write(view)) {
        await Promise.race([new Promise<void>((r) => child.stdin.once("drain", () => r())), exited, spawnError]);
      }
      if (child.exitCode !== null || timedOut) break;
    }
  } catch (e) {
    child.kill("SIGKILL");
    throw e;
  } finally {
    await fh.close();
    child.stdin.end();
  }
  const code = await Promise.race([exited, spawnError.then((e) => e)]);
  clearTimeout(timer);
  if (code instanceof Error) throw new ImageError("tool", `gost12sum could not be started: ${code.message}`, path);
  const said = err.trim() ? `: ${err.trim()}` : "";
  if (timedOut) throw new ImageError("tool", `gost12sum took more than ${timeoutMs / 1000} s (killed)${said}`, path);
  if (code !== 0) throw new ImageError("tool", `gost12sum failed with exit code ${code}${said}`, path);
  const gost12 = out.trim().split(/\s+/)[0] ?? "";
  if (!/^[0-9a-f]{64}$/.test(gost12)) throw new ImageError("tool", `gost12sum printed ${JSON.stringify(out.trim().slice(0, 80))}, not a 256-bit digest`, path);
  return { md5: md5.digest("hex"), sha256: sha256.digest("hex"), gost12, size };
}
