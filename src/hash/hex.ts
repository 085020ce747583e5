/** Hex <-> bytes helpers (lowercase output, strict input). */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lowercase hex of the bytes. */
export function toHex(bytes: Uint8Array): string {
  if (bytes.length > 64) {
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
  }
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]];
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

/**
 * Bytes of a hex string (either case). Throws a TypeError on an odd length or a non-hex
 * character, unlike Buffer.from(hex, "hex") which silently truncates.
 */
export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0) throw new TypeError(`fromHex: odd-length hex string (${hex.length} chars)`);
  const out = new Uint8Array(hex.length >>> 1);
  for (let i = 0; i < out.length; i++) {
    const hi = nibble(hex.charCodeAt(2 * i));
    const lo = nibble(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) {
      throw new TypeError(`fromHex: invalid hex character near offset ${2 * i}: ${JSON.stringify(hex.slice(2 * i, 2 * i + 2))}`);
    }
    out[i] = (hi << 4) | lo;
  }
  return out;
}
