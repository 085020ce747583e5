/**
 * Compressing a finished metadata file: gzip in process (node:zlib; no name, no time in the
 * header, so the bytes depend on the input only), xz and zstd by spawning the tools (argument
 * arrays, a timeout). The sha256 and size of the output are taken while it is written.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants, createGzip } from "node:zlib";

/** The compressions of the rpm-md XML files, as `--compress` and a trigger's `export.compress` name them. */
export const COMPRESSIONS = ["gz", "zstd", "xz"] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export const SUFFIX: Record<Compression, string> = { gz: ".gz", zstd: ".zst", xz: ".xz" };

export interface Digested {
  sha256: string;
  size: number;
}

function digester(): { stream: Transform; result: () => Digested } {
  const h = createHash("sha256");
  let size = 0;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      size += chunk.length;
      cb(null, chunk);
    },
  });
  return { stream, result: () => ({ sha256: h.digest("hex"), size }) };
}

const TOOL: Record<Exclude<Compression, "gz">, string[]> = {
  xz: ["xz", "-c", "-6", "-T1"],
  zstd: ["zstd", "-q", "-c", "-10", "--no-progress"],
};

/** Compresses `src` into `dst`; resolves with the digest of what was written. */
export async function compressFile(src: string, dst: string, how: Compression, timeoutMs = 600_000): Promise<Digested> {
  const d = digester();
  if (how === "gz") {
    await pipeline(createReadStream(src), createGzip({ level: constants.Z_DEFAULT_COMPRESSION }), d.stream, createWriteStream(dst));
    return d.result();
  }
  const [cmd, ...args] = TOOL[how];
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()).slice(-2000));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", (e) => reject(new Error(`cannot run ${cmd}: ${e.message}`)));
    child.on("close", (code, signal) => resolve(signal ? -1 : (code ?? -1)));
  });
  try {
    await Promise.all([pipeline(createReadStream(src), child.stdin), pipeline(child.stdout, d.stream, createWriteStream(dst))]);
    const code = await exited;
    if (code !== 0) throw new Error(`${cmd} failed (exit ${code}): ${stderr.trim()}`);
  } finally {
    clearTimeout(timer);
  }
  return d.result();
}
