/**
 * JSON for scripts: one key style, snake_case like the tables' columns, and 64-bit integers as
 * strings. Every `--json` output of the CLI goes through jsonText; the daemon uses it for any
 * report it publishes, so both print the same keys. Only lowerCamelCase identifiers are renamed:
 * table names (TaskLogs), paths and other data used as keys stay as they are.
 */

const CAMEL = /^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$/;

export function snakeKey(key: string): string {
  return CAMEL.test(key) ? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) : key;
}

/** The value with snake_case keys at every depth and bigints as strings. */
export function snakeKeys(value: unknown): unknown {
  if (typeof value === "bigint") return String(value);
  if (Array.isArray(value)) return value.map(snakeKeys);
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return snakeKeys(Object.fromEntries(value));
  if (ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[snakeKey(k)] = snakeKeys(v);
  return out;
}

/** JSON text with snake_case keys (indented when `indent` is given). */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(snakeKeys(value), null, indent);
}
