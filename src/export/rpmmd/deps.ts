/**
 * createrepo_c 0.17's dependency rules (parsehdr.c), as observed on its output:
 * - `rpmlib(…)` requires are dropped;
 * - a require of one of the package's own files that is a "primary" path (under /etc/, a `bin/`
 *   directory, /usr/lib/sendmail) is dropped;
 * - a require equal (name, flags, EVR) to one of the package's own provides is dropped;
 * - a require equal (flags, EVR, pre) to the last kept require of the same name is dropped;
 * - `pre="1"` for requires with PREREQ, SCRIPT_PRE or SCRIPT_POST;
 * - a version whose epoch is not a number (ALT's `set:…` versions) drops the dependency
 *   (createrepo_c: "Bad epoch in version string … Skipping this dependency");
 * - EVR: epoch before `:` (default "0"), release after the last `-`;
 * - of the `libc.so.6…` requires only the newest symbol version is kept, written last
 *   (`libc.so.6(GLIBC_2.34)(64bit)` hides `libc.so.6()(64bit)` and every older GLIBC_*).
 */
import { rpmvercmp } from "../../rpm/vercmp";
import type { DepKind, RpmmdDep } from "./types";

const LIBC = "libc.so.6";

/** The symbol version of a libc.so.6 require, for comparison ("" for `libc.so.6()`). */
function libcVersion(name: string): string {
  const m = /^libc\.so\.6\(([^)]*)\)/.exec(name);
  return m ? m[1].replace(/^GLIBC_/, "") : "";
}

const RPMSENSE_PREREQ = 1 << 6;
const RPMSENSE_SCRIPT_PRE = 1 << 9;
const RPMSENSE_SCRIPT_POST = 1 << 10;

export interface Evr {
  epoch: string;
  ver: string;
  rel: string | null;
}

export interface OutDep {
  name: string;
  /** LT GT EQ LE GE, or null (no comparison: no EVR attributes). */
  flags: string | null;
  evr: Evr | null;
  pre: boolean;
}

/** Primary paths: what createrepo_c lists in primary.xml (cr_is_primary). */
export function isPrimaryPath(p: string): boolean {
  return p.startsWith("/etc/") || p === "/usr/lib/sendmail" || p.includes("bin/");
}

export function flagString(flags: number): string | null {
  switch (flags & 0xe) {
    case 2:
      return "LT";
    case 4:
      return "GT";
    case 8:
      return "EQ";
    case 10:
      return "LE";
    case 12:
      return "GE";
    default:
      return null;
  }
}

/** `[E:]V[-R]`; undefined when the epoch is not a number. */
export function parseEvr(s: string): Evr | undefined {
  let epoch = "0";
  let rest = s;
  const colon = s.indexOf(":");
  if (colon >= 0) {
    const e = s.slice(0, colon);
    if (e !== "" && !/^[0-9]+$/.test(e)) return undefined;
    if (e !== "") epoch = e;
    rest = s.slice(colon + 1);
  }
  const dash = rest.lastIndexOf("-");
  if (dash < 0) return { epoch, ver: rest, rel: null };
  return { epoch, ver: rest.slice(0, dash), rel: rest.slice(dash + 1) };
}

/** The dependencies of one kind as createrepo_c writes them. */
export function depsOf(all: readonly RpmmdDep[], kind: DepKind, files: ReadonlySet<string>): OutDep[] {
  const out: OutDep[] = [];
  const last = new Map<string, OutDep>();
  let libc: OutDep | undefined;
  const provided = kind === "require" ? new Set(depsOf(all, "provide", files).map(keyOf)) : undefined;
  for (const d of all) {
    if (d.kind !== kind) continue;
    let evr: Evr | null = null;
    if (d.version !== "") {
      const e = parseEvr(d.version);
      if (!e) continue;
      evr = e;
    }
    const flags = flagString(d.flags);
    let pre = false;
    if (kind === "require") {
      if (d.name.startsWith("rpmlib(")) continue;
      if (d.name.startsWith("/") && files.has(d.name) && isPrimaryPath(d.name)) continue;
      if (provided!.has(keyOf({ name: d.name, flags, evr, pre: false }))) continue;
      pre = (d.flags & (RPMSENSE_PREREQ | RPMSENSE_SCRIPT_PRE | RPMSENSE_SCRIPT_POST)) !== 0;
      const prev = last.get(d.name);
      if (prev && prev.flags === flags && prev.pre === pre && sameEvr(prev.evr, evr)) continue;
    }
    const o: OutDep = { name: d.name, flags, evr, pre };
    if (kind === "require") {
      last.set(d.name, o);
      if (d.name.startsWith(LIBC)) {
        if (!libc || rpmvercmp(libcVersion(d.name), libcVersion(libc.name)) > 0) libc = o;
        continue;
      }
    }
    out.push(o);
  }
  if (libc) out.push(libc);
  return out;
}

function keyOf(d: OutDep): string {
  return `${d.name}\0${d.flags ?? ""}\0${d.evr ? `${d.evr.epoch}\0${d.evr.ver}\0${d.evr.rel ?? "\u0001"}` : ""}`;
}

function sameEvr(a: Evr | null, b: Evr | null): boolean {
  if (a === null || b === null) return a === b;
  return a.epoch === b.epoch && a.ver === b.ver && a.rel === b.rel;
}
