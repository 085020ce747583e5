/**
 * Raw disk images shipped compressed (`.img.xz`, `.img.gz`, `.img.zst`, also bzip2 and legacy
 * lzma): the disk as a random-access ByteSource.
 *
 * The compressed file is decompressed once into a sparse temp file under the system temp dir. xz:
 * a spawned `xz -dc` (argument array, timeout, its stderr in the error) reads the file on its
 * stdin and writes the temp file as its stdout, leaving zero runs as holes itself (no byte passes
 * through this process: a pipe into Bun costs twice xz's own CPU). gzip, zstd (built-in
 * decompressors), bzip2 and lzma (spawned) stream through src/rpm/decompress.ts; all-zero 64 KiB
 * blocks are not written, so a mostly empty disk stays small. The temp file is unlinked as soon
 * as it is created, before any data is written, so it is held only by our file descriptor:
 * nothing is left behind on close, on an error, on SIGTERM or SIGINT (xz is killed then), or even
 * if the process is killed. Memory stays at one 1 MiB buffer whatever the image size.
 *
 * Not done: random access per xz block without a temp file (possible when the xz index lists
 * several blocks, as `xz -T0` writes them; a single-block file, the common case, must be read
 * from its start anyway). A file that is not compressed is opened in place.
 */
import { spawn } from "node:child_process";
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RpmError } from "../rpm/errors.ts";
import { detectCompression, openDecompressed, type Compression } from "../rpm/decompress.ts";
import { FileSource, readMagic } from "../rpmdb/source.ts";
import { ImageError, type ImageErrorCode } from "./errors.ts";
import type { ByteSource } from "./tree.ts";

export interface CompressedDisk {
  /** The uncompressed disk. */
  source: ByteSource;
  /** What the file was compressed with ("none" when it was opened in place). */
  compression: Compression;
  /** Bytes the temp file really occupies on disk (0 when opened in place). */
  allocated(): number;
  close(): void;
}

export interface XzFileOptions {
  /** Kill a decompressor that runs longer than this (default one hour). */
  timeoutMs?: number;
  /** Where the temp file goes (default the system temp dir, $TMPDIR). */
  tmpDir?: string;
}

const BUF = 1 << 20;
const BLOCK = 64 * 1024;

/** Positioned reads from a file descriptor we own, named after the compressed file. */
class FdSource implements ByteSource {
  constructor(
    private fd: number,
    readonly size: number,
    readonly path: string,
  ) {}

  readAt(dst: Uint8Array, pos: number): number {
    if (this.fd < 0) throw new ImageError("closed", "the decompressed disk is closed", this.path);
    if (pos >= this.size) return 0;
    const want = Math.min(dst.length, this.size - pos);
    let done = 0;
    while (done < want) {
      const n = readSync(this.fd, dst, done, want - done, pos + done);
      if (n === 0) break;
      done += n;
    }
    if (done < want) dst.fill(0, done, want); // a hole at the very end of a sparse file
    return want;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

const ZERO = Buffer.alloc(BLOCK);

/** Whether a block (≤ 64 KiB) is all zeros: a native memcmp against a zero block. */
function allZero(b: Uint8Array): boolean {
  return Buffer.compare(b, ZERO.subarray(0, b.length)) === 0;
}

/** Open a (possibly) compressed raw disk image. */
export async function openXzFile(path: string, opts: XzFileOptions = {}): Promise<CompressedDisk> {
  let head: Uint8Array;
  try {
    head = readMagic(path, 16);
  } catch (e) {
    throw new ImageError("io", (e as Error).message.replace(`${path}: `, ""), path);
  }
  const kind = detectCompression(head);
  if (kind === undefined || kind === "none") {
    const src = new FileSource(path);
    return { source: src, compression: "none", allocated: () => 0, close: () => src.close() };
  }
  // Create and unlink at once (synchronously: no signal handler can run in between).
  const dir = mkdtempSync(join(opts.tmpDir ?? tmpdir(), "altrepodb-disk-"));
  const file = join(dir, "disk.raw");
  const fd = openSync(file, "w+", 0o600);
  unlinkSync(file);
  rmdirSync(dir);
  if (kind === "xz") return xzInto(path, fd, opts.timeoutMs ?? 3_600_000);
  const dec = openDecompressed(path, 0, kind, { timeoutMs: opts.timeoutMs ?? 3_600_000 });
  const buf = new Uint8Array(BUF);
  let fill = 0;
  let total = 0;
  const flush = () => {
    for (let off = 0; off < fill; off += BLOCK) {
      const piece = buf.subarray(off, Math.min(fill, off + BLOCK));
      if (!allZero(piece)) writeSync(fd, piece, 0, piece.length, total + off);
    }
    total += fill;
    fill = 0;
  };
  try {
    while (true) {
      const r = await dec.chunks.next();
      if (r.done) break;
      let chunk = r.value;
      while (chunk.length > 0) {
        const n = Math.min(chunk.length, BUF - fill);
        buf.set(chunk.subarray(0, n), fill);
        fill += n;
        chunk = chunk.subarray(n);
        if (fill === BUF) flush();
      }
    }
    flush();
    ftruncateSync(fd, total);
  } catch (e) {
    dec.close();
    closeSync(fd);
    const msg = e instanceof RpmError ? e.message : (e as Error).message;
    throw new ImageError(e instanceof RpmError && e.code === "timeout" ? "timeout" : "decompress", `${kind} decompression failed after ${total + fill} bytes: ${msg}`, path);
  }
  dec.close();
  return diskOn(fd, total, path, kind);
}

function diskOn(fd: number, total: number, path: string, kind: Compression): CompressedDisk {
  const source = new FdSource(fd, total, path);
  let open = true;
  return {
    source,
    compression: kind,
    allocated: () => (open ? fstatSync(fd).blocks * 512 : 0),
    close: () => {
      open = false;
      source.close();
    },
  };
}

/**
 * xz writes the disk straight into the temp file (its stdout), the compressed file as its stdin:
 * no byte passes through this process, and xz itself leaves all-zero runs as holes when its
 * output is a regular file.
 */
async function xzInto(path: string, fd: number, timeoutMs: number): Promise<CompressedDisk> {
  let input: number;
  try {
    input = openSync(path, "r");
  } catch (e) {
    closeSync(fd);
    throw new ImageError("io", `cannot open: ${(e as Error).message}`, path);
  }
  let stderr = "";
  let timedOut = false;
  const result = await new Promise<{ code: number | null; error?: Error }>((done) => {
    const child = spawn("xz", ["-dc"], { stdio: [input, fd, "pipe"] });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    // xz writes a file, not a pipe: it would outlive us. On SIGTERM/SIGINT kill it, then let the
    // signal do what it would have done (terminate, unless someone else handles it).
    const onSignal = (sig: NodeJS.Signals) => {
      child.kill("SIGKILL");
      unhook();
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    const unhook = () => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    child.on("close", unhook);
    child.on("error", unhook);
    child.stderr!.on("data", (d: Buffer) => {
      if (stderr.length < 2000) stderr += d.toString("utf8");
    });
    child.on("error", (error) => {
      clearTimeout(timer);
      done({ code: null, error });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code });
    });
  });
  closeSync(input);
  const fail = (code: ImageErrorCode, msg: string): never => {
    closeSync(fd);
    throw new ImageError(code, msg, path);
  };
  if (result.error) fail("tool", `cannot run xz: ${result.error.message}`);
  if (timedOut) fail("timeout", `xz did not finish within ${timeoutMs} ms`);
  if (result.code !== 0) fail("decompress", `xz decompression failed after ${fstatSync(fd).size} bytes: xz failed: ${stderr.trim().split("\n")[0] || `exit status ${result.code}`}`);
  return diskOn(fd, fstatSync(fd).size, path, "xz");
}
