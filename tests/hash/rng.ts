/** Deterministic test inputs (mulberry32), so a failure can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function randomBytes(next: () => number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = next() & 0xff;
  return b;
}

/** `perLength` random byte strings for every length 0..maxLen (covers every tail length many times). */
export function randomInputs(seed: number, maxLen: number, perLength: number): Uint8Array[] {
  const next = rng(seed);
  const out: Uint8Array[] = [];
  for (let len = 0; len <= maxLen; len++) for (let r = 0; r < perLength; r++) out.push(randomBytes(next, len));
  // edge patterns: all 0x00 and all 0xff for every length up to 64
  for (let len = 0; len <= 64; len++) {
    out.push(new Uint8Array(len));
    out.push(new Uint8Array(len).fill(0xff));
  }
  return out;
}

/** Random JS strings mixing ASCII, Latin-1, BMP, astral pairs and lone surrogates. */
export function randomString(next: () => number, len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) {
    const k = next() % 10;
    if (k < 4) s += String.fromCharCode(0x20 + (next() % 0x5f));
    else if (k < 6) s += String.fromCharCode(0x80 + (next() % 0x780));
    else if (k < 8) s += String.fromCharCode(0x800 + (next() % (0xd800 - 0x800)));
    else if (k < 9) s += String.fromCodePoint(0x10000 + (next() % 0x100000));
    else s += String.fromCharCode(0xd800 + (next() % 0x800)); // lone surrogate (high or low)
  }
  return s;
}
