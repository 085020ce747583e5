/**
 * Version ordering exactly as librpm: `rpmvercmp` for one version or release string, and
 * `labelCompare` for whole [E:]V[-R] labels. The one comparison every matcher uses.
 *
 * librpm (4.18, checked against python3-rpm in tests/rpm/vercmp.test.ts), not prose, decides:
 * - a missing epoch is compared as "0" (`labelCompare` defaults it), so `1-1` = `0:1-1`; an empty
 *   epoch (`:1-1`) is "0" too (parseEVR);
 * - a missing release sorts below an empty one, which sorts below any other release;
 * - segments are maximal runs of ASCII digits or ASCII letters; everything else separates them,
 *   `~` sorts before anything (even the end), `^` after the end but before anything else;
 * - digit runs: leading zeros dropped, the longer run wins, then bytewise (no 64-bit limit);
 *   a digit run beats a letter run; letter runs compare bytewise (case-sensitive).
 */

const TILDE = 0x7e;
const CARET = 0x5e;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
function isAlpha(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
/** Byte order of s[a0,a1) against t[b0,b1) (ASCII runs only reach here): -1, 0 or 1. */
function cmpRun(s: string, a0: number, a1: number, t: string, b0: number, b1: number): number {
  const n = Math.min(a1 - a0, b1 - b0);
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(a0 + k) - t.charCodeAt(b0 + k);
    if (d) return d < 0 ? -1 : 1;
  }
  const la = a1 - a0;
  const lb = b1 - b0;
  return la === lb ? 0 : la < lb ? -1 : 1;
}

/** librpm's rpmvercmp(a, b): -1, 0 or 1. */
export function rpmvercmp(a: string, b: string): number {
  return vercmpRange(a, 0, a.length, b, 0, b.length);
}

/** rpmvercmp over a[i,aEnd) and b[j,bEnd), so labels are compared without slicing them. */
function vercmpRange(a: string, i: number, aEnd: number, b: string, j: number, bEnd: number): number {
  if (aEnd - i === bEnd - j && cmpRun(a, i, aEnd, b, j, bEnd) === 0) return 0;
  for (;;) {
    let c1 = i < aEnd ? a.charCodeAt(i) : 0;
    let c2 = j < bEnd ? b.charCodeAt(j) : 0;
    if (!c1 && !c2) break;
    while (c1 && !isDigit(c1) && !isAlpha(c1) && c1 !== TILDE && c1 !== CARET) c1 = ++i < aEnd ? a.charCodeAt(i) : 0;
    while (c2 && !isDigit(c2) && !isAlpha(c2) && c2 !== TILDE && c2 !== CARET) c2 = ++j < bEnd ? b.charCodeAt(j) : 0;

    if (c1 === TILDE || c2 === TILDE) {
      if (c1 !== TILDE) return 1;
      if (c2 !== TILDE) return -1;
      i++;
      j++;
      continue;
    }
    if (c1 === CARET || c2 === CARET) {
      if (!c1) return -1;
      if (!c2) return 1;
      if (c1 !== CARET) return 1;
      if (c2 !== CARET) return -1;
      i++;
      j++;
      continue;
    }
    if (!(c1 && c2)) break;

    let e1 = i;
    let e2 = j;
    const isnum = isDigit(c1);
    if (isnum) {
      while (e1 < aEnd && isDigit(a.charCodeAt(e1))) e1++;
      while (e2 < bEnd && isDigit(b.charCodeAt(e2))) e2++;
    } else {
      while (e1 < aEnd && isAlpha(a.charCodeAt(e1))) e1++;
      while (e2 < bEnd && isAlpha(b.charCodeAt(e2))) e2++;
    }
    // segments of different kinds: a number is newer than letters
    if (e2 === j) return isnum ? 1 : -1;

    let s1 = i;
    let s2 = j;
    if (isnum) {
      while (s1 < e1 && a.charCodeAt(s1) === 0x30) s1++;
      while (s2 < e2 && b.charCodeAt(s2) === 0x30) s2++;
      if (e1 - s1 > e2 - s2) return 1;
      if (e2 - s2 > e1 - s1) return -1;
    }
    const rc = cmpRun(a, s1, e1, b, s2, e2);
    if (rc) return rc;
    i = e1;
    j = e2;
  }
  const end1 = i >= aEnd;
  const end2 = j >= bEnd;
  if (end1 && end2) return 0;
  return end1 ? -1 : 1;
}

/** An [E:]V[-R] label split as librpm's parseEVR does; absent parts are null. */
export interface Evr {
  epoch: string | null;
  version: string;
  release: string | null;
}

/** Split `[E:]V[-R]`: the epoch is the leading digits before `:`, the release follows the last `-`. */
export function parseEvr(evr: string): Evr {
  let s = 0;
  while (s < evr.length && isDigit(evr.charCodeAt(s))) s++;
  const dash = evr.lastIndexOf("-");
  const se = dash >= s ? dash : -1;
  let epoch: string | null = null;
  let vStart = 0;
  if (evr.charCodeAt(s) === 0x3a) {
    epoch = s === 0 ? "0" : evr.slice(0, s);
    vStart = s + 1;
  }
  const version = se >= 0 ? evr.slice(vStart, se) : evr.slice(vStart);
  const release = se >= 0 ? evr.slice(se + 1) : null;
  return { epoch, version, release };
}

/** librpm's compare_values: a missing value sorts below any present one. */
function compareValues(a: string | null, b: string | null): number {
  if (a === null && b === null) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return rpmvercmp(a, b);
}

/** librpm's labelCompare over (epoch, version, release); a missing epoch counts as "0". */
export function labelCompare(a: Evr, b: Evr): number {
  return (
    compareValues(a.epoch ?? "0", b.epoch ?? "0") ||
    compareValues(a.version, b.version) ||
    compareValues(a.release, b.release)
  );
}

/** librpm refuses a label whose version is empty (`-1`, `1:`, ``). */
export function isValidEvr(evr: string): boolean {
  return parseEvr(evr).version !== "";
}

/** Epoch digits end (the `:`), or -1 when `evr` has no epoch. */
function epochEnd(evr: string): number {
  let s = 0;
  while (s < evr.length && isDigit(evr.charCodeAt(s))) s++;
  return evr.charCodeAt(s) === 0x3a ? s : -1;
}

/** Where the release starts after the last `-` (searched from `from`), or -1. */
function releaseStart(evr: string, from: number): number {
  const dash = evr.lastIndexOf("-");
  return dash >= from ? dash + 1 : -1;
}

const ZERO = "0";

/** Order two `[E:]V[-R]` strings: -1, 0 or 1; a label librpm refuses throws a RangeError naming it. */
export function compareEvr(a: string, b: string): number {
  const ea = epochEnd(a);
  const eb = epochEnd(b);
  const va = ea + 1; // 0 without an epoch
  const vb = eb + 1;
  const ra = releaseStart(a, ea < 0 ? 0 : ea);
  const rb = releaseStart(b, eb < 0 ? 0 : eb);
  const vaEnd = ra < 0 ? a.length : ra - 1;
  const vbEnd = rb < 0 ? b.length : rb - 1;
  if (va === vaEnd) throw new RangeError(`invalid label ${JSON.stringify(a)}: empty version`);
  if (vb === vbEnd) throw new RangeError(`invalid label ${JSON.stringify(b)}: empty version`);
  // a missing or empty epoch is "0"
  let rc = vercmpRange(ea > 0 ? a : ZERO, 0, ea > 0 ? ea : 1, eb > 0 ? b : ZERO, 0, eb > 0 ? eb : 1);
  if (rc) return rc;
  rc = vercmpRange(a, va, vaEnd, b, vb, vbEnd);
  if (rc) return rc;
  if (ra < 0 || rb < 0) return ra < 0 && rb < 0 ? 0 : ra < 0 ? -1 : 1;
  return vercmpRange(a, ra, a.length, b, rb, b.length);
}
