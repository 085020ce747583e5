/**
 * A one-shot decoder of .xz data (one or more streams, LZMA2, optionally after the x86 BCJ or
 * the delta filter) and of legacy .lzma ("lzma alone") data. The whole output of a call is
 * bounded by `limit` (a squashfs block size); the output buffer is the LZMA dictionary and
 * nothing else is allocated besides the probability tables. With `grow` the buffer starts small
 * and grows up to the limit (small rpm payloads: xzDecoder / lzmaAloneDecoder below hand the
 * output out in pieces, as src/rpm/decompress.ts reads it).
 *
 * Why not spawn `xz`: the image loader reads every file of a live/rescue layer (MD5 of each for
 * the orphaned-files package), that is thousands of 128 KiB-1 MiB blocks; one `xz` process per
 * block costs ~1 ms of fork/exec each and a long-lived `xz` cannot split a stream of independent
 * .xz streams back into blocks. The reader's interface is synchronous, too. See
 * bench/image-readers.ts for the measured throughput against unsquashfs. The same holds for the
 * small source package payloads of a repository load (a process per package).
 *
 * Checked: stream and block header CRC32s, the CRC32 check of each block (mksquashfs writes
 * CRC32; CRC64 and SHA-256 checks are skipped, not verified), the index CRC32, the stream footer
 * (CRC32, magic), every distance against the data decoded so far, every length against the
 * limit, input overruns. Refused with LzmaUnsupported: filters other than LZMA2, x86 BCJ and
 * delta ("unsupported filter 0x.."), unknown flags. Everything else wrong is LzmaCorrupt.
 */

import { Lzma, LzmaCorrupt, LzmaUnsupported, lzma2 } from "./lzma.ts";

export { LzmaCorrupt, LzmaUnsupported };

const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

function crc32(b: Uint8Array): number {
  return Bun.hash.crc32(b) >>> 0;
}

function le32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function varint(b: Uint8Array, at: { i: number }, end: number): number {
  let r = 0;
  for (let k = 0; k < 9; k++) {
    if (at.i >= end) throw new LzmaCorrupt("block header ends inside a number");
    const c = b[at.i++];
    r += (c & 0x7f) * 2 ** (7 * k);
    if (!(c & 0x80)) return r;
  }
  throw new LzmaCorrupt("number too long in block header");
}

/** x86 BCJ decoding in place (start offset 0), the last 4 bytes left as they are. */
export function bcjX86(buf: Uint8Array, start = 0): void {
  const allowed = [true, true, true, false, true, false, false, false];
  const bitNum = [0, 1, 2, 2, 3, 3, 3, 3];
  const ms = (b: number) => b === 0 || b === 0xff;
  if (buf.length <= 4) return;
  const size = buf.length - 4;
  let prevPos = -1;
  let prevMask = 0;
  for (let i = 0; i < size; i++) {
    if ((buf[i] & 0xfe) !== 0xe8) continue;
    const gap = i - prevPos;
    if (gap > 3) prevMask = 0;
    else {
      prevMask = (prevMask << (gap - 1)) & 7;
      if (prevMask !== 0) {
        const b = buf[i + 4 - bitNum[prevMask]];
        if (!allowed[prevMask] || ms(b)) {
          prevPos = i;
          prevMask = (prevMask << 1) | 1;
          continue;
        }
      }
    }
    prevPos = i;
    if (ms(buf[i + 4])) {
      let src = le32(buf, i + 1);
      let dest: number;
      for (;;) {
        dest = (src - (start + i + 5)) >>> 0;
        if (prevMask === 0) break;
        const j = bitNum[prevMask] * 8;
        const b = (dest >>> (24 - j)) & 0xff;
        if (!ms(b)) break;
        src = (dest ^ ((2 ** (32 - j)) - 1)) >>> 0;
      }
      dest &= 0x01ffffff;
      if (dest & 0x01000000) dest |= 0xff000000;
      buf[i + 1] = dest & 0xff;
      buf[i + 2] = (dest >>> 8) & 0xff;
      buf[i + 3] = (dest >>> 16) & 0xff;
      buf[i + 4] = (dest >>> 24) & 0xff;
      i += 4;
    } else prevMask = (prevMask << 1) | 1;
  }
}

function deltaDecode(buf: Uint8Array, dist: number): void {
  for (let i = dist; i < buf.length; i++) buf[i] = (buf[i] + buf[i - dist]) & 0xff;
}

interface Filter {
  id: number;
  props: Uint8Array;
}

/** The 12-byte stream header at `at`: its check type. */
function streamHeader(inp: Uint8Array, at: number): number {
  const b = inp;
  if (b.length < at + 12 || b[at] !== 0xfd || b[at + 1] !== 0x37 || b[at + 2] !== 0x7a || b[at + 3] !== 0x58 || b[at + 4] !== 0x5a || b[at + 5] !== 0)
    throw new LzmaCorrupt("not an xz stream (bad magic)");
  if (crc32(b.subarray(at + 6, at + 8)) !== le32(b, at + 8)) throw new LzmaCorrupt("xz stream header CRC32 mismatch");
  if (b[at + 6] !== 0 || b[at + 7] > 15) throw new LzmaUnsupported("unsupported xz stream flags");
  return b[at + 7];
}

/** The block header at `at`: its size and filter chain (LZMA2 last, x86 BCJ or delta before). */
function blockHeader(inp: Uint8Array, at: number): { size: number; filters: Filter[] } {
  const size = (inp[at] + 1) * 4;
  if (at + size > inp.length) throw new LzmaCorrupt("xz block header runs past the data");
  if (crc32(inp.subarray(at, at + size - 4)) !== le32(inp, at + size - 4)) throw new LzmaCorrupt("xz block header CRC32 mismatch");
  const flags = inp[at + 1];
  if (flags & 0x3c) throw new LzmaUnsupported("unsupported xz block flags");
  const p = { i: at + 2 };
  const end = at + size - 4;
  if (flags & 0x40) varint(inp, p, end);
  if (flags & 0x80) varint(inp, p, end);
  const filters: Filter[] = [];
  for (let f = 0; f <= (flags & 3); f++) {
    const id = varint(inp, p, end);
    const psize = varint(inp, p, end);
    if (p.i + psize > end) throw new LzmaCorrupt("xz filter properties run past the block header");
    filters.push({ id, props: inp.subarray(p.i, p.i + psize) });
    p.i += psize;
  }
  const last = filters[filters.length - 1];
  if (last.id !== 0x21) throw new LzmaUnsupported(`unsupported xz filter chain ending with 0x${last.id.toString(16)} (only LZMA2 is read)`);
  for (const f of filters.slice(0, -1))
    if (f.id !== 0x04 && f.id !== 0x03) throw new LzmaUnsupported(`unsupported xz filter 0x${f.id.toString(16)} (x86 BCJ and delta are read)`);
  return { size, filters };
}

/** Checks the first stream header and block header: what xzDecoder refuses before any output. */
export function xzCheckStart(inp: Uint8Array): void {
  streamHeader(inp, 0);
  if (inp.length > 12 && inp[12] !== 0) blockHeader(inp, 12);
}

/** The index at `at` and the stream footer after it; returns where the footer ends. */
function indexAndFooter(inp: Uint8Array, at: number, flags: number): number {
  const p = { i: at + 1 };
  const n = inp.length;
  const records = varint(inp, p, n);
  for (let r = 0; r < records * 2; r++) varint(inp, p, n);
  while ((p.i - at) % 4 !== 0) {
    if (p.i >= n || inp[p.i] !== 0) throw new LzmaCorrupt("bad xz index padding");
    p.i++;
  }
  if (p.i + 4 > n) throw new LzmaCorrupt("xz stream ends inside its index");
  if (crc32(inp.subarray(at, p.i)) !== le32(inp, p.i)) throw new LzmaCorrupt("xz index CRC32 mismatch");
  const f = p.i + 4;
  // A stream cut short is an error, not a silent success.
  if (f + 12 > n || inp[f + 10] !== 0x59 || inp[f + 11] !== 0x5a) throw new LzmaCorrupt("xz stream ends without its footer");
  if (crc32(inp.subarray(f + 4, f + 10)) !== le32(inp, f)) throw new LzmaCorrupt("xz stream footer CRC32 mismatch");
  if (inp[f + 8] !== 0 || inp[f + 9] !== flags) throw new LzmaCorrupt("xz stream footer flags differ from its header");
  return f + 12;
}

/**
 * The data of .xz input (all its streams and blocks; zero padding between streams), at most
 * `limit` bytes. `grow`: allocate as the output comes instead of `limit` bytes up front.
 */
export function xzDecode(inp: Uint8Array, limit: number, grow = false): Uint8Array {
  const dec = new Lzma(inp, new Uint8Array(grow ? Math.min(limit, 1 << 16) : limit), limit);
  let at = 0;
  for (;;) {
    const check = streamHeader(inp, at);
    dec.ip = at + 12;
    for (;;) {
      if (dec.ip >= inp.length) throw new LzmaCorrupt("xz stream ends before its index");
      if (inp[dec.ip] === 0) break; // index: no more blocks
      const { size, filters } = blockHeader(inp, dec.ip);
      dec.ip += size;
      const blockOut = dec.pos;
      dec.inEnd = inp.length;
      const dataStart = dec.ip;
      lzma2(dec, limit);
      while ((dec.ip - dataStart) % 4 !== 0) {
        if (dec.ip >= inp.length || inp[dec.ip] !== 0) throw new LzmaCorrupt("bad xz block padding");
        dec.ip++;
      }
      const cs = CHECK_SIZE[check];
      if (dec.ip + cs > inp.length) throw new LzmaCorrupt("xz block check runs past the data");
      const data = dec.out.subarray(blockOut, dec.pos);
      for (let k = filters.length - 2; k >= 0; k--) {
        const f = filters[k];
        if (f.id === 0x04) bcjX86(data, f.props.length >= 4 ? le32(f.props, 0) : 0);
        else deltaDecode(data, (f.props[0] ?? 0) + 1);
      }
      if (check === 1 && crc32(data) !== le32(inp, dec.ip)) throw new LzmaCorrupt("xz block CRC32 mismatch");
      dec.ip += cs;
    }
    at = indexAndFooter(inp, dec.ip, check);
    while (at + 4 <= inp.length && le32(inp, at) === 0) at += 4; // stream padding
    if (at === inp.length) return dec.out.subarray(0, dec.pos);
  }
}

/** The data of a legacy .lzma stream (13-byte header), at most `limit` bytes; `grow` as in xzDecode. */
export function lzmaAloneDecode(inp: Uint8Array, limit: number, grow = false): Uint8Array {
  if (inp.length < 13) throw new LzmaCorrupt("lzma data shorter than its header");
  const lo = le32(inp, 5);
  const hi = le32(inp, 9);
  const known = !(lo === 0xffffffff && hi === 0xffffffff);
  const size = hi * 2 ** 32 + lo;
  if (known && size > limit) throw new LzmaCorrupt(`lzma header claims ${size} bytes, more than ${limit}`);
  // Unknown size: one byte of room past the limit tells "ends exactly at the limit" from "more".
  const max = known ? size : limit + 1;
  const dec = new Lzma(inp, new Uint8Array(grow ? Math.min(max, 1 << 16) : max), max);
  dec.setProps(inp[0]);
  dec.resetState();
  dec.ip = 13;
  dec.inEnd = inp.length;
  dec.rcInit();
  dec.run(max, true);
  if (known && dec.pos < size) throw new LzmaCorrupt(`lzma data ends after ${dec.pos} of ${size} bytes`);
  if (!known && !dec.sawEnd) throw new LzmaCorrupt(`output larger than ${limit} bytes`);
  return dec.out.subarray(0, dec.pos);
}

/** The output limit of the piecewise decoders below (their input is small: see decompress.ts). */
const PIECE_LIMIT = 1 << 30;
const PIECE = 64 * 1024;

function* pieces(decode: () => Uint8Array): Generator<Uint8Array> {
  const out = decode();
  for (let o = 0; o < out.length; o += PIECE) yield out.subarray(o, Math.min(out.length, o + PIECE));
}

/**
 * Decoded .xz data in pieces of 64 KiB. The first stream's header and first block's header are
 * checked at the call (LzmaUnsupported / LzmaCorrupt before any piece); the data is decoded
 * whole at the first piece, at most 1 GiB.
 */
export function xzDecoder(buf: Uint8Array): Generator<Uint8Array> {
  xzCheckStart(buf);
  return pieces(() => xzDecode(buf, PIECE_LIMIT, true));
}

/** Decoded legacy .lzma data in pieces, as xzDecoder; the header is checked at the call. */
export function lzmaAloneDecoder(buf: Uint8Array): Generator<Uint8Array> {
  if (buf.length < 18) throw new LzmaCorrupt("truncated lzma header");
  if (buf[0] >= 9 * 5 * 5) throw new LzmaCorrupt(`bad LZMA properties byte ${buf[0]}`);
  if (buf[13] !== 0) throw new LzmaCorrupt("bad range coder start byte");
  return pieces(() => lzmaAloneDecode(buf, PIECE_LIMIT, true));
}
