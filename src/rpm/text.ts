/**
 * The text rule (see README.md): header strings stay raw bytes (Uint8Array views into the
 * header) in the model. Valid UTF-8 goes to the database as is; invalid bytes go there
 * byte-exact. For display, `text()` decodes valid UTF-8 and escapes every byte that is not
 * part of a valid UTF-8 sequence as `\xNN` (Python's "backslashreplace").
 */
import { isUtf8 } from "node:buffer";

export const EMPTY: Uint8Array = new Uint8Array(0);

const decoder = new TextDecoder("utf-8");
const encoder = new TextEncoder();
const HEX = "0123456789abcdef";

function isAscii(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] >= 0x80) return false;
  return true;
}

/** Length of the valid UTF-8 sequence starting at b[i], or 0 when b[i] does not start one. */
function seqLength(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const n = b.length;
  const c1 = i + 1 < n ? b[i + 1] : -1;
  if (c >= 0xc2 && c <= 0xdf) return c1 >= 0x80 && c1 <= 0xbf ? 2 : 0;
  const c2 = i + 2 < n ? b[i + 2] : -1;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return c1 >= lo && c1 <= hi && c2 >= 0x80 && c2 <= 0xbf ? 3 : 0;
  }
  const c3 = i + 3 < n ? b[i + 3] : -1;
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    const ok = c1 >= lo && c1 <= hi && c2 >= 0x80 && c2 <= 0xbf && c3 >= 0x80 && c3 <= 0xbf;
    return ok ? 4 : 0;
  }
  return 0;
}

/**
 * Decode with a replacement for each byte that is not part of a valid sequence. Escaping one
 * byte at a time gives exactly Python's output: a continuation byte never starts a sequence.
 */
function decodeWith(b: Uint8Array, bad: (byte: number) => string): string {
  let out = "";
  let start = 0;
  let i = 0;
  while (i < b.length) {
    const len = seqLength(b, i);
    if (len > 0) {
      i += len;
      continue;
    }
    if (i > start) out += decoder.decode(b.subarray(start, i));
    out += bad(b[i]);
    i++;
    start = i;
  }
  if (start < b.length) out += decoder.decode(b.subarray(start));
  return out;
}

function escapeByte(c: number): string {
  return `\\x${HEX[c >> 4]}${HEX[c & 15]}`;
}

/** Display text: valid UTF-8 as is, other bytes as `\xNN`. Never throws. */
export function text(b: Uint8Array): string {
  if (b.length === 0) return "";
  if (b.length < 64 && isAscii(b)) return String.fromCharCode.apply(null, b as unknown as number[]);
  if (isUtf8(b)) return decoder.decode(b);
  return decodeWith(b, escapeByte);
}

/** True when the bytes are valid UTF-8 (what the database stores without any loss of meaning). */
export function isValidUtf8(b: Uint8Array): boolean {
  return isUtf8(b);
}

/**
 * Decode keeping invalid bytes recoverable: byte 0xNN becomes the lone surrogate U+DCNN
 * (Python's "surrogateescape"). `encodeEscaped` reverses it exactly. Used where text must be
 * searched with a regular expression but the result has to go back to the database as bytes.
 */
export function decodeEscaped(b: Uint8Array): string {
  if (isUtf8(b)) return decoder.decode(b);
  return decodeWith(b, (c) => String.fromCharCode(0xdc00 + c));
}

export function encodeEscaped(s: string): Uint8Array {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff) {
      plain = false;
      break;
    }
  }
  if (plain) return encoder.encode(s);
  const parts: number[] = [];
  let run = "";
  const flush = () => {
    if (run) for (const x of encoder.encode(run)) parts.push(x);
    run = "";
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff) {
      flush();
      parts.push(c - 0xdc00);
    } else run += s[i];
  }
  flush();
  return Uint8Array.from(parts);
}

/** UTF-8 bytes of a JS string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** ASCII text of bytes known to be ASCII (hex digests, tag names); other bytes map to U+00xx. */
export function ascii(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Does `b` start with the ASCII string `prefix`? */
export function startsWithAscii(b: Uint8Array, prefix: string): boolean {
  if (b.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (b[i] !== prefix.charCodeAt(i)) return false;
  return true;
}

export function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
