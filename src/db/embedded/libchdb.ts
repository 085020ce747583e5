/** libchdb, the ClickHouse engine as a shared library, reached through bun:ffi. */
import { CString, dlopen, FFIType, ptr, read, toArrayBuffer, type Pointer } from "bun:ffi";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { DbError, firstLine, hintFor } from "../errors";

const symbols = {
  chdb_connect: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.ptr },
  chdb_close_conn: { args: [FFIType.ptr], returns: FFIType.void },
  chdb_query_n: { args: [FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr, FFIType.u64], returns: FFIType.ptr },
  chdb_result_buffer: { args: [FFIType.ptr], returns: FFIType.ptr },
  chdb_result_length: { args: [FFIType.ptr], returns: FFIType.u64 },
  chdb_result_error: { args: [FFIType.ptr], returns: FFIType.ptr },
  chdb_destroy_query_result: { args: [FFIType.ptr], returns: FFIType.void },
} as const;

type Lib = ReturnType<typeof dlopen<typeof symbols>>;

const PACKAGE_PATH = join("node_modules", "@chdb", "lib-linux-x64-gnu", "libchdb.so");

/** Where we look for libchdb.so, in order. */
export function libchdbCandidates(configured?: string): string[] {
  const out: string[] = [];
  if (configured) out.push(configured);
  if (process.env.ALTREPODB_LIBCHDB) out.push(process.env.ALTREPODB_LIBCHDB);
  const exeDir = dirname(process.execPath);
  out.push(join(exeDir, "libchdb.so"), join(exeDir, "..", PACKAGE_PATH), join(exeDir, "..", "lib", "altrepodb", "libchdb.so"));
  out.push(join(process.cwd(), PACKAGE_PATH));
  // the source tree this module lives in (tests, `bun src/cli/main.ts`)
  if (!import.meta.dir.startsWith("/$bunfs")) out.push(join(import.meta.dir, "..", "..", "..", PACKAGE_PATH));
  out.push("/usr/lib/altrepodb/libchdb.so", "/usr/local/lib/libchdb.so");
  return [...new Set(out)];
}

let loaded: { lib: Lib; path: string } | undefined;

/**
 * The engine's allocator (jemalloc) keeps freed pages for seconds by default; returning them at
 * once keeps a load's peak memory about 40 MB lower at no measurable cost. jemalloc reads
 * JE_MALLOC_CONF from the C environment when the library loads (Bun's process.env does not
 * reach it, so setenv is called directly); a value set by the user wins.
 */
function allocatorDefaults(): void {
  if (process.env.JE_MALLOC_CONF !== undefined) return;
  try {
    const libc = dlopen("libc.so.6", { setenv: { args: [FFIType.cstring, FFIType.cstring, FFIType.i32], returns: FFIType.i32 } });
    libc.symbols.setenv(Buffer.from("JE_MALLOC_CONF\0"), Buffer.from("dirty_decay_ms:0,muzzy_decay_ms:0\0"), 0);
  } catch {
    // not glibc: keep the engine's defaults
  }
}

export function loadLibchdb(configured?: string): { lib: Lib; path: string } {
  if (loaded) return loaded;
  const candidates = libchdbCandidates(configured);
  const found = configured ? (existsSync(configured) ? configured : undefined) : candidates.find((p) => existsSync(p));
  if (!found) {
    throw new DbError(
      configured ? `libchdb not found at ${configured} (database.embedded.libchdb)` : "libchdb.so not found",
      `looked in: ${candidates.join(", ")}. Get it with \`npm install @chdb/lib-linux-x64-gnu\` and set ALTREPODB_LIBCHDB=/path/to/libchdb.so (or database.embedded.libchdb), or put libchdb.so next to the altrepodb binary`,
    );
  }
  allocatorDefaults();
  try {
    loaded = { lib: dlopen(found, symbols), path: found };
  } catch (e) {
    throw new DbError(`cannot load ${found}: ${(e as Error).message}`, "the file must be libchdb.so for linux-x64 (npm package @chdb/lib-linux-x64-gnu)");
  }
  return loaded;
}

/** One engine session: temp tables, USE and SET are per connection. */
export class ChdbConnection {
  private handle: Pointer | null;

  constructor(
    private readonly lib: Lib,
    dataDir: string,
  ) {
    const args = ["clickhouse", `--path=${dataDir}`].map((s) => Buffer.from(s + "\0"));
    const argv = new BigUint64Array(args.map((b) => BigInt(ptr(b))));
    this.handle = lib.symbols.chdb_connect(args.length, ptr(argv)) as Pointer | null;
    if (!this.handle || !read.ptr(this.handle, 0)) {
      this.handle = null;
      throw new DbError(
        `cannot open the embedded database at ${dataDir}`,
        "one process can use one data directory; check that the directory is writable and not used by another altrepodb",
      );
    }
  }

  /** Runs one statement; returns the raw output in `format`. Throws DbError with ClickHouse's message. */
  query(sql: string | Uint8Array, format = "TSV"): Buffer {
    if (!this.handle) throw new DbError("embedded database connection is closed");
    const s = typeof sql === "string" ? Buffer.from(sql) : sql;
    const f = Buffer.from(format);
    const conn = read.ptr(this.handle, 0) as unknown as Pointer;
    const res = this.lib.symbols.chdb_query_n(conn, ptr(s), s.length, ptr(f), f.length);
    if (!res) throw new DbError("embedded engine returned no result");
    try {
      const err = this.lib.symbols.chdb_result_error(res);
      if (err) {
        const msg = new CString(err).toString();
        throw new DbError(firstLine(msg), hintFor(codeOf(msg)), codeOf(msg));
      }
      const len = Number(this.lib.symbols.chdb_result_length(res));
      const buf = this.lib.symbols.chdb_result_buffer(res);
      // copy: the result memory is freed by chdb_destroy_query_result below
      return len > 0 && buf ? Buffer.from(new Uint8Array(toArrayBuffer(buf, 0, len))) : Buffer.alloc(0);
    } finally {
      this.lib.symbols.chdb_destroy_query_result(res);
    }
  }

  close(): void {
    if (!this.handle) return;
    this.lib.symbols.chdb_close_conn(this.handle);
    this.handle = null;
  }
}

function codeOf(msg: string): number | undefined {
  const m = /Code: (\d+)\./.exec(msg);
  return m ? Number(m[1]) : undefined;
}
