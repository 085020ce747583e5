/**
 * Byte streams of an image: a range of a ByteSource read in order, and decompression of such a
 * stream (gzip in-process with node:zlib; xz, zstd and bzip2 by spawning the tool with an argument
 * array, fed from our reads, killed when the reader stops or the tool stays silent too long). A
 * failing tool is an ImageError naming the tool, the image and the tool's stderr.
 */
import { spawn } from "node:child_process";
import { Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { ImageError } from "./errors.ts";
import type { ByteSource } from "./tree.ts";
import { which } from "./cleanup.ts";

export type Compression = "none" | "gzip" | "xz" | "zstd" | "bzip2";

export function compressionOf(head: Uint8Array): Compression {
  const b = head;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0) return "xz";
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "zstd";
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return "bzip2";
  return "none";
}

const CHUNK = 1024 * 1024;

/** The bytes [start, end) of a source, in order, CHUNK at a time. */
export async function* sourceChunks(src: ByteSource, start = 0, end = src.size): AsyncGenerator<Uint8Array> {
  for (let pos = start; pos < end; ) {
    const buf = new Uint8Array(Math.min(CHUNK, end - pos));
    const n = src.readAt(buf, pos);
    if (n === 0) throw new ImageError("truncated", `the data ends at byte ${pos}, before byte ${end}`, src.path);
    yield n === buf.length ? buf : buf.subarray(0, n);
    pos += n;
  }
}

const TOOL: Record<Exclude<Compression, "none" | "gzip">, string> = { xz: "xz", zstd: "zstd", bzip2: "bzip2" };

export interface DecompressOptions {
  /** Kill the tool when it produces nothing for this long (default 120 s). */
  idleMs?: number;
}

/** Decompress a stream; `name` is the image for messages. */
export async function* decompress(input: AsyncIterable<Uint8Array>, kind: Compression, name: string, opts: DecompressOptions = {}): AsyncGenerator<Uint8Array> {
  if (kind === "none") {
    yield* input;
    return;
  }
  if (kind === "gzip") {
    const gz = createGunzip();
    const src = Readable.from(input);
    src.on("error", (e) => gz.destroy(e));
    src.pipe(gz);
    try {
      for await (const c of gz) yield c as Uint8Array;
    } catch (e) {
      if (e instanceof ImageError) throw e;
      throw new ImageError("format", `gzip: ${(e as Error).message}`, name);
    } finally {
      src.destroy();
      gz.destroy();
    }
    return;
  }
  const tool = TOOL[kind];
  if (!which(tool)) throw new ImageError("tool", `${tool} is not installed (not found on PATH), needed to decompress`, name);
  const child = spawn(tool, ["-dc"], { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += String(d)));
  child.stdin.on("error", () => {}); // EPIPE when the tool stops early: reported through its exit
  let feedError: unknown;
  const feed = (async () => {
    try {
      for await (const c of input) {
        if (!child.stdin.write(c)) await new Promise<void>((r) => {
          child.stdin.once("drain", () => r());
          child.stdin.once("close", () => r());
        });
        if (child.exitCode !== null || child.killed) break;
      }
    } catch (e) {
      feedError = e;
      child.kill("SIGKILL");
    } finally {
      child.stdin.end();
    }
  })();
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const idleMs = opts.idleMs ?? 120_000;
  let idle = false;
  let timer = setTimeout(() => ((idle = true), child.kill("SIGKILL")), idleMs);
  let finished = false;
  try {
    for await (const c of child.stdout) {
      clearTimeout(timer);
      timer = setTimeout(() => ((idle = true), child.kill("SIGKILL")), idleMs);
      yield c as Uint8Array;
    }
    finished = true;
  } finally {
    clearTimeout(timer);
    if (!finished) child.kill("SIGKILL");
    await feed;
  }
  const code = await exited;
  if (feedError) throw feedError;
  const said = stderr.trim() ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : "";
  if (idle) throw new ImageError("tool", `${tool} -dc produced nothing for ${idleMs / 1000} s (killed)${said}`, name);
  if (code !== 0) throw new ImageError(/unexpected end|truncated|premature/i.test(stderr) ? "truncated" : "tool", `${tool} -dc failed with exit code ${code}${said}`, name);
}

/** The first `n` bytes of a decompressed stream (the tool is stopped after them). */
export async function decompressedHead(src: ByteSource, kind: Compression, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  const it = decompress(sourceChunks(src), kind, src.path);
  try {
    for await (const c of it) {
      const take = Math.min(c.length, n - got);
      out.set(c.subarray(0, take), got);
      got += take;
      if (got >= n) break;
    }
  } catch (e) {
    if (got === 0) throw e;
  } finally {
    await it.return(undefined);
  }
  return out.subarray(0, got);
}
