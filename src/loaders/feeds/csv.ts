/** RFC 4180 CSV: quoted fields with "" escapes and line breaks inside quotes. */

interface Parsed {
  fields: string[];
  /** index after the record's line break */
  next: number;
  /** line breaks inside the record, its own included */
  breaks: number;
}

/**
 * One record starting at `i`, or undefined when the text ends inside it and `final` is false
 * (the caller comes back with more text). A quoted field that is not closed at the end of the
 * final text is an error.
 */
function parseRecord(text: string, i: number, final: boolean, line: number): Parsed | undefined {
  const n = text.length;
  const fields: string[] = [];
  let breaks = 0;
  for (;;) {
    let field = "";
    if (i < n && text.charCodeAt(i) === 34) {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          if (!final) return undefined;
          throw new Error(`line ${line}: a quoted field is not closed`);
        }
        const piece = text.slice(i, q);
        field += piece;
        for (let k = piece.indexOf("\n"); k >= 0; k = piece.indexOf("\n", k + 1)) breaks++;
        if (q + 1 >= n && !final) return undefined;
        if (text.charCodeAt(q + 1) === 34) {
          field += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
    }
    let j = i;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 44 || c === 10 || c === 13) break;
      j++;
    }
    if (j > i) field += text.slice(i, j);
    i = j;
    fields.push(field);
    if (i < n && text.charCodeAt(i) === 44) {
      i++;
      continue;
    }
    if (i >= n) {
      if (!final) return undefined;
      return { fields, next: i, breaks };
    }
    if (text.charCodeAt(i) === 13) {
      if (i + 1 >= n && !final) return undefined;
      i++;
    }
    if (text.charCodeAt(i) === 10) {
      i++;
      breaks++;
    }
    return { fields, next: i, breaks };
  }
}

/** Records of a whole text, with the line each starts on; blank lines are skipped. */
export function* csvRows(text: string): Generator<{ line: number; fields: string[] }> {
  yield* csvText(text, true, { line: 1, rest: "" });
}

interface Cursor {
  line: number;
  /** text after the last complete record */
  rest: string;
}

function* csvText(text: string, final: boolean, cur: Cursor): Generator<{ line: number; fields: string[] }> {
  let i = 0;
  cur.rest = "";
  while (i < text.length) {
    const r = parseRecord(text, i, final, cur.line);
    if (!r) {
      cur.rest = text.slice(i);
      return;
    }
    const start = cur.line;
    cur.line += r.breaks;
    i = r.next;
    if (r.fields.length === 1 && r.fields[0] === "") continue;
    yield { line: start, fields: r.fields };
  }
}

/**
 * Records of a UTF-8 body, decoded a slice at a time (slices end at a line feed, so no character
 * is cut): the body is never held as one string next to its bytes.
 */
export function* csvBody(body: Uint8Array, slice = 4 << 20): Generator<{ line: number; fields: string[] }> {
  const dec = new TextDecoder();
  const cur: Cursor = { line: 1, rest: "" };
  for (let off = 0; off < body.length; ) {
    let end = Math.min(body.length, off + slice);
    if (end < body.length) {
      const lf = body.lastIndexOf(10, end - 1);
      if (lf >= off) end = lf + 1;
    }
    const final = end >= body.length;
    yield* csvText(cur.rest + dec.decode(body.subarray(off, end), { stream: !final }), final, cur);
    off = end;
  }
}
