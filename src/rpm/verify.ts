/**
 * librpm's checks of a package's headers, so that we read exactly the packages librpm reads
 * (rpmReadPackageFile with its default checks, signatures off — how the reference read them):
 *
 * - structure of each header blob (lib/header.c): hdrblobVerifyLengths, hdrblobVerifyRegion
 *   (region tag, trailer, region size; a package's main header is exactly its region),
 *   hdrblobVerifyInfo (tag ≥ 100, known type, alignment, offsets in order and inside the data,
 *   data that fits, strings NUL-terminated, known tags of the main header with their librpm
 *   type, nothing overlapping the region trailer) and hdrblobImport's data-length accounting;
 * - the header digests of the signature header (lib/rpmvs.c): SHA1HEADER and SHA256HEADER must
 *   be well-formed and equal the digest of the main header (MD5 and PAYLOADDIGEST cover the
 *   payload, which librpm does not read here: not checked);
 * - headerMergeLegacySigs (lib/package.c): the signature tags' types and counts.
 *
 * Each failure is an RpmError naming the check ("region trailer", "tag[3] …", "SHA1HEADER
 * digest mismatch").
 */
import { RpmError, type RpmErrorCode } from "./errors.ts";
import { TAG_TYPES } from "./tagtypes.ts";

const ENTRY = 16;
const REGION_TAG_COUNT = 16;
const BIN = 7;
const STRING = 6;
const STRING_ARRAY = 8;
const I18NSTRING = 9;
/** typeSizes[]: -1 = variable (strings). */
const TYPE_SIZES = [0, 1, 1, 2, 4, 8, -1, 1, -1, -1];
const TYPE_ALIGN = [1, 1, 1, 2, 4, 8, 1, 1, 1, 1];
const HEADER_DATA_MAX = 0x0fffffff;
const HEADER_MAX_BYTES = 256 * 1024 * 1024;

export const REGION_SIGNATURES = 62;
export const REGION_IMMUTABLE = 63;
const REGION_IMAGE = 61;

export interface BlobPlace {
  path: string;
  /** Absolute position of the blob's first byte (the magic) in the file. */
  base: number;
  /** "signature header" / "main header", for messages. */
  what: string;
}

function s32(b: Uint8Array, p: number): number {
  return (b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
}

function u32(b: Uint8Array, p: number): number {
  return s32(b, p) >>> 0;
}

function fail(at: BlobPlace, msg: string, offset = at.base, code: RpmErrorCode = "index"): never {
  throw new RpmError(code, `${at.what}: ${msg}`, at.path, offset);
}

/** The error code of a bad index entry: what is wrong with it, as far as one word says it. */
function entryCode(type: number, count: number, len: number): RpmErrorCode {
  if (type > 9) return "type";
  if (count === 0 || count > HEADER_DATA_MAX) return "count";
  if ((type === STRING || type === STRING_ARRAY || type === I18NSTRING) && len < 0) return "value";
  return "index";
}

/** strtaglen: bytes of `count` NUL-terminated strings at ds[off..end), -1 if they do not fit. */
function strtaglen(ds: Uint8Array, off: number, count: number, end: number): number {
  let start = off;
  let c = count;
  if (c === 0) return -1;
  while (start < end) {
    const s = ds.indexOf(0, start);
    if (s < 0 || s >= end) return -1;
    if (--c === 0) return s - off + 1;
    start = s + 1;
  }
  return -1;
}

/** dataLength (on disk): -1 when the data does not fit in ds[..end). */
function dataLength(type: number, ds: Uint8Array, off: number, count: number, end: number): number {
  switch (type) {
    case STRING:
      return count === 1 ? strtaglen(ds, off, 1, end) : -1;
    case STRING_ARRAY:
    case I18NSTRING:
      return strtaglen(ds, off, count, end);
    default: {
      const size = TYPE_SIZES[type];
      if (size === -1) return -1;
      const length = Math.imul(size, count); // C int arithmetic
      if (length < 0 || off + length > end) return -1;
      return length;
    }
  }
}

function isString(type: number): boolean {
  return type === STRING || type === STRING_ARRAY || type === I18NSTRING;
}

function alignDiff(type: number, n: number): number {
  const size = TYPE_SIZES[type];
  if (size > 1) {
    const diff = size - (n % size);
    if (diff !== size) return diff;
  }
  return 0;
}

interface Blob {
  il: number;
  dl: number;
  /** Index entries start here (in `b`). */
  pe: number;
  /** Data store start (in `b`). */
  ds: number;
  regionTag: number;
  ril: number;
  rdl: number;
}

/**
 * hdrblobVerifyRegion: 0 = no region (legacy header), else the region tag. Throws for a bad
 * region tag, trailer or size.
 */
function verifyRegion(b: Uint8Array, blob: Blob, regionTag: number, exactSize: boolean, at: BlobPlace): void {
  if (blob.il < 1) fail(at, "region: no tags");
  const tag = s32(b, blob.pe);
  if (tag !== regionTag) return;
  const type = u32(b, blob.pe + 4);
  const offset = s32(b, blob.pe + 8);
  const count = u32(b, blob.pe + 12);
  if (type !== BIN || count !== REGION_TAG_COUNT) fail(at, `region tag ${tag}: type ${type} count ${count}, not a 16-byte BIN entry`, at.base + blob.pe);
  if (offset + REGION_TAG_COUNT < 0 || offset + REGION_TAG_COUNT > blob.dl) {
    fail(at, `region tag ${tag}: trailer offset ${offset} outside the ${blob.dl}-byte data`, at.base + blob.pe);
  }
  const t = blob.ds + offset;
  let ttag = s32(b, t);
  const ttype = u32(b, t + 4);
  const toff = s32(b, t + 8);
  const tcount = u32(b, t + 12);
  blob.rdl = offset + REGION_TAG_COUNT;
  // some old packages have HEADERIMAGE in the signature region trailer
  if (regionTag === REGION_SIGNATURES && ttag === REGION_IMAGE) ttag = REGION_SIGNATURES;
  if (ttag !== regionTag || ttype !== BIN || tcount !== REGION_TAG_COUNT) {
    fail(at, `region trailer: tag ${ttag} type ${ttype} offset ${toff} count ${tcount}`, at.base + t);
  }
  const size = (-toff) | 0;
  const ril = size / ENTRY;
  if (size % ENTRY !== 0 || ril < 0 || ril > blob.il || blob.rdl > blob.dl) {
    fail(at, `region size: ril ${ril} il ${blob.il} rdl ${blob.rdl} dl ${blob.dl}`, at.base + t);
  }
  blob.ril = ril;
  if (exactSize && !(blob.il === blob.ril && blob.dl === blob.rdl)) {
    fail(at, `region ${regionTag} does not span the header: il ${blob.il} ril ${blob.ril} dl ${blob.dl} rdl ${blob.rdl}`, at.base + t);
  }
  blob.regionTag = regionTag;
}

/**
 * hdrblobVerifyInfo: every index entry after the region tag. Returns what hdrblobImport's
 * regionSwab adds up for the same entries: their data lengths, each aligned to its type size
 * from 0 (the entries verifyInfo checks are exactly the ones regionSwab counts, and they pass
 * regionSwab's own checks once they pass these).
 */
function verifyInfo(b: Uint8Array, blob: Blob, at: BlobPlace): number {
  const first = blob.regionTag ? 1 : 0;
  const typechk = blob.regionTag === REGION_IMMUTABLE;
  const dsEnd = blob.ds + blob.dl;
  let end = 0;
  let sum = 0;
  for (let i = first; i < blob.il; i++) {
    const p = blob.pe + i * ENTRY;
    const tag = s32(b, p);
    const type = u32(b, p + 4);
    const offset = s32(b, p + 8);
    const count = u32(b, p + 12);
    let len = 0;
    let bad = end > offset || tag < 100 || type > 9 || count === 0 || count > HEADER_DATA_MAX;
    bad ||= (offset & (TYPE_ALIGN[type] - 1)) !== 0 || offset < 0 || offset > blob.dl;
    if (!bad && typechk) {
      const want = TAG_TYPES.get(tag);
      // any string type serves a string tag (old rpm wrote one-element arrays as STRING)
      bad = want !== undefined && want !== type && !(isString(want) && isString(type));
    }
    if (!bad) {
      len = dataLength(type, b, blob.ds + offset, count, dsEnd);
      end = offset + len;
      bad = len <= 0 || end > blob.dl;
      // the data must not overlap the region trailer
      if (!bad && blob.regionTag) bad = end > blob.rdl - REGION_TAG_COUNT && offset < blob.rdl;
    }
    if (bad) fail(at, `tag[${i}]: BAD, tag ${tag} type ${type} offset ${offset} count ${count} len ${len}`, at.base + p, entryCode(type, count, len));
    sum += alignDiff(type, sum) + len;
  }
  return sum;
}

/** hdrblobImport: the entries' data lengths (with alignment) must add up to the data size. */
function verifyImport(b: Uint8Array, blob: Blob, sum: number, at: BlobPlace): void {
  // a region of no entries (trailer offset 0) cannot be imported (regionSwab's region id 0)
  if (blob.regionTag && s32(b, blob.pe + 8) !== 0 && blob.ril === 0) fail(at, "hdr load: BAD, the region trailer says the region has no entries");
  const rdlen = blob.regionTag ? sum + REGION_TAG_COUNT : sum;
  if (rdlen !== blob.dl) fail(at, `hdr load: BAD, the data of the entries adds up to ${rdlen} bytes, not ${blob.dl}`);
}

/**
 * All of librpm's structural checks of one header blob `b` (from its 8-byte magic). `regionTag`
 * is 62 for a signature header, 63 for a main header; `exactSize` for a package's main header.
 */
export function verifyHeaderBlob(b: Uint8Array, regionTag: number, exactSize: boolean, at: BlobPlace): void {
  if (b[4] !== 0 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0) fail(at, "hdr magic: BAD (reserved bytes are not zero)", at.base + 4);
  const il = u32(b, 8);
  const dl = u32(b, 12);
  const sig = regionTag === REGION_SIGNATURES;
  if (il > (sig ? 32 : 0xffff)) fail(at, `hdr tags: BAD, no. of tags (${il}) out of range`, at.base + 8);
  if (dl > (sig ? 64 * 1024 * 1024 : HEADER_DATA_MAX)) fail(at, `hdr data: BAD, no. of bytes (${dl}) out of range`, at.base + 12);
  if (8 + il * ENTRY + dl >= HEADER_MAX_BYTES) fail(at, `blob size: BAD, 8 + 16 * il(${il}) + dl(${dl})`, at.base + 8);
  const blob: Blob = { il, dl, pe: 16, ds: 16 + il * ENTRY, regionTag: 0, ril: 0, rdl: 0 };
  verifyRegion(b, blob, regionTag, exactSize, at);
  verifyImport(b, blob, verifyInfo(b, blob, at), at);
}

/** hdrblobGet as librpm 4.18 has it: the first entry with `tag` among all entries but the last. */
function blobGet(b: Uint8Array, tag: number): number {
  const il = u32(b, 8);
  for (let i = 0; i < il - 1; i++) if (s32(b, 16 + i * ENTRY) === tag) return 16 + i * ENTRY;
  return -1;
}

const XTAGS = new Set([257, 259, 261, 262, 1046, 5090, 5091, 276, 277, 269, 273, 267, 268, 270, 271]);

/** Which of the merged tags the main header holds (one pass over its index). */
function mainTags(b: Uint8Array): Set<number> {
  const out = new Set<number>();
  const il = u32(b, 8);
  for (let i = 0; i < il; i++) {
    const t = s32(b, 16 + i * ENTRY);
    if (XTAGS.has(t)) out.add(t);
  }
  return out;
}

/** librpm 4.18 headerMergeLegacySigs: signature tag, main-header tag, required count, quirk. */
const XLATE: readonly [number, number, number, boolean][] = [
  [1000, 257, 1, false], // SIZE → SIGSIZE
  [1002, 259, 0, false], // PGP → SIGPGP
  [1004, 261, 16, false], // MD5 → SIGMD5
  [1005, 262, 0, false], // GPG → SIGGPG
  [1007, 1046, 1, true], // PAYLOADSIZE → ARCHIVESIZE
  [274, 5090, 0, true], // FILESIGNATURES
  [275, 5091, 1, true], // FILESIGNATURELENGTH
  [276, 276, 0, false], // VERITYSIGNATURES
  [277, 277, 1, false], // VERITYSIGNATUREALGO
  [269, 269, 1, false], // SHA1HEADER
  [273, 273, 1, false], // SHA256HEADER
  [267, 267, 0, false], // DSAHEADER
  [268, 268, 0, false], // RSAHEADER
  [270, 270, 1, false], // LONGSIGSIZE
  [271, 271, 1, false], // LONGARCHIVESIZE
];

/**
 * headerGet's choice among the signature header's entries: librpm sorts the imported index by
 * tag (glibc's qsort: a stable merge sort; a header without a region gets a synthetic region
 * entry first) and binary-searches it (glibc bsearch), so of duplicated tags it picks the one
 * the search lands on, not necessarily the first.
 */
function sortedIndex(b: Uint8Array): number[] {
  const il = u32(b, 8);
  const pos: number[] = [];
  for (let i = 0; i < il; i++) pos.push(16 + i * ENTRY);
  pos.sort((x, y) => s32(b, x) - s32(b, y) || x - y);
  if (il > 0 && s32(b, 16) >= 100) pos.unshift(-1); // the synthetic HEADERIMAGE entry (tag 61)
  return pos;
}

function headerGetEntry(b: Uint8Array, pos: readonly number[], tag: number): number {
  let l = 0;
  let u = pos.length;
  while (l < u) {
    const idx = (l + u) >>> 1;
    const t = pos[idx] < 0 ? REGION_IMAGE : s32(b, pos[idx]);
    if (tag < t) u = idx;
    else if (tag > t) l = idx + 1;
    else return pos[idx];
  }
  return -1;
}

/**
 * headerMergeLegacySigs as librpm 4.18 has it: the main header must not already hold a tag the
 * signature header provides (ARCHIVESIZE and file signatures may be in either, never both), and
 * every signature tag that is merged must have librpm's type for it and a sane count.
 */
export function verifyMergeSigs(sig: Uint8Array, main: Uint8Array, path: string, sigBase: number): void {
  const invalid = (xtag: number, p: number): never => {
    throw new RpmError("value", `invalid signature tag ${xtag}: its type or count is wrong, or the main header has it too`, path, sigBase + p);
  };
  const pos = sortedIndex(sig);
  const inMain = mainTags(main);
  for (const [stag, xtag, , quirk] of XLATE) {
    if (!inMain.has(xtag)) continue;
    const p = headerGetEntry(sig, pos, stag);
    if (quirk && p < 0) continue;
    invalid(xtag, Math.max(p, 0));
  }
  for (const [stag, xtag, count] of XLATE) {
    const p = headerGetEntry(sig, pos, stag);
    if (p < 0) continue;
    const type = u32(sig, p + 4);
    const n = u32(sig, p + 12);
    if (type !== TAG_TYPES.get(xtag) || n < 1 || n > 16 * 1024 * 1024 || (count && n !== count)) invalid(xtag, p);
  }
}

const SHA1HEADER = 269;
const SHA256HEADER = 273;

/**
 * The signature header's digests of the main header (SHA1HEADER, SHA256HEADER), as rpmvsVerify
 * checks them with signatures off (the payload digests are skipped: the payload is not read). `sig` and `main` are verified blobs.
 */
const SHA1_OUT = new Uint8Array(20);
const SHA256_OUT = new Uint8Array(32);

export function verifyDigests(sig: Uint8Array, main: Uint8Array, path: string, sigBase: number): void {
  const at: BlobPlace = { path, base: sigBase, what: "signature header" };
  const ds = 16 + u32(sig, 8) * ENTRY;
  const dsEnd = ds + u32(sig, 12);
  for (const [tag, algo, name, hexLen] of [
    [SHA1HEADER, "sha1", "SHA1HEADER", 40],
    [SHA256HEADER, "sha256", "SHA256HEADER", 64],
  ] as const) {
    const p = blobGet(sig, tag);
    if (p < 0) continue;
    const type = u32(sig, p + 4);
    const count = u32(sig, p + 12);
    const off = ds + s32(sig, p + 8);
    const bad = (what: string): never => fail(at, `${name} tag ${tag}: ${what}`, sigBase + p, "value");
    if (TYPE_SIZES[type] !== 1 && TYPE_SIZES[type] !== -1) bad(`unusable type ${type}`);
    if (type !== STRING || count !== 1) bad(`invalid type ${type} or count ${count}`);
    const len = strtaglen(sig, off, 1, dsEnd) - 1;
    if (len !== hexLen) bad(`invalid size ${len + 1}`);
    const want = algo === "sha1" ? SHA1_OUT : SHA256_OUT;
    if (algo === "sha1") Bun.SHA1.hash(main, want);
    else Bun.SHA256.hash(main, want);
    if (!hexEqualsCaseless(sig, off, want)) {
      throw new RpmError("digest", `${name} digest mismatch: the main header is not the one the signature header describes`, path, sigBase + p);
    }
  }
}

/** hex text at b[off..] (case-insensitive, like strcasecmp) equals the raw digest bytes. */
function hexEqualsCaseless(b: Uint8Array, off: number, raw: Uint8Array): boolean {
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i];
    if (nibble(b[off + 2 * i]) !== v >> 4 || nibble(b[off + 2 * i + 1]) !== (v & 15)) return false;
  }
  return true;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}
