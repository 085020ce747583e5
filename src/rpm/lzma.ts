/**
 * In-process decoder for .xz (LZMA2 filter only) and legacy .lzma ("alone") streams, so that a
 * small payload is read without spawning `xz` (a process per source package was most of a
 * repository load's CPU time). Output comes in pieces, so a caller that has what it needs (the
 * spec) stops decoding there. Streams with other filters (BCJ, delta) are refused with
 * LzmaUnsupported before any output: the caller then uses the `xz` tool.
 * Follows the LZMA specification (LZMA SDK, lzma-specification.txt) and the .xz file format 1.1.
 */

export class LzmaUnsupported extends Error {}
export class LzmaCorrupt extends Error {}

const PROB_INIT = 1024;
const STATES = 12;
const POS_STATES_MAX = 16;

class RangeDecoder {
  range = 0;
  code = 0;
  pos = 0;
  end = 0;
  constructor(private readonly buf: Uint8Array) {}

  init(pos: number, end: number): void {
    this.pos = pos;
    this.end = end;
    if (pos + 5 > end || this.buf[pos] !== 0) throw new LzmaCorrupt("bad range coder start");
    this.code = ((this.buf[pos + 1] << 24) | (this.buf[pos + 2] << 16) | (this.buf[pos + 3] << 8) | this.buf[pos + 4]) >>> 0;
    this.range = 0xffffffff;
    this.pos = pos + 5;
    if (this.code === this.range) throw new LzmaCorrupt("bad range coder start");
  }

  private next(): number {
    if (this.pos >= this.end) throw new LzmaCorrupt("compressed data ends early");
    return this.buf[this.pos++];
  }

  bit(probs: Uint16Array, i: number): number {
    const p = probs[i];
    const bound = (this.range >>> 11) * p;
    let b: number;
    if (this.code < bound) {
      this.range = bound;
      probs[i] = p + ((2048 - p) >>> 5);
      b = 0;
    } else {
      this.range = (this.range - bound) >>> 0;
      this.code = (this.code - bound) >>> 0;
      probs[i] = p - (p >>> 5);
      b = 1;
    }
    if (this.range < 0x1000000) {
      this.range = (this.range << 8) >>> 0;
      this.code = ((this.code << 8) | this.next()) >>> 0;
    }
    return b;
  }

  direct(n: number): number {
    let res = 0;
    for (let i = 0; i < n; i++) {
      this.range >>>= 1;
      let b = 0;
      if (this.code >= this.range) {
        this.code = (this.code - this.range) >>> 0;
        b = 1;
      }
      res = ((res << 1) | b) >>> 0;
      if (this.range < 0x1000000) {
        this.range = (this.range << 8) >>> 0;
        this.code = ((this.code << 8) | this.next()) >>> 0;
      }
    }
    return res;
  }

  tree(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    for (let i = 0; i < bits; i++) m = (m << 1) | this.bit(probs, base + m);
    return m - (1 << bits);
  }

  reverse(probs: Uint16Array, base: number, bits: number): number {
    let m = 1;
    let sym = 0;
    for (let i = 0; i < bits; i++) {
      const b = this.bit(probs, base + m);
      m = (m << 1) | b;
      sym |= b << i;
    }
    return sym;
  }
}

/** Length coder: choice, choice2, low[16][8], mid[16][8], high[256]. */
const LEN_CHOICE = 0;
const LEN_CHOICE2 = 1;
const LEN_LOW = 2;
const LEN_MID = LEN_LOW + POS_STATES_MAX * 8;
const LEN_HIGH = LEN_MID + POS_STATES_MAX * 8;
const LEN_SIZE = LEN_HIGH + 256;

function decodeLen(rc: RangeDecoder, p: Uint16Array, posState: number): number {
  if (rc.bit(p, LEN_CHOICE) === 0) return rc.tree(p, LEN_LOW + posState * 8, 3);
  if (rc.bit(p, LEN_CHOICE2) === 0) return 8 + rc.tree(p, LEN_MID + posState * 8, 3);
  return 16 + rc.tree(p, LEN_HIGH, 8);
}

/** The LZMA decoder state and its output window (grown up to the dictionary size, then circular). */
class LzmaDecoder {
  lc = 0;
  lp = 0;
  pb = 0;
  private lit = new Uint16Array(0x300 << 3);
  private readonly isMatch = new Uint16Array(STATES << 4);
  private readonly isRep = new Uint16Array(STATES);
  private readonly isRepG0 = new Uint16Array(STATES);
  private readonly isRepG1 = new Uint16Array(STATES);
  private readonly isRepG2 = new Uint16Array(STATES);
  private readonly isRep0Long = new Uint16Array(STATES << 4);
  private readonly posSlot = new Uint16Array(4 << 6);
  private readonly posDec = new Uint16Array(115);
  private readonly align = new Uint16Array(16);
  private readonly lenDec = new Uint16Array(LEN_SIZE);
  private readonly repLenDec = new Uint16Array(LEN_SIZE);
  state = 0;
  rep0 = 0;
  rep1 = 0;
  rep2 = 0;
  rep3 = 0;
  /** Pending match bytes left over when the output budget ran out. */
  private pendingLen = 0;

  win: Uint8Array;
  /** Write position in `win`; bytes before it (since `flushed`) are new output. */
  pos = 0;
  flushed = 0;
  /** Bytes written since the last dictionary reset (capped use: "is there a byte at distance d"). */
  total = 0;
  full = false;

  constructor(readonly dictSize: number) {
    this.win = new Uint8Array(Math.min(dictSize, 1 << 16)); // grown on demand: most payloads are small
  }

  setProps(props: number): void {
    if (props > 224) throw new LzmaCorrupt("bad LZMA properties");
    this.lc = props % 9;
    props = Math.floor(props / 9);
    this.lp = props % 5;
    this.pb = Math.floor(props / 5);
    const need = 0x300 << (this.lc + this.lp);
    if (this.lit.length !== need) this.lit = new Uint16Array(need);
  }

  resetState(): void {
    for (const a of [this.lit, this.isMatch, this.isRep, this.isRepG0, this.isRepG1, this.isRepG2, this.isRep0Long, this.posSlot, this.posDec, this.align, this.lenDec, this.repLenDec]) a.fill(PROB_INIT);
    this.state = 0;
    this.rep0 = this.rep1 = this.rep2 = this.rep3 = 0;
    this.pendingLen = 0;
  }

  resetDict(): void {
    this.total = 0;
  }

  /** Room for one more byte: grow while below the dictionary size, else wrap (after a flush). */
  private room(): void {
    if (this.pos < this.win.length) return;
    if (this.win.length < this.dictSize) {
      const bigger = new Uint8Array(Math.min(this.dictSize, this.win.length * 2));
      bigger.set(this.win);
      this.win = bigger;
      return;
    }
    this.full = true;
    this.pos = 0;
    this.flushed = 0;
  }

  /** True when the window must be flushed before writing on (it is about to wrap). */
  needsFlush(): boolean {
    return this.pos >= this.win.length && this.win.length >= this.dictSize && this.flushed < this.pos;
  }

  put(b: number): void {
    if (this.pos >= this.win.length) this.room();
    this.win[this.pos++] = b;
    this.total++;
  }

  private byteAt(dist: number): number {
    let i = this.pos - dist - 1;
    if (i < 0) i += this.win.length;
    return this.win[i];
  }

  /** Copies stored bytes until `n` or a needed flush; returns how many. */
  copyRaw(src: Uint8Array, from: number, n: number): number {
    for (let i = 0; i < n; i++) {
      if (this.needsFlush()) return i;
      this.put(src[from + i]);
    }
    return n;
  }

  private copyMatch(len: number, budget: number): number {
    const n = Math.min(len, budget);
    const src = this.pos - this.rep0 - 1;
    if (src >= 0 && this.pos + n <= this.win.length) {
      // the common case: source and destination inside the window, no wrap
      const w = this.win;
      let d = this.pos;
      for (let i = 0; i < n; i++) w[d++] = w[src + i];
      this.pos = d;
      this.total += n;
      this.pendingLen = len - n;
      return n;
    }
    for (let i = 0; i < n; i++) {
      if (this.needsFlush()) {
        this.pendingLen = len - i;
        return i;
      }
      this.put(this.byteAt(this.rep0));
    }
    this.pendingLen = len - n;
    return n;
  }

  /**
   * Decodes until `limit` bytes were produced in this call, `stopAt` bytes in total for the
   * chunk (LZMA2), the end marker, or a flush is needed. Returns bytes produced and whether
   * the end marker was seen.
   */
  decode(rc: RangeDecoder, limit: number, allowEndMarker: boolean): { produced: number; end: boolean } {
    let produced = 0;
    if (this.pendingLen > 0) produced += this.copyMatch(this.pendingLen, limit);
    const pbMask = (1 << this.pb) - 1;
    const lpMask = (1 << this.lp) - 1;
    while (produced < limit) {
      if (this.needsFlush()) return { produced, end: false };
      const posState = this.total & pbMask;
      const st = this.state;
      if (rc.bit(this.isMatch, (st << 4) + posState) === 0) {
        const prev = this.total > 0 ? this.byteAt(0) : 0;
        const base = 0x300 * (((this.total & lpMask) << this.lc) + (prev >>> (8 - this.lc)));
        let sym = 1;
        if (st >= 7) {
          let match = this.byteAt(this.rep0);
          do {
            const mb = (match >>> 7) & 1;
            match <<= 1;
            const b = rc.bit(this.lit, base + ((1 + mb) << 8) + sym);
            sym = (sym << 1) | b;
            if (mb !== b) break;
          } while (sym < 0x100);
        }
        while (sym < 0x100) sym = (sym << 1) | rc.bit(this.lit, base + sym);
        this.put(sym - 0x100);
        produced++;
        this.state = st < 4 ? 0 : st < 10 ? st - 3 : st - 6;
        continue;
      }
      let len: number;
      if (rc.bit(this.isRep, st) !== 0) {
        if (this.total === 0) throw new LzmaCorrupt("repeated match before any data");
        if (rc.bit(this.isRepG0, st) === 0) {
          if (rc.bit(this.isRep0Long, (st << 4) + posState) === 0) {
            this.state = st < 7 ? 9 : 11;
            this.put(this.byteAt(this.rep0));
            produced++;
            continue;
          }
        } else {
          let dist: number;
          if (rc.bit(this.isRepG1, st) === 0) dist = this.rep1;
          else {
            if (rc.bit(this.isRepG2, st) === 0) dist = this.rep2;
            else {
              dist = this.rep3;
              this.rep3 = this.rep2;
            }
            this.rep2 = this.rep1;
          }
          this.rep1 = this.rep0;
          this.rep0 = dist;
        }
        len = decodeLen(rc, this.repLenDec, posState);
        this.state = st < 7 ? 8 : 11;
      } else {
        this.rep3 = this.rep2;
        this.rep2 = this.rep1;
        this.rep1 = this.rep0;
        len = decodeLen(rc, this.lenDec, posState);
        this.state = st < 7 ? 7 : 10;
        this.rep0 = this.distance(rc, len);
        if (this.rep0 === 0xffffffff) {
          if (!allowEndMarker) throw new LzmaCorrupt("end marker inside an LZMA2 chunk");
          return { produced, end: true };
        }
        if (this.rep0 >= this.total || this.rep0 >= this.dictSize) throw new LzmaCorrupt("match distance beyond the data");
      }
      produced += this.copyMatch(len + 2, limit - produced);
    }
    return { produced, end: false };
  }

  private distance(rc: RangeDecoder, len: number): number {
    const lenState = len < 3 ? len : 3;
    const slot = rc.tree(this.posSlot, lenState << 6, 6);
    if (slot < 4) return slot;
    const nd = (slot >>> 1) - 1;
    let dist = ((2 | (slot & 1)) << nd) >>> 0;
    if (slot < 14) return (dist + rc.reverse(this.posDec, dist - slot, nd)) >>> 0;
    dist = (dist + (rc.direct(nd - 4) << 4)) >>> 0;
    return (dist + rc.reverse(this.align, 0, 4)) >>> 0;
  }

  /** The new output since the last call (a copy). */
  take(): Uint8Array {
    const out = this.win.slice(this.flushed, this.pos);
    this.flushed = this.pos;
    return out;
  }
}

const OUT_STEP = 64 * 1024;

function dictFromLzma2Prop(b: number): number {
  if (b > 40) throw new LzmaCorrupt("bad LZMA2 dictionary size");
  if (b === 40) return 0xffffffff;
  return (2 | (b & 1)) * 2 ** (Math.floor(b / 2) + 11);
}

function readVarint(buf: Uint8Array, p: { pos: number }): number {
  let v = 0;
  let shift = 0;
  for (let i = 0; i < 9; i++) {
    const b = buf[p.pos++];
    if (b === undefined) throw new LzmaCorrupt("truncated");
    v += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return v;
    shift += 7;
  }
  throw new LzmaCorrupt("bad varint");
}

const CHECK_SIZES = [0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64];

/** The .xz stream's blocks' LZMA2 dictionary sizes; throws LzmaUnsupported for other filters. */
function xzBlockHeader(buf: Uint8Array, at: number): { dictSize: number; dataStart: number } {
  const size = (buf[at] + 1) * 4;
  if (at + size > buf.length) throw new LzmaCorrupt("truncated block header");
  const flags = buf[at + 1];
  const p = { pos: at + 2 };
  if (flags & 0x3c) throw new LzmaUnsupported("reserved block flags");
  if ((flags & 3) !== 0) throw new LzmaUnsupported("more than one filter (BCJ or delta)");
  if (flags & 0x40) readVarint(buf, p);
  if (flags & 0x80) readVarint(buf, p);
  const id = readVarint(buf, p);
  const propSize = readVarint(buf, p);
  if (id !== 0x21 || propSize !== 1) throw new LzmaUnsupported(`filter 0x${id.toString(16)}`);
  return { dictSize: dictFromLzma2Prop(buf[p.pos]), dataStart: at + size };
}

/**
 * Decoded output of .xz data (concatenated streams, as genbasedir writes big lists) in pieces
 * of about 64 KiB. The first stream's headers are checked at the call: LzmaUnsupported and
 * LzmaCorrupt are thrown from it before any piece is produced.
 */
export function xzDecoder(buf: Uint8Array): Generator<Uint8Array> {
  const first = streamHeader(buf, 0);
  return xzStreams(buf, first);
}

function streamHeader(buf: Uint8Array, at: number): { checkSize: number; block?: { dictSize: number; dataStart: number } } {
  const b = buf.subarray(at);
  if (b.length < 24 || b[0] !== 0xfd || b[1] !== 0x37 || b[2] !== 0x7a || b[3] !== 0x58 || b[4] !== 0x5a || b[5] !== 0) throw new LzmaCorrupt("not an xz stream");
  if (b[6] !== 0 || b[7] > 15) throw new LzmaUnsupported("unknown stream flags");
  return { checkSize: CHECK_SIZES[b[7]], block: b[12] === 0 ? undefined : xzBlockHeader(buf, at + 12) };
}

function* xzStreams(buf: Uint8Array, first: ReturnType<typeof streamHeader>): Generator<Uint8Array> {
  let at = 12;
  let stream = first;
  for (;;) {
    let block = stream.block;
    while (block) {
      const lz = new LzmaDecoder(block.dictSize);
      const end: number = yield* lzma2Chunks(buf, block.dataStart, lz);
      if (lz.pos > lz.flushed) yield lz.take();
      let p = end;
      while ((p - at) % 4) p++;
      p += stream.checkSize;
      at = p;
      if (p >= buf.length) throw new LzmaCorrupt("truncated after a block");
      block = buf[p] === 0 ? undefined : xzBlockHeader(buf, p);
    }
    // index: indicator, record count, records, padding, CRC32; then the 12-byte footer
    const q = { pos: at + 1 };
    const records = readVarint(buf, q);
    for (let i = 0; i < records * 2; i++) readVarint(buf, q);
    while ((q.pos - at) % 4) q.pos++;
    let p = q.pos + 4 + 12;
    if (p > buf.length) throw new LzmaCorrupt("truncated stream footer");
    while (p + 4 <= buf.length && buf[p] === 0 && buf[p + 1] === 0 && buf[p + 2] === 0 && buf[p + 3] === 0) p += 4; // stream padding
    if (p >= buf.length) return;
    stream = streamHeader(buf, p);
    at = p + 12;
  }
}

function* lzma2Chunks(buf: Uint8Array, p: number, lz: LzmaDecoder): Generator<Uint8Array, number> {
  const rc = new RangeDecoder(buf);
  let needDictReset = true;
  let needProps = true;
  for (;;) {
    if (p >= buf.length) throw new LzmaCorrupt("truncated LZMA2 data");
    const control = buf[p];
    if (control === 0) return p + 1;
    if (control === 1 || control === 2) {
      if (p + 3 > buf.length) throw new LzmaCorrupt("truncated LZMA2 chunk");
      const n = ((buf[p + 1] << 8) | buf[p + 2]) + 1;
      if (p + 3 + n > buf.length) throw new LzmaCorrupt("truncated LZMA2 chunk");
      if (control === 1) (lz.resetDict(), (needDictReset = false));
      else if (needDictReset) throw new LzmaCorrupt("LZMA2 data without a dictionary reset");
      for (let o = 0; o < n; ) {
        o += lz.copyRaw(buf, p + 3 + o, Math.min(n - o, OUT_STEP));
        if (lz.needsFlush() || lz.pos - lz.flushed >= OUT_STEP) yield lz.take();
      }
      p += 3 + n;
      continue;
    }
    if (control < 0x80) throw new LzmaCorrupt(`bad LZMA2 control byte 0x${control.toString(16)}`);
    if (p + 5 > buf.length) throw new LzmaCorrupt("truncated LZMA2 chunk");
    const unpacked = (control & 0x1f) * 65536 + ((buf[p + 1] << 8) | buf[p + 2]) + 1;
    const packed = ((buf[p + 3] << 8) | buf[p + 4]) + 1;
    const reset = (control >>> 5) & 3;
    p += 5;
    if (reset === 3) (lz.resetDict(), (needDictReset = false));
    else if (needDictReset) throw new LzmaCorrupt("LZMA2 data without a dictionary reset");
    if (reset >= 2) {
      lz.setProps(buf[p++]);
      needProps = false;
    } else if (needProps) throw new LzmaCorrupt("LZMA2 chunk without properties");
    if (reset >= 1) lz.resetState();
    rc.init(p, p + packed);
    let left = unpacked;
    while (left > 0) {
      if (lz.needsFlush()) yield lz.take();
      const r = lz.decode(rc, Math.min(left, OUT_STEP), false);
      left -= r.produced;
      if (lz.pos - lz.flushed >= OUT_STEP) yield lz.take();
    }
    p += packed;
  }
}

/** Decoded output of a legacy .lzma ("alone") stream, in pieces of about 64 KiB. */
export function lzmaAloneDecoder(buf: Uint8Array): Generator<Uint8Array> {
  if (buf.length < 18) throw new LzmaCorrupt("truncated lzma header");
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dictSize = Math.max(4096, dv.getUint32(1, true));
  const lo = dv.getUint32(5, true);
  const hi = dv.getUint32(9, true);
  const known = !(lo === 0xffffffff && hi === 0xffffffff);
  const size = known ? hi * 2 ** 32 + lo : Infinity;
  const lz = new LzmaDecoder(dictSize);
  lz.setProps(buf[0]);
  lz.resetState();
  const rc = new RangeDecoder(buf);
  rc.init(13, buf.length);
  return (function* () {
    let left = size;
    while (left > 0) {
      if (lz.needsFlush()) yield lz.take();
      const r = lz.decode(rc, Math.min(left, OUT_STEP), true);
      left -= r.produced;
      if (r.end) break;
      if (lz.pos - lz.flushed >= OUT_STEP) yield lz.take();
    }
    if (lz.pos > lz.flushed) yield lz.take();
  })();
}
