/**
 * Read access to one girar task directory (reference TaskFromFileSystem): a missing file reads
 * as empty, a directory as its entries. Unlike the reference, entries are sorted by name (the
 * reference used directory order, so package order and the srpm choice depended on the file
 * system), and a file that exists but cannot be read is recorded as a problem naming the file,
 * instead of silently reading as empty.
 *
 * Every path is confined to the task directory: a path with a `..` component or an absolute one
 * (from plan files), or one that resolves through a symlink to somewhere outside the directory
 * (a log linked to /etc/passwd, a gears/ or rpms/ entry linked out of the tree), is refused: it is
 * recorded as a problem naming it, and reads as missing — never read. (Links inside the tree are
 * followed; build/repo/prev is only resolved for its name.)
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync, lstatSync, type Stats } from "node:fs";
import { basename, isAbsolute, join, sep } from "node:path";
import type { FailedItem } from "../context";
import { byteString, strip, type ByteString } from "./text";

export class TaskFs {
  /** Files or directories that exist but could not be read, or whose content was unusable. */
  readonly problems: FailedItem[] = [];

  constructor(readonly root: string) {}

  abs(rel: string): string {
    return rel === "" ? this.root : join(this.root, rel);
  }

  private realRoot?: string;
  /** Paths refused already (each is reported once). */
  private readonly refused = new Map<string, string>();

  /**
   * Why `rel` may not be read (it leaves the task directory), or undefined when it may. A path
   * that does not exist may be read: reading it finds nothing.
   */
  escape(rel: string): string | undefined {
    if (rel === "") return undefined;
    const known = this.refused.get(rel);
    if (known !== undefined) return known;
    let why: string | undefined;
    if (isAbsolute(rel) || rel.split("/").includes("..")) why = "path leaves the task directory; refused";
    else {
      try {
        this.realRoot ??= realpathSync(this.root);
        const real = realpathSync(this.abs(rel));
        if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) why = `symlink to ${real}, outside the task directory; refused`;
      } catch {
        why = undefined; // missing (or a dangling link): nothing to read
      }
    }
    if (why !== undefined) {
      this.refused.set(rel, why);
      this.problem(rel, why);
    }
    return why;
  }

  /** Whether `rel` may be read (see escape; a refused path is recorded as a problem once). */
  confined(rel: string): boolean {
    return this.escape(rel) === undefined;
  }

  /** Content that was loaded after a correction (a default, a fix of a reference crash). */
  readonly warnings: FailedItem[] = [];

  /** Records something of the task that could not be loaded (the report's `skipped`; the load is incomplete). */
  problem(rel: string, error: string): void {
    this.problems.push({ path: this.abs(rel), error });
  }

  /** Records a correction: the data was loaded, with a default or a repaired value. */
  warn(rel: string, warning: string): void {
    this.warnings.push({ path: this.abs(rel), error: warning });
  }

  private stat(rel: string): Stats | undefined {
    if (!this.confined(rel)) return undefined;
    try {
      return statSync(this.abs(rel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") this.problem(rel, `cannot stat: ${code ?? (e as Error).message}`);
      return undefined;
    }
  }

  exists(rel: string): boolean {
    return this.stat(rel) !== undefined;
  }

  isDir(rel: string): boolean {
    return this.stat(rel)?.isDirectory() ?? false;
  }

  isFile(rel: string): boolean {
    return this.stat(rel)?.isFile() ?? false;
  }

  /** A regular file with at least one byte (reference file_exists_and_not_empty). */
  nonEmptyFile(rel: string): boolean {
    const s = this.stat(rel);
    return !!s && s.isFile() && s.size > 0;
  }

  size(rel: string): number {
    return this.stat(rel)?.size ?? 0;
  }

  /** mtime in whole seconds (what a DateTime column keeps), or undefined when missing. */
  mtime(rel: string): number | undefined {
    const s = this.stat(rel);
    return s ? Math.floor(s.mtimeMs / 1000) : undefined;
  }

  /** mtime with sub-second precision, for comparisons the reference makes on float mtimes. */
  mtimeMs(rel: string): number | undefined {
    return this.stat(rel)?.mtimeMs;
  }

  /** File content, or undefined when missing (an unreadable file is recorded as a problem). */
  bytes(rel: string): Uint8Array | undefined {
    if (!this.confined(rel)) return undefined;
    try {
      return readFileSync(this.abs(rel));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      this.problem(rel, code === "EISDIR" ? "is a directory, expected a file" : `cannot read: ${code ?? (e as Error).message}`);
      return undefined;
    }
  }

  /** Content as a byte string ("" when missing). */
  raw(rel: string): ByteString {
    const b = this.bytes(rel);
    return b ? byteString(b) : "";
  }

  /** Content stripped of surrounding whitespace (reference get_text). */
  text(rel: string): ByteString {
    return strip(this.raw(rel));
  }

  /** Sorted entry names of a directory ([] when missing or not a directory). */
  list(rel: string): string[] {
    if (!this.confined(rel)) return [];
    try {
      return readdirSync(this.abs(rel)).sort();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") this.problem(rel, `cannot list directory: ${code ?? (e as Error).message}`);
      return [];
    }
  }

  /** Sorted names of sub-directories. */
  listDirs(rel: string): string[] {
    return this.list(rel).filter((n) => this.isDir(join(rel, n)));
  }

  /** Name of the fully resolved target of a symlink, or undefined when `rel` is not a symlink. */
  symlinkTargetName(rel: string): string | undefined {
    try {
      if (!lstatSync(this.abs(rel)).isSymbolicLink()) return undefined;
    } catch {
      return undefined;
    }
    try {
      return basename(realpathSync(this.abs(rel)));
    } catch {
      // dangling: resolve as far as possible (Python's non-strict resolve)
      return basename(readlinkSync(this.abs(rel)).replace(/\/+$/, ""));
    }
  }
}

/** Girar subtask and build directories: names matching glob [0-7]* (octal-looking numbers). */
export function isSubtaskName(name: string): boolean {
  return /^[0-7]/.test(name);
}
