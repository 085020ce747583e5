/**
 * Task files are read as bytes and kept as "byte strings": one JS char per byte (latin-1
 * decoding), so splitting, stripping and comparing work on the exact bytes and `toBytes` gives
 * them back unchanged for String columns (valid UTF-8 stays valid UTF-8, invalid bytes stay as
 * they are). This is NOT the reference's latin-1-then-UTF-8 double encoding: nothing is re-encoded.
 */

export type ByteString = string;

export function byteString(bytes: Uint8Array): ByteString {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

export function toBytes(s: ByteString): Uint8Array {
  return Buffer.from(s, "latin1");
}

/** A byte string that is valid UTF-8, as a normal JS string (for logs and messages); else undefined. */
export function utf8OrUndefined(s: ByteString): string | undefined {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(toBytes(s));
  } catch {
    return undefined;
  }
}

/** A byte string used as a file name: the JS string node:fs uses for it (UTF-8 decoded when valid). */
export function fsName(s: ByteString): string {
  return utf8OrUndefined(s) ?? s;
}

/** Readable form of a byte string for messages: UTF-8 when valid, else \xNN escapes. */
export function printable(s: ByteString): string {
  return decodeUtf8Backslash(toBytes(s));
}

const ASCII_WS = " \t\n\r\v\f\x1c\x1d\x1e\x1f";

/** Python's bytes-level strip of ASCII whitespace (str.strip on the byte string, minus \x85/\xa0). */
export function strip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && ASCII_WS.includes(s[a])) a++;
  while (b > a && ASCII_WS.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/** Python str.isspace() characters, for text decoded from UTF-8 (log messages). */
const PY_WS = new Set(
  [..." \t\n\r\v\f\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"].concat(
    Array.from({ length: 11 }, (_, i) => String.fromCharCode(0x2000 + i)),
  ),
);

/** Python's str.strip() on Unicode text. */
export function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && PY_WS.has(s[a])) a++;
  while (b > a && PY_WS.has(s[b - 1])) b--;
  return s.slice(a, b);
}

/** The code point at `i` of valid UTF-8 (`i` at its first byte), and its length in bytes. */
function codePointAt(b: Uint8Array, i: number): [number, number] {
  const c = b[i];
  if (c < 0x80) return [c, 1];
  if (c < 0xe0) return [((c & 0x1f) << 6) | (b[i + 1] & 0x3f), 2];
  if (c < 0xf0) return [((c & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f), 3];
  return [((c & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f), 4];
}

/** pyStrip on valid UTF-8 bytes: a view without the leading and trailing str.isspace() characters. */
export function pyStripUtf8(b: Uint8Array): Uint8Array {
  let a = 0;
  let e = b.length;
  while (a < e) {
    const [cp, len] = codePointAt(b, a);
    if (!PY_WS.has(String.fromCodePoint(cp))) break;
    a += len;
  }
  while (e > a) {
    let s = e - 1;
    while (s > a && (b[s] & 0xc0) === 0x80) s--;
    if (!PY_WS.has(String.fromCodePoint(codePointAt(b, s)[0]))) break;
    e = s;
  }
  return b.subarray(a, e);
}

/** Python int() of a text: optional sign, digits (underscores between digits), whitespace around. */
export function parseIntStrict(s: string): number | undefined {
  const t = strip(s);
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) return undefined;
  const n = Number(t.replace(/_/g, ""));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Non-empty lines of a byte string split on "\n" (Python: [x for x in s.split("\n") if x]). */
export function nonEmptyLines(s: string): string[] {
  return s.split("\n").filter((x) => x.length > 0);
}

function hex2(b: number): string {
  return "\\x" + b.toString(16).padStart(2, "0");
}

/**
 * UTF-8 decoding with Python's errors="backslashreplace": every byte that is not part of a
 * well-formed UTF-8 sequence becomes the four characters `\xNN`.
 */
export function decodeUtf8Backslash(bytes: Uint8Array): string {
  // fast path: valid UTF-8
  let ascii = true;
  for (let i = 0; i < bytes.length; i++)
    if (bytes[i] > 0x7f) {
      ascii = false;
      break;
    }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const out: string[] = [];
  let start = 0; // start of the pending valid run
  const flush = (end: number) => {
    if (end > start) out.push(Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("utf8"));
  };
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    let len = 0;
    if (b < 0x80) len = 1;
    else if (b >= 0xc2 && b <= 0xdf) len = 2;
    else if (b >= 0xe0 && b <= 0xef) len = 3;
    else if (b >= 0xf0 && b <= 0xf4) len = 4;
    let ok = len > 0 && i + len <= n;
    if (ok && len > 1) {
      const b1 = bytes[i + 1];
      let lo = 0x80;
      let hi = 0xbf;
      if (b === 0xe0) lo = 0xa0;
      else if (b === 0xed) hi = 0x9f;
      else if (b === 0xf0) lo = 0x90;
      else if (b === 0xf4) hi = 0x8f;
      if (b1 < lo || b1 > hi) ok = false;
      for (let k = 2; ok && k < len; k++) if ((bytes[i + k] & 0xc0) !== 0x80) ok = false;
    }
    if (ok) {
      i += len;
      continue;
    }
    flush(i);
    out.push(hex2(b));
    i++;
    start = i;
  }
  flush(n);
  return out.join("");
}
