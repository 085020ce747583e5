/**
 * The output directory of an export: written into a temporary directory beside it and renamed
 * into place at the end, so a failed export leaves the previous one (or nothing) in place. A
 * directory that exists must be empty or hold our marker file.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "../errors";

export const MARKER = ".altrepodb-export";
export const CACHE_DIR = ".altrepodb-cache";

/** Checks `out` and returns the temporary directory to write into. */
export function prepareOut(outArg: string): { out: string; tmp: string; previous: string | undefined } {
  const out = resolve(outArg);
  if (existsSync(out)) {
    const st = lstatSync(out);
    if (!st.isDirectory()) throw new InputError("exists and is not a directory; refusing to replace it", out);
    const entries = readdirSync(out);
    if (entries.length > 0 && !entries.includes(MARKER)) {
      throw new InputError(`exists and was not written by altrepodb export (no ${MARKER} marker); refusing to replace it`, out);
    }
  }
  const parent = dirname(out);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new InputError(`cannot create the parent directory: ${(e as Error).message}`, parent);
  }
  const tmp = join(parent, `.${basename(out)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    mkdirSync(tmp);
  } catch (e) {
    throw new InputError(`cannot write beside the output directory: ${(e as Error).message}`, parent);
  }
  return { out, tmp, previous: existsSync(out) ? out : undefined };
}

/** Writes the marker, then swaps the finished temporary directory into place. */
export function commitOut(out: string, tmp: string, marker: object): void {
  writeFileSync(join(tmp, MARKER), `${JSON.stringify(marker, null, 1)}\n`);
  if (!existsSync(out)) {
    renameSync(tmp, out);
    return;
  }
  const old = `${tmp}.old`;
  renameSync(out, old);
  try {
    renameSync(tmp, out);
  } catch (e) {
    renameSync(old, out);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}

export function discardTmp(tmp: string): void {
  rmSync(tmp, { recursive: true, force: true });
}
