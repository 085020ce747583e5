/**
 * The LZMA and LZMA2 decoding core of src/compress/xz.ts: a range decoder and the LZMA symbol
 * decoder writing into one output buffer that is also the dictionary (data is decoded whole:
 * a squashfs block, a small rpm payload), and the LZMA2 chunk layer above it. The buffer is
 * either allocated at its final size by the caller or grown on demand up to `max` bytes. Every
 * distance is checked against the bytes decoded since the last dictionary reset, every length
 * against the output's end, every input byte against the input's end.
 */

/** Damaged or truncated data, or output past the caller's limit. */
export class LzmaCorrupt extends Error {
  override name = "LzmaCorrupt";
}

/** Well-formed data this decoder does not read (a filter, flags): a caller may use the `xz` tool. */
export class LzmaUnsupported extends Error {
  override name = "LzmaUnsupported";
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

export class Lzma {
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
    public out: Uint8Array,
    /** The size `out` may grow to (its own length: never grown). */
    readonly max: number = out.length,
  ) {}

  /** `out` with room for `n` bytes (grown, doubling, up to `max`). */
  ensure(n: number): Uint8Array {
    if (n <= this.out.length) return this.out;
    if (n > this.max) throw new LzmaCorrupt(`output larger than ${this.max} bytes`);
    const bigger = new Uint8Array(Math.min(this.max, Math.max(n, this.out.length * 2)));
    bigger.set(this.out.subarray(0, this.pos));
    this.out = bigger;
    return bigger;
  }

  setProps(b: number): void {
    if (b >= 9 * 5 * 5) throw new LzmaCorrupt(`bad LZMA properties byte ${b}`);
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
    if (this.ip + 5 > this.inEnd) throw new LzmaCorrupt("truncated range coder start");
    if (this.inp[this.ip] !== 0) throw new LzmaCorrupt("bad range coder start byte");
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
      if (this.ip >= this.inEnd) throw new LzmaCorrupt("compressed data ends early");
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
        if (this.ip >= this.inEnd) throw new LzmaCorrupt("compressed data ends early");
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
    for (;;) {
      this.runTo(end, allowEnd);
      if (this.sawEnd || this.pos >= end) return;
      this.ensure(this.pos + 1);
    }
  }

  /** Decode until `end`, the end of `out` or the end marker, whichever comes first. */
  private runTo(end: number, allowEnd: boolean): void {
    let out = this.out;
    let stop = Math.min(end, out.length);
    const probs = this.probs;
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    const lc = this.lc;
    let pos = this.pos;
    let state = this.state;
    while (pos < stop) {
      const rel = pos - this.dictStart;
      const posState = rel & pbMask;
      if (this.bit(IS_MATCH + (state << 4) + posState) === 0) {
        const prev = rel > 0 ? out[pos - 1] : 0;
        const base = LITERAL + 0x300 * (((rel & lpMask) << lc) + (prev >>> (8 - lc)));
        let sym = 1;
        if (state >= 7) {
          if (this.rep0 >= rel) throw new LzmaCorrupt(`distance ${this.rep0 + 1} beyond the ${rel} bytes decoded`);
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
            if (this.ip >= this.inEnd) throw new LzmaCorrupt("compressed data ends early");
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
          if (!allowEnd) throw new LzmaCorrupt("unexpected end marker");
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
            if (this.rep0 >= rel) throw new LzmaCorrupt(`distance ${this.rep0 + 1} beyond the ${rel} bytes decoded`);
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
      if (d > rel) throw new LzmaCorrupt(`distance ${d} beyond the ${rel} bytes decoded`);
      if (pos + n > stop) {
        if (pos + n > end) throw new LzmaCorrupt(`match of ${n} bytes runs past the ${end - this.dictStart}-byte output`);
        this.pos = pos;
        out = this.ensure(pos + n);
        stop = Math.min(end, out.length);
      }
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
export function lzma2(dec: Lzma, limit: number): void {
  const b = dec.inp;
  let needProps = true;
  let needDict = true;
  for (;;) {
    if (dec.ip >= dec.inEnd) throw new LzmaCorrupt("LZMA2 data ends early");
    const ctl = b[dec.ip++];
    if (ctl === 0) return;
    if (ctl === 1 || ctl === 2) {
      if (dec.ip + 2 > dec.inEnd) throw new LzmaCorrupt("LZMA2 data ends early");
      const n = ((b[dec.ip] << 8) | b[dec.ip + 1]) + 1;
      dec.ip += 2;
      if (ctl === 1) {
        dec.dictStart = dec.pos;
        needDict = false;
      } else if (needDict) throw new LzmaCorrupt("LZMA2 chunk without a dictionary reset");
      if (dec.ip + n > dec.inEnd) throw new LzmaCorrupt("LZMA2 data ends early");
      if (dec.pos + n > limit) throw new LzmaCorrupt(`output larger than ${limit} bytes`);
      dec.ensure(dec.pos + n).set(b.subarray(dec.ip, dec.ip + n), dec.pos);
      dec.pos += n;
      dec.ip += n;
      continue;
    }
    if (ctl < 0x80) throw new LzmaCorrupt(`bad LZMA2 control byte 0x${ctl.toString(16)}`);
    if (dec.ip + 4 > dec.inEnd) throw new LzmaCorrupt("LZMA2 data ends early");
    const unpacked = ((ctl & 0x1f) << 16) + ((b[dec.ip] << 8) | b[dec.ip + 1]) + 1;
    const packed = ((b[dec.ip + 2] << 8) | b[dec.ip + 3]) + 1;
    dec.ip += 4;
    const reset = (ctl >>> 5) & 3;
    if (reset === 3) {
      dec.dictStart = dec.pos;
      needDict = false;
    } else if (needDict) throw new LzmaCorrupt("LZMA2 chunk without a dictionary reset");
    if (reset >= 2) {
      if (dec.ip >= dec.inEnd) throw new LzmaCorrupt("LZMA2 data ends early");
      const p = b[dec.ip++];
      const lc = p % 9;
      const lp = ((p / 9) | 0) % 5;
      if (lc + lp > 4) throw new LzmaCorrupt("LZMA2 lc + lp above 4");
      dec.setProps(p);
      needProps = false;
    } else if (needProps) throw new LzmaCorrupt("LZMA2 chunk without properties");
    if (reset >= 1) dec.resetState();
    if (dec.pos + unpacked > limit) throw new LzmaCorrupt(`output larger than ${limit} bytes`);
    dec.ensure(dec.pos + unpacked);
    const chunkEnd = dec.ip + packed;
    if (chunkEnd > dec.inEnd) throw new LzmaCorrupt("LZMA2 data ends early");
    const saveEnd = dec.inEnd;
    dec.inEnd = chunkEnd;
    dec.rcInit();
    dec.run(dec.pos + unpacked, false);
    dec.inEnd = saveEnd;
    dec.ip = chunkEnd;
  }
}

