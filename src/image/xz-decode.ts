/**
 * A one-shot decoder of .xz streams (LZMA2, optionally after the x86 BCJ or the delta filter)
 * and of legacy .lzma ("lzma alone") data, written for squashfs blocks: the whole output of a
 * call is bounded by `limit` (the block size), so the output buffer is the LZMA dictionary and
 * nothing else is allocated besides the probability tables.
 *
 * Why not spawn `xz`: the image loader reads every file of a live/rescue layer (MD5 of each for
 * the orphaned-files package), that is thousands of 128 KiB-1 MiB blocks; one `xz` process per
 * block costs ~1 ms of fork/exec each and a long-lived `xz` cannot split a stream of independent
 * .xz streams back into blocks. The reader's interface is synchronous, too. See
 * bench/image-readers.ts for the measured throughput against unsquashfs.
 *
 * Checked: stream and block header CRC32s, the CRC32 check of each block (mksquashfs writes
 * CRC32; CRC64 and SHA-256 checks are skipped, not verified), every distance against the data
 * decoded so far, every length against the limit, input overruns. Refused: filters other than
 * LZMA2, x86 BCJ and delta ("unsupported filter 0x..").
 */

import { Lzma, lzma2, XzError } from "./xz-lzma.ts";

export { XzError };

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
    if (at.i >= end) throw new XzError("block header ends inside a number");
    const c = b[at.i++];
    r += (c & 0x7f) * 2 ** (7 * k);
    if (!(c & 0x80)) return r;
  }
  throw new XzError("number too long in block header");
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

/** The data of an .xz stream (all its blocks), at most `limit` bytes. */
export function xzDecode(inp: Uint8Array, limit: number): Uint8Array {
  if (inp.length < 12 || inp[0] !== 0xfd || inp[1] !== 0x37 || inp[2] !== 0x7a || inp[3] !== 0x58 || inp[4] !== 0x5a || inp[5] !== 0)
    throw new XzError("not an xz stream (bad magic)");
  if (inp[6] !== 0 || inp[7] > 15) throw new XzError("unsupported xz stream flags");
  if (crc32(inp.subarray(6, 8)) !== le32(inp, 8)) throw new XzError("xz stream header CRC32 mismatch");
  const check = inp[7];
  const out = new Uint8Array(limit);
  const dec = new Lzma(inp, out);
  dec.ip = 12;
  for (;;) {
    if (dec.ip >= inp.length) throw new XzError("xz stream ends before its index");
    const hb = inp[dec.ip];
    if (hb === 0) break; // index: no more blocks
    const hsize = (hb + 1) * 4;
    const hstart = dec.ip;
    if (hstart + hsize > inp.length) throw new XzError("xz block header runs past the data");
    if (crc32(inp.subarray(hstart, hstart + hsize - 4)) !== le32(inp, hstart + hsize - 4)) throw new XzError("xz block header CRC32 mismatch");
    const flags = inp[hstart + 1];
    if (flags & 0x3c) throw new XzError("unsupported xz block flags");
    const at = { i: hstart + 2 };
    const hend = hstart + hsize - 4;
    if (flags & 0x40) varint(inp, at, hend);
    if (flags & 0x80) varint(inp, at, hend);
    const filters: { id: number; props: Uint8Array }[] = [];
    for (let f = 0; f <= (flags & 3); f++) {
      const id = varint(inp, at, hend);
      const psize = varint(inp, at, hend);
      if (at.i + psize > hend) throw new XzError("xz filter properties run past the block header");
      filters.push({ id, props: inp.subarray(at.i, at.i + psize) });
      at.i += psize;
    }
    const last = filters[filters.length - 1];
    if (last.id !== 0x21) throw new XzError(`unsupported xz filter chain ending with 0x${last.id.toString(16)} (only LZMA2 is read)`);
    for (const f of filters.slice(0, -1))
      if (f.id !== 0x04 && f.id !== 0x03) throw new XzError(`unsupported xz filter 0x${f.id.toString(16)} (x86 BCJ and delta are read)`);
    dec.ip = hstart + hsize;
    const blockOut = dec.pos;
    dec.inEnd = inp.length;
    const dataStart = dec.ip;
    lzma2(dec, limit);
    while ((dec.ip - dataStart) % 4 !== 0) {
      if (dec.ip >= inp.length || inp[dec.ip] !== 0) throw new XzError("bad xz block padding");
      dec.ip++;
    }
    const cs = CHECK_SIZE[check];
    if (dec.ip + cs > inp.length) throw new XzError("xz block check runs past the data");
    const data = out.subarray(blockOut, dec.pos);
    for (let k = filters.length - 2; k >= 0; k--) {
      const f = filters[k];
      if (f.id === 0x04) bcjX86(data, f.props.length >= 4 ? le32(f.props, 0) : 0);
      else deltaDecode(data, (f.props[0] ?? 0) + 1);
    }
    if (check === 1 && crc32(data) !== le32(inp, dec.ip)) throw new XzError("xz block CRC32 mismatch");
    dec.ip += cs;
  }
  // The index and the footer are not parsed, but the footer must be there and intact: a stream
  // cut short is an error, not a silent success.
  const n = inp.length;
  if (n < dec.ip + 12 + 8 || inp[n - 2] !== 0x59 || inp[n - 1] !== 0x5a) throw new XzError("xz stream ends without its footer");
  if (crc32(inp.subarray(n - 8, n - 2)) !== le32(inp, n - 12)) throw new XzError("xz stream footer CRC32 mismatch");
  return out.subarray(0, dec.pos);
}

/** The data of a legacy .lzma stream (13-byte header), at most `limit` bytes. */
export function lzmaAloneDecode(inp: Uint8Array, limit: number): Uint8Array {
  if (inp.length < 13) throw new XzError("lzma data shorter than its header");
  const lo = le32(inp, 5);
  const hi = le32(inp, 9);
  const known = !(lo === 0xffffffff && hi === 0xffffffff);
  const size = hi * 2 ** 32 + lo;
  if (known && size > limit) throw new XzError(`lzma header claims ${size} bytes, more than ${limit}`);
  // Unknown size: one byte of room past the limit tells "ends exactly at the limit" from "more".
  const out = new Uint8Array(known ? size : limit + 1);
  const dec = new Lzma(inp, out);
  dec.setProps(inp[0]);
  dec.resetState();
  dec.ip = 13;
  dec.inEnd = inp.length;
  dec.rcInit();
  dec.run(out.length, true);
  if (known && dec.pos < size) throw new XzError(`lzma data ends after ${dec.pos} of ${size} bytes`);
  if (!known && !dec.sawEnd) throw new XzError(`output larger than ${limit} bytes`);
  return out.subarray(0, dec.pos);
}
