/**
 * XML text as createrepo_c 0.17 writes it through libxml2: text content escapes & < > and CR;
 * attribute values also escape " and TAB/LF/CR, and write every non-ASCII character as a
 * hexadecimal character reference (&#x41C;).
 */

const DEC = new TextDecoder("utf-8", { fatal: true });

/**
 * createrepo_c's rule for header strings: valid UTF-8 as is; anything else is read byte by byte
 * as ISO-8859-1 except that bytes 0x80–0xBF are dropped (as observed on createrepo_c 0.17's
 * output for a KOI8-R changelog: "ё" = 0xA3 disappears, 0xC0–0xFF become U+00C0–U+00FF).
 */
export function forceUtf8(bytes: Uint8Array): string {
  try {
    return DEC.decode(bytes);
  } catch {
    let s = "";
    for (const b of bytes) if (b < 0x80 || b >= 0xc0) s += String.fromCharCode(b);
    return s;
  }
}

/** Characters XML 1.0 cannot carry at all are dropped (libxml2 would write an invalid document). */
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escText(s: string): string {
  if (!/[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(s)) return s;
  return s.replace(INVALID, "").replace(/[&<>\r]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&#13;"));
}

export function escAttr(s: string): string {
  let out = "";
  for (const ch of s.replace(INVALID, "")) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x80) out += `&#x${c.toString(16).toUpperCase()};`;
    else if (ch === "&") out += "&amp;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (ch === '"') out += "&quot;";
    else if (ch === "\n") out += "&#10;";
    else if (ch === "\r") out += "&#13;";
    else if (ch === "\t") out += "&#9;";
    else out += ch;
  }
  return out;
}

/** `<tag>text</tag>` (an empty value still gets both tags, as createrepo_c writes them). */
export function el(tag: string, text: string): string {
  return `<${tag}>${escText(text)}</${tag}>`;
}
