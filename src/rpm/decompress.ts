/**
 * Streaming decompression of a byte range of a file. gzip via node:zlib, zstd via zstd-napi's
 * native binding, bzip2 / xz / legacy lzma via the `bzip2` / `xz` tools (spawned with an
 * argument array, never a shell, stdin streamed from the file, killed on close or timeout).
 */
import { spawn } from "node:child_process";
import { closeSync, createReadStream, fstatSync, openSync, readSync, type ReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
import { RpmError } from "./errors.ts";
import { LzmaUnsupported, lzmaAloneDecoder, xzDecoder } from "../compress/xz.ts";

export type Compression = "none" | "gzip" | "bzip2" | "xz" | "lzma" | "zstd";

/** The compressor of a stream from its first bytes, or undefined when the magic is unknown. */
export function detectCompression(head: Uint8Array): Compression | undefined {
  const b = head;
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return "gzip";
  if (b.length >= 3 && b[0] === 0x42 && b[1] === 0x5a && b[2] === 0x68) return "bzip2";
  if (b.length >= 6 && b[0] === 0xfd && b[1] === 0x37 && b[2] === 0x7a && b[3] === 0x58 && b[4] === 0x5a && b[5] === 0) return "xz";
  if (b.length >= 4 && b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return "zstd";
  if (b.length >= 3 && b[0] === 0x5d && b[1] === 0 && b[2] === 0) return "lzma";
  if (b.length >= 5 && b[0] === 0x30 && b[1] === 0x37 && b[2] === 0x30 && b[3] === 0x37 && b[4] === 0x30) return "none";
  if (b.length >= 4 && b[0] === 0x8e && b[1] === 0xad && b[2] === 0xe8 && b[3] === 0x01) return "none"; // header list
  return undefined;
}

/** The compressor named by PAYLOADCOMPRESSOR (second choice, after the magic). */
export function compressionFromTag(tag: string): Compression | undefined {
  switch (tag) {
    case "":
      return undefined;
    case "gzip":
      return "gzip";
    case "bzip2":
      return "bzip2";
    case "xz":
      return "xz";
    case "lzma":
      return "lzma";
    case "zstd":
      return "zstd";
    default:
      return undefined;
  }
}

export interface DecompressOptions {
  /** Kill a decompressor child that runs longer than this (default 120 s). */
  timeoutMs?: number;
}

/** A running decompression: iterate `chunks`; call `close()` to stop early (always safe). */
export interface Decompressed {
  chunks: AsyncIterator<Uint8Array>;
  close(): void;
}

const CHUNK = 64 * 1024;

/**
 * xz / lzma data up to this size is decoded in this process (src/compress/xz.ts): spawning `xz`
 * costs ≈ 5 ms of CPU in this process. The limit was set when our decoder ran at about a third
 * of xz's rate (it decoded ≈ 30 KiB of input in those 5 ms); the shared decoder now needs about
 * 1.3–1.8× xz's CPU (bench figures in the README), so a higher limit may pay. Bigger data goes
 * to the `xz` tool.
 */
const IN_PROCESS_LIMIT = 32 * 1024;

/** The byte range [start, end of file) when it is small enough, else undefined. */
function readSmall(path: string, start: number): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return undefined; // the stream path reports the error
  }
  try {
    const size = fstatSync(fd).size - start;
    if (size < 0 || size > IN_PROCESS_LIMIT) return undefined;
    const buf = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, start + got);
      if (n === 0) return undefined;
      got += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

function inProcess(path: string, start: number, kind: "xz" | "lzma"): Decompressed | undefined {
  const buf = readSmall(path, start);
  if (!buf) return undefined;
  let gen: Generator<Uint8Array>;
  try {
    gen = kind === "xz" ? xzDecoder(buf) : lzmaAloneDecoder(buf);
  } catch (e) {
    if (e instanceof LzmaUnsupported) return undefined;
    throw compressionError(path, kind, e);
  }
  let closed = false;
  const chunks: AsyncIterator<Uint8Array> = {
    async next() {
      if (closed) return { done: true, value: undefined };
      try {
        const r = gen.next();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value };
      } catch (e) {
        throw compressionError(path, kind, e);
      }
    },
  };
  return { chunks, close: () => void (closed = true) };
}

export function openDecompressed(path: string, start: number, kind: Compression, opts: DecompressOptions = {}): Decompressed {
  if (kind === "xz" || kind === "lzma") {
    const d = inProcess(path, start, kind);
    if (d) return d;
  }
  const raw = createReadStream(path, { start, highWaterMark: CHUNK });
  raw.on("error", () => {}); // surfaced through the iterator
  switch (kind) {
    case "none":
      return wrapStream(raw, [raw], path, "payload");
    case "gzip": {
      const gz = createGunzip();
      raw.on("error", (e) => gz.destroy(e));
      raw.pipe(gz);
      return wrapStream(gz, [raw, gz], path, "gzip");
    }
    case "zstd":
      return zstdStream(raw, path);
    case "bzip2":
      return childStream(raw, "bzip2", ["-dc"], path, opts);
    case "xz":
      return childStream(raw, "xz", ["-dc"], path, opts);
    case "lzma":
      return childStream(raw, "xz", ["--format=lzma", "-dc"], path, opts);
  }
}

type Destroyable = { destroy(error?: Error): unknown };

function compressionError(path: string, what: string, e: unknown): RpmError {
  if (e instanceof RpmError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new RpmError("compression", `${what} data cannot be decompressed: ${msg}`, path);
}

function wrapStream(out: AsyncIterable<unknown>, parts: Destroyable[], path: string, what: string): Decompressed {
  const it = out[Symbol.asyncIterator]();
  const chunks: AsyncIterator<Uint8Array> = {
    async next() {
      try {
        const r = await it.next();
        return r.done ? { done: true, value: undefined } : { done: false, value: r.value as Uint8Array };
      } catch (e) {
        throw compressionError(path, what, e);
      }
    },
  };
  return { chunks, close: () => parts.forEach((p) => p.destroy()) };
}

interface ZstdBinding {
  DCtx: new () => { decompressStream(dst: Uint8Array, src: Uint8Array): [number, number, number] };
  dStreamOutSize(): number;
}

// A static require of the .node file: `bun build --compile` embeds it (an `import` of a .node
// file is refused by bun at run time, and zstd-napi's own loader computes the path dynamically).
const zstd = require("zstd-napi/build/Release/binding.node") as ZstdBinding;

function zstdStream(raw: ReadStream, path: string): Decompressed {
  const dctx = new zstd.DCtx();
  const outSize = zstd.dStreamOutSize();
  async function* run(): AsyncGenerator<Uint8Array> {
    let pending = 0; // > 0 while a frame is incomplete
    for await (const chunk of raw as AsyncIterable<Uint8Array>) {
      let input: Uint8Array = chunk;
      while (true) {
        const out = new Uint8Array(outSize);
        const [ret, produced, consumed] = dctx.decompressStream(out, input);
        // a call with nothing to consume and nothing produced after a finished frame answers the
        // next frame's header size, not "inside a frame": keep the last real answer
        if (produced > 0 || consumed > 0) pending = ret;
        input = input.subarray(consumed);
        if (produced > 0) yield out.subarray(0, produced);
        if (input.length === 0 && produced < outSize) break;
      }
    }
    if (pending !== 0) throw new RpmError("truncated", "zstd data ends inside a frame", path);
  }
  return wrapStream(run(), [raw], path, "zstd");
}

function childStream(raw: ReadStream, cmd: string, args: string[], path: string, opts: DecompressOptions): Decompressed {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
  let closed = false;
  let timedOut = false;
  let stderr = "";
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    child.on("error", (e) => {
      spawnError = e;
      resolve(null);
    });
    child.on("close", (code) => resolve(code));
  });
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 2000) stderr += d.toString("utf8");
  });
  child.stdin.on("error", () => {}); // EPIPE once the child has what it needs or is killed
  raw.on("error", (e) => {
    spawnError = e;
    child.kill("SIGKILL");
  });
  raw.pipe(child.stdin);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const stop = () => {
    clearTimeout(timer);
    raw.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  };
  async function* run(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of child.stdout as AsyncIterable<Uint8Array>) yield chunk;
      const code = await exited;
      if (closed) return;
      if (timedOut) throw new RpmError("timeout", `${cmd} did not finish within ${timeoutMs} ms`, path);
      if (spawnError) throw new RpmError("compression", `cannot run ${cmd}: ${spawnError.message}`, path);
      if (code !== 0) {
        const why = stderr.trim().split("\n")[0] || `exit status ${code}`;
        throw new RpmError("compression", `${cmd} failed: ${why}`, path);
      }
    } finally {
      stop();
    }
  }
  return {
    ...wrapStream(run(), [], path, cmd),
    close: () => {
      closed = true;
      stop();
    },
  };
}
