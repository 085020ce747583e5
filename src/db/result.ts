/** Turns a ClickHouse JSONCompact answer into row objects with bigint for 64-bit integers. */
import type { Row } from "./types";
import { splitArgs } from "./rowbinary";

type Convert = (v: unknown) => unknown;
const identity: Convert = (v) => v;

function converter(type: string): Convert {
  const inner = (name: string) => (type.startsWith(name + "(") && type.endsWith(")") ? type.slice(name.length + 1, -1) : undefined);
  let t: string | undefined;
  if ((t = inner("LowCardinality")) || (t = inner("Nullable"))) {
    const c = converter(t);
    return c === identity ? c : (v) => (v === null ? null : c(v));
  }
  if ((t = inner("Array"))) {
    const c = converter(t);
    return c === identity ? c : (v) => (v as unknown[]).map(c);
  }
  if ((t = inner("Tuple"))) {
    const cs = splitArgs(t).map((p) => converter(p.replace(/^[A-Za-z_][A-Za-z0-9_]*\s+(?=[A-Z])/, "")));
    if (cs.every((c) => c === identity)) return identity;
    return (v) => (Array.isArray(v) ? v.map((x, i) => cs[i](x)) : v);
  }
  if (/^U?Int(64|128|256)$/.test(type)) return (v) => (typeof v === "string" || typeof v === "number" ? BigInt(v) : v);
  return identity;
}

interface JsonCompact {
  meta: { name: string; type: string }[];
  data: unknown[][];
}

export function rowsFromJsonCompact<T = Row>(text: string): T[] {
  if (text.trim() === "") return [];
  const parsed = JSON.parse(text) as JsonCompact;
  const names = parsed.meta.map((m) => m.name);
  const convs = parsed.meta.map((m) => converter(m.type));
  return parsed.data.map((values) => {
    const row: Row = {};
    for (let i = 0; i < names.length; i++) row[names[i]] = convs[i](values[i]);
    return row as T;
  });
}

/** Settings that make every driver answer the same way. */
export const QUERY_SETTINGS = {
  output_format_json_quote_64bit_integers: 1,
  output_format_json_quote_denormals: 0,
} as const;
