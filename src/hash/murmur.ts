/**
 * MurmurHash3 (Austin Appleby, public domain), bit-exact with ClickHouse
 * `murmurHash3_64` / `murmurHash3_32` and with Python `mmh3`.
 *
 * The x64_128 variant works on 64-bit lanes; here every 64-bit value is kept
 * as two int32 halves (hi, lo) and multiplied with Math.imul plus a 16-bit
 * split for the carry of the low product. No BigInt is touched until the
 * final result is built (one allocation, via a BigUint64Array slot). Strings are
 * UTF-8-encoded into a reused, growable scratch buffer, so no byte buffer is
 * allocated per call.
 */

const encoder = new TextEncoder();

/** Scratch buffer for UTF-8 encoding of string inputs; grows on demand up to SCRATCH_MAX. */
let scratch = new Uint8Array(4096);
const SCRATCH_MAX = 1 << 20;
/** Strings shorter than this are UTF-8-encoded by a JS loop (cheaper than the native encodeInto call
 * below about 12 characters). */
const JS_ENCODE_MAX = 12;

/**
 * UTF-8 encode `s` into the scratch buffer and return the byte length.
 * Lone surrogates become U+FFFD (EF BF BD), exactly like TextEncoder.
 * Returns -1 when the string does not fit the scratch buffer.
 */
function encodeToScratch(s: string): number {
  const n = s.length;
  if (n < JS_ENCODE_MAX) {
    // n < 12 code units -> at most 36 bytes, always fits.
    const out = scratch;
    let p = 0;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        out[p++] = c;
      } else if (c < 0x800) {
        out[p++] = 0xc0 | (c >>> 6);
        out[p++] = 0x80 | (c & 0x3f);
      } else {
        if (c >= 0xd800 && c <= 0xdfff) {
          const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
          if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
            c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
            i++;
            out[p++] = 0xf0 | (c >>> 18);
            out[p++] = 0x80 | ((c >>> 12) & 0x3f);
            out[p++] = 0x80 | ((c >>> 6) & 0x3f);
            out[p++] = 0x80 | (c & 0x3f);
            continue;
          }
          c = 0xfffd; // lone surrogate
        }
        out[p++] = 0xe0 | (c >>> 12);
        out[p++] = 0x80 | ((c >>> 6) & 0x3f);
        out[p++] = 0x80 | (c & 0x3f);
      }
    }
    return p;
  }
  const need = n * 3; // worst case UTF-8 size for UTF-16 input
  if (need > scratch.length) {
    if (need > SCRATCH_MAX) return -1;
    let size = scratch.length;
    while (size < need) size *= 2;
    scratch = new Uint8Array(size);
  }
  return encoder.encodeInto(s, scratch).written;
}

// 64-bit constants split into 32-bit halves.
const C1_HI = 0x87c37b91 | 0;
const C1_LO = 0x114253d5 | 0;
const C2_HI = 0x4cf5ad43 | 0;
const C2_LO = 0x2745937f | 0;
const F1_HI = 0xff51afd7 | 0;
const F1_LO = 0xed558ccd | 0;
const F2_HI = 0xc4ceb9fe | 0;
const F2_LO = 0x1a85ec53 | 0;

/*
 * 64-bit multiply x * c (mod 2^64) on int32 halves, with c a constant (cH:cL):
 *   lo = Math.imul(xL, cL)
 *   hi = mulhi32(xL, cL) + Math.imul(xL, cH) + Math.imul(xH, cL)        (mod 2^32)
 * where mulhi32(a, b), the high word of the unsigned 32x32 product, is computed exactly
 * in doubles from 16-bit halves a1:a0 and b1:b0 (every intermediate stays below 2^33):
 *   t = a0*b0;  m1 = a1*b0 + (t >>> 16);  m2 = a0*b1 + (m1 & 0xffff)
 *   mulhi32 = a1*b1 + (m1 >>> 16) + (m2 >>> 16)
 * It is inlined by hand below with the 16-bit halves of the constants as literals
 * (about 20% faster than a helper call in JSC). Constants:
 *   c1 = 0x87c37b91_114253d5   c2 = 0x4cf5ad43_2745937f
 *   fmix64: 0xff51afd7_ed558ccd, 0xc4ceb9fe_1a85ec53
 */

// Result registers of the x64_128 core (module-level so the core allocates nothing).
let R1H = 0;
let R1L = 0;
let R2H = 0;
let R2L = 0;

/**
 * MurmurHash3_x64_128 with seed 0 over data[0..len). Leaves h1 in (R1H, R1L)
 * and h2 in (R2H, R2L) as int32 halves.
 */
function x64core(d: Uint8Array, len: number): void {
  let h1h = 0, h1l = 0, h2h = 0, h2l = 0;
  let k1h = 0, k1l = 0, k2h = 0, k2l = 0;
  let th = 0, tl = 0;
  let a0 = 0, a1 = 0, t = 0, m1 = 0, m2 = 0;
  const nblocks = len >>> 4;
  const end = nblocks << 4;
  let i = 0;
  for (; i < end; i += 16) {
    k1l = d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24);
    k1h = d[i + 4] | (d[i + 5] << 8) | (d[i + 6] << 16) | (d[i + 7] << 24);
    k2l = d[i + 8] | (d[i + 9] << 8) | (d[i + 10] << 16) | (d[i + 11] << 24);
    k2h = d[i + 12] | (d[i + 13] << 8) | (d[i + 14] << 16) | (d[i + 15] << 24);

    // k1 *= c1
    a0 = k1l & 0xffff;
    a1 = k1l >>> 16;
    t = a0 * 0x53d5;
    m1 = a1 * 0x53d5 + (t >>> 16);
    m2 = a0 * 0x1142 + (m1 & 0xffff);
    th = (a1 * 0x1142 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k1l, C1_HI) + Math.imul(k1h, C1_LO)) | 0;
    tl = Math.imul(k1l, C1_LO);
    // k1 = rotl64(k1, 31) == swap halves, then rotate right by 1
    k1h = (th << 31) | (tl >>> 1);
    k1l = (tl << 31) | (th >>> 1);
    // k1 *= c2
    a0 = k1l & 0xffff;
    a1 = k1l >>> 16;
    t = a0 * 0x937f;
    m1 = a1 * 0x937f + (t >>> 16);
    m2 = a0 * 0x2745 + (m1 & 0xffff);
    th = (a1 * 0x2745 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k1l, C2_HI) + Math.imul(k1h, C2_LO)) | 0;
    tl = Math.imul(k1l, C2_LO);
    // h1 ^= k1
    h1h ^= th;
    h1l ^= tl;
    // h1 = rotl64(h1, 27)
    th = (h1h << 27) | (h1l >>> 5);
    tl = (h1l << 27) | (h1h >>> 5);
    // h1 += h2
    h1l = (tl + h2l) | 0;
    h1h = (th + h2h + ((h1l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;
    // h1 = h1 * 5 + 0x52dce729
    th = ((((h1l >>> 16) * 5 + (((h1l & 0xffff) * 5) >>> 16)) >>> 16) + Math.imul(h1h, 5)) | 0;
    tl = Math.imul(h1l, 5);
    h1l = (tl + 0x52dce729) | 0;
    h1h = (th + ((h1l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;

    // k2 *= c2
    a0 = k2l & 0xffff;
    a1 = k2l >>> 16;
    t = a0 * 0x937f;
    m1 = a1 * 0x937f + (t >>> 16);
    m2 = a0 * 0x2745 + (m1 & 0xffff);
    th = (a1 * 0x2745 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k2l, C2_HI) + Math.imul(k2h, C2_LO)) | 0;
    tl = Math.imul(k2l, C2_LO);
    // k2 = rotl64(k2, 33) == swap halves then rotl 1
    k2h = (tl << 1) | (th >>> 31);
    k2l = (th << 1) | (tl >>> 31);
    // k2 *= c1
    a0 = k2l & 0xffff;
    a1 = k2l >>> 16;
    t = a0 * 0x53d5;
    m1 = a1 * 0x53d5 + (t >>> 16);
    m2 = a0 * 0x1142 + (m1 & 0xffff);
    th = (a1 * 0x1142 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k2l, C1_HI) + Math.imul(k2h, C1_LO)) | 0;
    tl = Math.imul(k2l, C1_LO);
    // h2 ^= k2
    h2h ^= th;
    h2l ^= tl;
    // h2 = rotl64(h2, 31)
    th = (h2h << 31) | (h2l >>> 1);
    tl = (h2l << 31) | (h2h >>> 1);
    // h2 += h1
    h2l = (tl + h1l) | 0;
    h2h = (th + h1h + ((h2l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;
    // h2 = h2 * 5 + 0x38495ab5
    th = ((((h2l >>> 16) * 5 + (((h2l & 0xffff) * 5) >>> 16)) >>> 16) + Math.imul(h2h, 5)) | 0;
    tl = Math.imul(h2l, 5);
    h2l = (tl + 0x38495ab5) | 0;
    h2h = (th + ((h2l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;
  }

  // Tail.
  const rem = len & 15;
  if (rem > 0) {
    k1h = 0; k1l = 0; k2h = 0; k2l = 0;
    switch (rem) {
      case 15: k2h ^= d[i + 14] << 16; // falls through
      case 14: k2h ^= d[i + 13] << 8; // falls through
      case 13: k2h ^= d[i + 12]; // falls through
      case 12: k2l ^= d[i + 11] << 24; // falls through
      case 11: k2l ^= d[i + 10] << 16; // falls through
      case 10: k2l ^= d[i + 9] << 8; // falls through
      case 9: k2l ^= d[i + 8]; // falls through
      case 8: k1h ^= d[i + 7] << 24; // falls through
      case 7: k1h ^= d[i + 6] << 16; // falls through
      case 6: k1h ^= d[i + 5] << 8; // falls through
      case 5: k1h ^= d[i + 4]; // falls through
      case 4: k1l ^= d[i + 3] << 24; // falls through
      case 3: k1l ^= d[i + 2] << 16; // falls through
      case 2: k1l ^= d[i + 1] << 8; // falls through
      case 1: k1l ^= d[i];
    }
    if (rem > 8) {
      a0 = k2l & 0xffff;
      a1 = k2l >>> 16;
      t = a0 * 0x937f;
      m1 = a1 * 0x937f + (t >>> 16);
      m2 = a0 * 0x2745 + (m1 & 0xffff);
      th = (a1 * 0x2745 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k2l, C2_HI) + Math.imul(k2h, C2_LO)) | 0;
      tl = Math.imul(k2l, C2_LO);
      k2h = (tl << 1) | (th >>> 31);
      k2l = (th << 1) | (tl >>> 31);
      a0 = k2l & 0xffff;
      a1 = k2l >>> 16;
      t = a0 * 0x53d5;
      m1 = a1 * 0x53d5 + (t >>> 16);
      m2 = a0 * 0x1142 + (m1 & 0xffff);
      th = (a1 * 0x1142 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k2l, C1_HI) + Math.imul(k2h, C1_LO)) | 0;
      tl = Math.imul(k2l, C1_LO);
      h2h ^= th;
      h2l ^= tl;
    }
    a0 = k1l & 0xffff;
    a1 = k1l >>> 16;
    t = a0 * 0x53d5;
    m1 = a1 * 0x53d5 + (t >>> 16);
    m2 = a0 * 0x1142 + (m1 & 0xffff);
    th = (a1 * 0x1142 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k1l, C1_HI) + Math.imul(k1h, C1_LO)) | 0;
    tl = Math.imul(k1l, C1_LO);
    k1h = (th << 31) | (tl >>> 1);
    k1l = (tl << 31) | (th >>> 1);
    a0 = k1l & 0xffff;
    a1 = k1l >>> 16;
    t = a0 * 0x937f;
    m1 = a1 * 0x937f + (t >>> 16);
    m2 = a0 * 0x2745 + (m1 & 0xffff);
    th = (a1 * 0x2745 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(k1l, C2_HI) + Math.imul(k1h, C2_LO)) | 0;
    tl = Math.imul(k1l, C2_LO);
    h1h ^= th;
    h1l ^= tl;
  }

  // Finalization: h ^= len (64-bit length).
  h1l ^= len;
  h2l ^= len;
  if (len > 0xffffffff) {
    const lh = Math.floor(len / 4294967296) | 0;
    h1h ^= lh;
    h2h ^= lh;
  }
  // h1 += h2
  tl = h1l;
  h1l = (h1l + h2l) | 0;
  h1h = (h1h + h2h + ((h1l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;
  // h2 += h1
  tl = h2l;
  h2l = (h2l + h1l) | 0;
  h2h = (h2h + h1h + ((h2l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;

  // fmix64(h1)
  h1l ^= h1h >>> 1; // k ^= k >>> 33
  a0 = h1l & 0xffff;
  a1 = h1l >>> 16;
  t = a0 * 0x8ccd;
  m1 = a1 * 0x8ccd + (t >>> 16);
  m2 = a0 * 0xed55 + (m1 & 0xffff);
  th = (a1 * 0xed55 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(h1l, F1_HI) + Math.imul(h1h, F1_LO)) | 0;
  tl = Math.imul(h1l, F1_LO);
  h1h = th;
  h1l = tl ^ (th >>> 1);
  a0 = h1l & 0xffff;
  a1 = h1l >>> 16;
  t = a0 * 0xec53;
  m1 = a1 * 0xec53 + (t >>> 16);
  m2 = a0 * 0x1a85 + (m1 & 0xffff);
  th = (a1 * 0x1a85 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(h1l, F2_HI) + Math.imul(h1h, F2_LO)) | 0;
  tl = Math.imul(h1l, F2_LO);
  h1h = th;
  h1l = tl ^ (th >>> 1);

  // fmix64(h2)
  h2l ^= h2h >>> 1;
  a0 = h2l & 0xffff;
  a1 = h2l >>> 16;
  t = a0 * 0x8ccd;
  m1 = a1 * 0x8ccd + (t >>> 16);
  m2 = a0 * 0xed55 + (m1 & 0xffff);
  th = (a1 * 0xed55 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(h2l, F1_HI) + Math.imul(h2h, F1_LO)) | 0;
  tl = Math.imul(h2l, F1_LO);
  h2h = th;
  h2l = tl ^ (th >>> 1);
  a0 = h2l & 0xffff;
  a1 = h2l >>> 16;
  t = a0 * 0xec53;
  m1 = a1 * 0xec53 + (t >>> 16);
  m2 = a0 * 0x1a85 + (m1 & 0xffff);
  th = (a1 * 0x1a85 + (m1 >>> 16) + (m2 >>> 16) + Math.imul(h2l, F2_HI) + Math.imul(h2h, F2_LO)) | 0;
  tl = Math.imul(h2l, F2_LO);
  h2h = th;
  h2l = tl ^ (th >>> 1);

  // h1 += h2
  tl = h1l;
  h1l = (h1l + h2l) | 0;
  h1h = (h1h + h2h + ((h1l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;
  // h2 += h1
  tl = h2l;
  h2l = (h2l + h1l) | 0;
  h2h = (h2h + h1h + ((h2l >>> 0) < (tl >>> 0) ? 1 : 0)) | 0;

  R1H = h1h;
  R1L = h1l;
  R2H = h2h;
  R2L = h2l;
}

/** Run the x64 core on a string or byte input. */
function x64input(data: Uint8Array | string): void {
  if (typeof data === "string") {
    const len = encodeToScratch(data);
    if (len >= 0) x64core(scratch, len);
    else {
      const b = encoder.encode(data);
      x64core(b, b.length);
    }
  } else {
    x64core(data, data.length);
  }
}

// Builds the result bigint from two uint32 words with one allocation (BigInt shifts cost 3).
const OUT32 = new Uint32Array(2);
const OUT64 = new BigUint64Array(OUT32.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const OUT_LO = LITTLE_ENDIAN ? 0 : 1;
const OUT_HI = LITTLE_ENDIAN ? 1 : 0;

/**
 * MurmurHash3_x64_128 (seed 0), halves h1 and h2 XORed, as an unsigned 64-bit bigint.
 * Equal to ClickHouse `murmurHash3_64(String)` and to altrepodb's `mmhash()`.
 * Strings are hashed as their UTF-8 bytes (lone surrogates as U+FFFD, like TextEncoder).
 */
export function mmhash(data: Uint8Array | string): bigint {
  x64input(data);
  OUT32[OUT_LO] = R1L ^ R2L;
  OUT32[OUT_HI] = R1H ^ R2H;
  return OUT64[0];
}

/**
 * The two unsigned 64-bit halves (h1, h2) of MurmurHash3_x64_128 with seed 0,
 * i.e. `mmh3.hash64(data, signed=False)`.
 */
export function murmur128(data: Uint8Array | string): [bigint, bigint] {
  x64input(data);
  return [
    (BigInt(R1H >>> 0) << 32n) | BigInt(R1L >>> 0),
    (BigInt(R2H >>> 0) << 32n) | BigInt(R2L >>> 0),
  ];
}

const C32_1 = 0xcc9e2d51 | 0;
const C32_2 = 0x1b873593 | 0;

function x86core32(d: Uint8Array, len: number): number {
  let h = 0;
  let k = 0;
  const end = len & ~3;
  let i = 0;
  for (; i < end; i += 4) {
    k = d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24);
    k = Math.imul(k, C32_1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C32_2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  k = 0;
  switch (len & 3) {
    case 3: k ^= d[i + 2] << 16; // falls through
    case 2: k ^= d[i + 1] << 8; // falls through
    case 1:
      k ^= d[i];
      k = Math.imul(k, C32_1);
      k = (k << 15) | (k >>> 17);
      k = Math.imul(k, C32_2);
      h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * MurmurHash3_x86_32 (seed 0) as an unsigned 32-bit number.
 * Equal to ClickHouse `murmurHash3_32` and `mmh3.hash(data, signed=False)`.
 */
export function murmur32(data: Uint8Array | string): number {
  if (typeof data === "string") {
    const len = encodeToScratch(data);
    if (len >= 0) return x86core32(scratch, len);
    const b = encoder.encode(data);
    return x86core32(b, b.length);
  }
  return x86core32(data, data.length);
}
