/**
 * Straightforward BigInt MurmurHash3 (x64_128 and x86_32), transcribed from the
 * reference C++ (MurmurHash3.cpp). Slow on purpose: an independent oracle for the tests
 * and the baseline for bench/hash.ts.
 */
const M64 = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;

const rotl64 = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & M64;
function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & M64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & M64;
  k ^= k >> 33n;
  return k;
}
function getblock64(d: Uint8Array, o: number): bigint {
  let v = 0n;
  for (let j = 7; j >= 0; j--) v = (v << 8n) | BigInt(d[o + j]);
  return v;
}

export function refMurmur128(data: Uint8Array | string): [bigint, bigint] {
  const d = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const len = d.length;
  const nblocks = Math.floor(len / 16);
  let h1 = 0n;
  let h2 = 0n;
  for (let i = 0; i < nblocks; i++) {
    let k1 = getblock64(d, i * 16);
    let k2 = getblock64(d, i * 16 + 8);
    k1 = (k1 * C1) & M64; k1 = rotl64(k1, 31n); k1 = (k1 * C2) & M64; h1 ^= k1;
    h1 = rotl64(h1, 27n); h1 = (h1 + h2) & M64; h1 = (h1 * 5n + 0x52dce729n) & M64;
    k2 = (k2 * C2) & M64; k2 = rotl64(k2, 33n); k2 = (k2 * C1) & M64; h2 ^= k2;
    h2 = rotl64(h2, 31n); h2 = (h2 + h1) & M64; h2 = (h2 * 5n + 0x38495ab5n) & M64;
  }
  const t = nblocks * 16;
  let k1 = 0n;
  let k2 = 0n;
  for (let j = (len & 15) - 1; j >= 8; j--) k2 ^= BigInt(d[t + j]) << BigInt((j - 8) * 8);
  for (let j = Math.min(len & 15, 8) - 1; j >= 0; j--) k1 ^= BigInt(d[t + j]) << BigInt(j * 8);
  if ((len & 15) > 8) { k2 = (k2 * C2) & M64; k2 = rotl64(k2, 33n); k2 = (k2 * C1) & M64; h2 ^= k2; }
  if ((len & 15) > 0) { k1 = (k1 * C1) & M64; k1 = rotl64(k1, 31n); k1 = (k1 * C2) & M64; h1 ^= k1; }
  h1 ^= BigInt(len); h2 ^= BigInt(len);
  h1 = (h1 + h2) & M64; h2 = (h2 + h1) & M64;
  h1 = fmix64(h1); h2 = fmix64(h2);
  h1 = (h1 + h2) & M64; h2 = (h2 + h1) & M64;
  return [h1, h2];
}

export function refMmhash(data: Uint8Array | string): bigint {
  const [h1, h2] = refMurmur128(data);
  return h1 ^ h2;
}

export function refMurmur32(data: Uint8Array | string): number {
  const d = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const M32 = 0xffffffffn;
  const rotl32 = (x: bigint, r: bigint) => ((x << r) | (x >> (32n - r))) & M32;
  const c1 = 0xcc9e2d51n;
  const c2 = 0x1b873593n;
  let h = 0n;
  const nblocks = Math.floor(d.length / 4);
  for (let i = 0; i < nblocks; i++) {
    let k = BigInt(d[4 * i] | (d[4 * i + 1] << 8) | (d[4 * i + 2] << 16)) | (BigInt(d[4 * i + 3]) << 24n);
    k = (k * c1) & M32; k = rotl32(k, 15n); k = (k * c2) & M32;
    h ^= k; h = rotl32(h, 13n); h = (h * 5n + 0xe6546b64n) & M32;
  }
  let k = 0n;
  const t = nblocks * 4;
  for (let j = (d.length & 3) - 1; j >= 0; j--) k ^= BigInt(d[t + j]) << BigInt(j * 8);
  if (d.length & 3) { k = (k * c1) & M32; k = rotl32(k, 15n); k = (k * c2) & M32; h ^= k; }
  h ^= BigInt(d.length);
  h ^= h >> 16n; h = (h * 0x85ebca6bn) & M32; h ^= h >> 13n; h = (h * 0xc2b2ae35n) & M32; h ^= h >> 16n;
  return Number(h);
}
