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

const CHECK_SIZE = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

export class XzError extends Error {
  override name = "XzError";
}

// Probability array layout.
const IS_MATCH = 0;
const IS_REP = 192;
const IS_REP_G0 = 204;
const IS_REP_G1 = 216;
const IS_REP_G2 = 228;
const IS_REP0_LONG = 240;
const POS_SLOT = 432;
const SPEC_POS = 688;
const ALIGN = 803;
const LEN = 819;
const REP_LEN = 1333;
const LITERAL = 1847;
// Inside a length coder.
const L_CHOICE2 = 1;
const L_LOW = 2;
const L_MID = 130;
const L_HIGH = 258;

class Lzma {
  probs: Uint16Array = new Uint16Array(LITERAL + 0x300);
  lc = 0;
  lp = 0;
  pb = 0;
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;
  range = 0;
  code = 0;
  ip = 0;
  inEnd = 0;
  pos = 0;
  dictStart = 0;
  sawEnd = false;

  constructor(
    readonly inp: Uint8Array,
    readonly out: Uint8Array,
  ) {}

  setProps(b: number): void {
    if (b >= 9 * 5 * 5) throw new XzError(`bad LZMA properties byte ${b}`);
    this.lc = b % 9;
    b = (b / 9) | 0;
    this.lp = b % 5;
    this.pb = (b / 5) | 0;
    const need = LITERAL + (0x300 << (this.lc + this.lp));
    if (this.probs.length < need) this.probs = new Uint16Array(need);
  }

  resetState(): void {
    this.probs.fill(1024);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
  }

  rcInit(): void {
    if (this.ip + 5 > this.inEnd) throw new XzError("truncated range coder start");
    if (this.inp[this.ip] !== 0) throw new XzError("bad range coder start byte");
    const b = this.inp;
    const i = this.ip;
    this.code = (b[i + 1] << 24) | (b[i + 2] << 16) | (b[i + 3] << 8) | b[i + 4];
    this.range = -1; // 0xffffffff: range and code are kept as int32 bit patterns
    this.ip += 5;
  }

  bit(i: number): number {
    const p = this.probs[i];
    const bound = Math.imul(this.range >>> 11, p);
    let r: number;
    if ((this.code ^ 0x80000000) < (bound ^ 0x80000000)) {
      this.range = bound;
      this.probs[i] = p + ((2048 - p) >>> 5);
      r = 0;
    } else {
      this.range = (this.range - bound) | 0;
      this.code = (this.code - bound) | 0;
      this.probs[i] = p - (p >>> 5);
      r = 1;
    }
    if ((this.range & 0xff000000) === 0) {
      if (this.ip >= this.inEnd) throw new XzError("compressed data ends early");
      this.range <<= 8;
      this.code = (this.code << 8) | this.inp[this.ip++];
    }
    return r;
  }

  tree(base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(base + m);
    return m - (1 << bits);
  }

  reverse(base: number, bits: number): number {
    let m = 1;
    let r = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(base + m);
      m = (m << 1) | b;
      r |= b << i;
    }
    return r;
  }

  direct(bits: number): number {
    let r = 0;
    for (let i = 0; i < bits; i++) {
      this.range = this.range >>> 1;
      let b = 0;
      if ((this.code ^ 0x80000000) >= (this.range ^ 0x80000000)) {
        this.code = (this.code - this.range) | 0;
        b = 1;
      }
      r = ((r << 1) | b) >>> 0;
      if ((this.range & 0xff000000) === 0) {
        if (this.ip >= this.inEnd) throw new XzError("compressed data ends early");
        this.range <<= 8;
        this.code = (this.code << 8) | this.inp[this.ip++];
      }
    }
    return r;
  }

  len(base: number, posState: number): number {
    if (this.bit(base) === 0) return this.tree(base + L_LOW + posState * 8, 3);
    if (this.bit(base + L_CHOICE2) === 0) return 8 + this.tree(base + L_MID + posState * 8, 3);
    return 16 + this.tree(base + L_HIGH, 8);
  }

  /** Decode until `end` bytes of output (or the end marker when `allowEnd`). */
  run(end: number, allowEnd: boolean): void {
    const out = this.out;
    const probs = this.probs;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    let pos = this.pos;
    let state = this.state;
    while (pos < end) {
      const rel = pos - this.dictStart;
      const posState = rel & pbMask;
      if (this.bit(IS_MATCH + (state << 4) + posState) === 0) {
        const prev = rel > 0 ? out[pos - 1] : 0;
        const base = LITERAL + 0x300 * (((rel & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          if (this.rep0 >= rel) throw new XzError(`distance ${this.rep0 + 1} beyond the ${rel} bytes decoded`);
          let match = out[pos - this.rep0 - 1];
          do {
            const mb = (match >>> 7) & 1;
            match <<= 1;
            const b = this.bit(base + ((1 + mb) << 8) + sym);
            sym = (sym << 1) | b;
            if (mb !== b) break;
          } while (sym < 0x100);
        }
        while (sym < 0x100) {
          // inline of bit(): the literal loop is the hottest path
          const i = base + sym;
          const p = probs[i];
          const bound = Math.imul(this.range >>> 11, p);
          if ((this.code ^ 0x80000000) < (bound ^ 0x80000000)) {
            this.range = bound;
            probs[i] = p + ((2048 - p) >>> 5);
            sym <<= 1;
          } else {
            this.range = (this.range - bound) | 0;
            this.code = (this.code - bound) | 0;
            probs[i] = p - (p >>> 5);
            sym = (sym << 1) | 1;
          }
          if ((this.range & 0xff000000) === 0) {
            if (this.ip >= this.inEnd) throw new XzError("compressed data ends early");
            this.range <<= 8;
            this.code = (this.code << 8) | this.inp[this.ip++];
          }
        }
        out[pos++] = sym & 0xff;
        state = state < 4 ? 0 : state < 10 ? state - 3 : state - 6;
        continue;
      }
      let len: number;
      if (this.bit(IS_REP + state) === 0) {
        len = this.len(LEN, posState);
        state = state < 7 ? 7 : 10;
        const ls = len < 3 ? len : 3;
        const slot = this.tree(POS_SLOT + ls * 64, 6);
        let dist: number;
        if (slot < 4) dist = slot;
        else {
          const nd = (slot >>> 1) - 1;
          dist = ((2 | (slot & 1)) << nd) >>> 0;
          if (slot < 14) dist += this.reverse(SPEC_POS + dist - slot, nd);
          else {
            dist = (dist + this.direct(nd - 4) * 16) >>> 0;
            dist = (dist + this.reverse(ALIGN, 4)) >>> 0;
          }
        }
        if (dist === 0xffffffff) {
          if (!allowEnd) throw new XzError("unexpected end marker");
          this.sawEnd = true;
          break;
        }
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        this.rep0 = dist;
      } else {
        if (this.bit(IS_REP_G0 + state) === 0) {
          if (this.bit(IS_REP0_LONG + (state << 4) + posState) === 0) {
            state = state < 7 ? 9 : 11;
            if (this.rep0 >= rel) throw new XzError(`distance ${this.rep0 + 1} beyond the ${rel} bytes decoded`);
            out[pos] = out[pos - this.rep0 - 1];
            pos++;
            continue;
          }
        } else {
          let d: number;
          if (this.bit(IS_REP_G1 + state) === 0) d = this.rep1;
          else {
            if (this.bit(IS_REP_G2 + state) === 0) d = this.rep2;
            else {
              d = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = d;
        }
        len = this.len(REP_LEN, posState);
        state = state < 7 ? 8 : 11;
      }
      const n = len + 2;
      const d = this.rep0 + 1;
      if (d > rel) throw new XzError(`distance ${d} beyond the ${rel} bytes decoded`);
      if (pos + n > end) throw new XzError(`match of ${n} bytes runs past the ${end - this.dictStart}-byte output`);
      let from = pos - d;
      if (d >= n) {
        out.copyWithin(pos, from, from + n);
        pos += n;
      } else for (let k = 0; k < n; k++) out[pos++] = out[from++];
    }
    this.pos = pos;
    this.state = state;
  }
}

/** Decode an LZMA2 stream from `ip` into the decoder's output; returns where the input ends. */
function lzma2(dec: Lzma, limit: number): void {
  const b = dec.inp;
  let needProps = true;
  let needDict = true;
  for (;;) {
    if (dec.ip >= dec.inEnd) throw new XzError("LZMA2 data ends early");
    const ctl = b[dec.ip++];
    if (ctl === 0) return;
    if (ctl === 1 || ctl === 2) {
      if (dec.ip + 2 > dec.inEnd) throw new XzError("LZMA2 data ends early");
      const n = ((b[dec.ip] << 8) | b[dec.ip + 1]) + 1;
      dec.ip += 2;
      if (ctl === 1) {
        dec.dictStart = dec.pos;
        needDict = false;
      } else if (needDict) throw new XzError("LZMA2 chunk without a dictionary reset");
      if (dec.ip + n > dec.inEnd) throw new XzError("LZMA2 data ends early");
      if (dec.pos + n > limit) throw new XzError(`output larger than ${limit} bytes`);
      dec.out.set(b.subarray(dec.ip, dec.ip + n), dec.pos);
      dec.pos += n;
      dec.ip += n;
      continue;
    }
    if (ctl < 0x80) throw new XzError(`bad LZMA2 control byte 0x${ctl.toString(16)}`);
    if (dec.ip + 4 > dec.inEnd) throw new XzError("LZMA2 data ends early");
    const unpacked = ((ctl & 0x1f) << 16) + ((b[dec.ip] << 8) | b[dec.ip + 1]) + 1;
    const packed = ((b[dec.ip + 2] << 8) | b[dec.ip + 3]) + 1;
    dec.ip += 4;
    const reset = (ctl >>> 5) & 3;
    if (reset === 3) {
      dec.dictStart = dec.pos;
      needDict = false;
    } else if (needDict) throw new XzError("LZMA2 chunk without a dictionary reset");
    if (reset >= 2) {
      if (dec.ip >= dec.inEnd) throw new XzError("LZMA2 data ends early");
      const p = b[dec.ip++];
      const lc = p % 9;
      const lp = ((p / 9) | 0) % 5;
      if (lc + lp > 4) throw new XzError("LZMA2 lc + lp above 4");
      dec.setProps(p);
      needProps = false;
    } else if (needProps) throw new XzError("LZMA2 chunk without properties");
    if (reset >= 1) dec.resetState();
    if (dec.pos + unpacked > limit) throw new XzError(`output larger than ${limit} bytes`);
    const chunkEnd = dec.ip + packed;
    if (chunkEnd > dec.inEnd) throw new XzError("LZMA2 data ends early");
    const saveEnd = dec.inEnd;
    dec.inEnd = chunkEnd;
    dec.rcInit();
    dec.run(dec.pos + unpacked, false);
    dec.inEnd = saveEnd;
    dec.ip = chunkEnd;
  }
}

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
