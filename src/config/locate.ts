/** Finds the line of a dotted key in TOML text, so an error can point at it. */

function splitKey(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))\s*(?:\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < key.length && (m = re.exec(key))) parts.push(m[1] ?? m[2] ?? m[3]);
  return parts;
}

/** 1-based line number of the key at `path` (or of its nearest enclosing table), undefined if absent. */
export function locateKey(text: string, path: readonly (string | number)[]): number | undefined {
  // an index counts only after an array of tables ([[triggers]] → triggers.1.run); others stop the search there
  const want = path.map(String);
  const arrays = new Map<string, number>();
  let table: string[] = [];
  let best: { line: number; depth: number } | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    let full: string[] | undefined;
    const header = /^\[\[?\s*([^\]]+?)\s*\]\]?/.exec(line);
    if (header) {
      table = splitKey(header[1]);
      if (line.startsWith("[[")) {
        const n = arrays.get(table.join("\0")) ?? 0;
        arrays.set(table.join("\0"), n + 1);
        table = [...table, String(n)];
      }
      full = table;
    } else {
      const kv = /^((?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_.\- ])+?)\s*=/.exec(line);
      if (kv) full = [...table, ...splitKey(kv[1])];
    }
    if (!full) continue;
    let depth = 0;
    while (depth < full.length && depth < want.length && full[depth] === want[depth]) depth++;
    if (depth === want.length && full.length === want.length) return i + 1;
    if (depth === full.length && (!best || depth > best.depth)) best = { line: i + 1, depth };
  }
  return best?.line;
}
