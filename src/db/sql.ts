/** Literal quoting for the few values we put into SQL text. Works on ClickHouse 18.16 and 26. */

/** A string literal; for arbitrary bytes use hexLiteral. */
export function quoteString(value: string): string {
  return "'" + value.replace(/[\\']/g, (c) => "\\" + c).replace(/\0/g, "\\0").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t") + "'";
}

/** A backquoted identifier; rejects names that would need more than quoting. */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) throw new Error(`invalid identifier: ${JSON.stringify(name)}`);
  return "`" + name + "`";
}

/** `[1, 2, 3]` for integer arrays (bigint or number). */
export function quoteIntArray(values: Iterable<bigint | number>): string {
  const out: string[] = [];
  for (const v of values) {
    if (typeof v === "number" && !Number.isInteger(v)) throw new Error(`not an integer: ${v}`);
    out.push(String(v));
  }
  return "[" + out.join(", ") + "]";
}

/** `(1, 2, 3)` for `x IN (…)`. */
export function quoteIntList(values: Iterable<bigint | number>): string {
  return "(" + quoteIntArray(values).slice(1, -1) + ")";
}

export function hexLiteral(bytes: Uint8Array): string {
  return `unhex('${Buffer.from(bytes).toString("hex")}')`;
}
