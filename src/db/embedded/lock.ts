/** One process per data directory: an flock the kernel drops when the process dies, even by kill -9. */
import { dlopen, FFIType } from "bun:ffi";
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DbError } from "../errors";

const LOCK_EX = 2;
const LOCK_NB = 4;

let libc: { symbols: { flock: (fd: number, op: number) => number } } | undefined;
function flock(fd: number, op: number): number {
  libc ??= dlopen("libc.so.6", { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } });
  return libc.symbols.flock(fd, op);
}

export interface DirLock {
  release(): void;
}

export function lockDataDir(dir: string): DirLock {
  const path = join(dir, "altrepodb.lock");
  const fd = openSync(path, "a+");
  if (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
    let holder = "";
    try {
      holder = readFileSync(path, "utf8").trim();
    } catch {}
    closeSync(fd);
    throw new DbError(
      `data directory ${dir} is locked by pid ${holder || "unknown"}`,
      "another altrepodb process (a load or the daemon) is using this embedded database; wait for it, stop it, or point database.embedded.path elsewhere",
    );
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  return {
    release() {
      try {
        ftruncateSync(fd, 0);
        closeSync(fd);
      } catch {}
    },
  };
}
