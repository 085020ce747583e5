/**
 * RowBinary encoding of plain row objects, compiled once per table layout.
 * Pure code with no database access, so worker threads can encode rows too.
 */

export interface LayoutColumn {
  name: string;
  type: string;
}

type Encode = (w: RowWriter, v: unknown, col: string) => void;

const utf8 = new TextEncoder();

/** Growable byte buffer with little-endian writers. */
export class RowWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(private readonly initial = 64 * 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v, true);
    this.pos += 2;
  }
  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v, true);
    this.pos += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  u64(v: bigint | number): void {
    this.ensure(8);
    if (typeof v === "number") {
      this.view.setUint32(this.pos, v >>> 0, true);
      this.view.setUint32(this.pos + 4, Math.floor(v / 4294967296), true);
    } else this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }
  i64(v: bigint | number): void {
    this.ensure(8);
    this.view.setBigInt64(this.pos, typeof v === "number" ? BigInt(Math.trunc(v)) : v, true);
    this.pos += 8;
  }
  f32(v: number): void {
    this.ensure(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }
  /** String column: varint length + bytes. Strings are UTF-8, Uint8Arrays are taken as they are. */
  string(v: string | Uint8Array): void {
    if (typeof v !== "string") {
      this.varint(v.length);
      this.raw(v);
      return;
    }
    // ASCII fast path: most header strings are short and ASCII.
    const n = v.length;
    if (n < 128) {
      this.ensure(1 + n * 3);
      const start = this.pos + 1;
      let ascii = true;
      for (let i = 0; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c > 0x7f) {
          ascii = false;
          break;
        }
        this.buf[start + i] = c;
      }
      if (ascii) {
        this.buf[this.pos] = n;
        this.pos = start + n;
        return;
      }
    }
    const bytes = utf8.encode(v);
    this.varint(bytes.length);
    this.raw(bytes);
  }
  /** Bytes written so far (a view, valid until the next write). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
  /** Bytes written so far, copied; the writer is reset and keeps its buffer (for small pieces). */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.pos);
    this.pos = 0;
    return out;
  }

  /** Bytes written so far, without a copy; the writer starts over with a fresh small buffer. */
  detach(): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    this.buf = new Uint8Array(this.initial);
    this.view = new DataView(this.buf.buffer);
    this.pos = 0;
    return out;
  }
}

/** Splits "A, B(C, D), 'x, y'" at top-level commas. */
export function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === "'") quote = false;
    } else if (c === "'") quote = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last !== "") out.push(last);
  return out;
}

function unwrap(type: string, name: string): string | undefined {
  if (type.startsWith(name + "(") && type.endsWith(")")) return type.slice(name.length + 1, -1);
  return undefined;
}

function parseEnum(args: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const part of splitArgs(args)) {
    const m = /^'((?:[^'\\]|\\.)*)'\s*=\s*(-?\d+)$/.exec(part);
    if (!m) throw new Error(`cannot parse enum element ${part}`);
    map.set(m[1].replace(/\\(.)/g, "$1"), Number(m[2]));
  }
  return map;
}

function fail(col: string, type: string, v: unknown): never {
  const shown = typeof v === "bigint" ? `${v}n` : JSON.stringify(v);
  throw new TypeError(`column ${col} (${type}): cannot encode ${shown?.slice(0, 80)}`);
}

function intEncoder(type: string, bits: number, signed: boolean): Encode {
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const check = (v: unknown, col: string): number => {
    const n = typeof v === "boolean" ? Number(v) : typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) fail(col, type, v);
    return n;
  };
  switch (bits) {
    case 8:
      return (w, v, col) => w.u8(check(v, col) & 0xff);
    case 16:
      return (w, v, col) => w.u16(check(v, col) & 0xffff);
    case 32:
      return signed ? (w, v, col) => w.i32(check(v, col)) : (w, v, col) => w.u32(check(v, col));
  }
  return signed
    ? (w, v, col) => {
        if (typeof v === "bigint") {
          if (v < -(1n << 63n) || v >= 1n << 63n) fail(col, type, v);
          w.i64(v);
        } else w.i64(check(v, col));
      }
    : (w, v, col) => {
        if (typeof v === "bigint") {
          if (v < 0n || v >= 1n << 64n) fail(col, type, v);
          w.u64(v);
        } else {
          if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail(col, type, v);
          w.u64(v);
        }
      };
}

function toEpochSeconds(v: unknown): number | undefined {
  if (typeof v === "number") return Math.floor(v);
  if (typeof v === "bigint") return Number(v);
  if (v instanceof Date) return Math.floor(v.getTime() / 1000);
  return undefined;
}

function uuidEncoder(w: RowWriter, v: unknown, col: string): void {
  const hex = typeof v === "string" ? v.replace(/-/g, "") : "";
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) fail(col, "UUID", v);
  // RowBinary UUID: high 64 bits little-endian, then low 64 bits little-endian.
  w.u64(BigInt("0x" + hex.slice(0, 16)));
  w.u64(BigInt("0x" + hex.slice(16)));
}

/** Compiles a ClickHouse type name into an encoder. */
export function compileType(type: string): Encode {
  type = type.trim();
  let inner: string | undefined;
  if ((inner = unwrap(type, "LowCardinality"))) return compileType(inner);
  if ((inner = unwrap(type, "Nullable"))) {
    const enc = compileType(inner);
    return (w, v, col) => {
      if (v === null) w.u8(1);
      else {
        w.u8(0);
        enc(w, v, col);
      }
    };
  }
  if ((inner = unwrap(type, "Array"))) {
    const enc = compileType(inner);
    return (w, v, col) => {
      if (!Array.isArray(v)) fail(col, type, v);
      w.varint(v.length);
      for (const item of v) enc(w, item, col);
    };
  }
  if ((inner = unwrap(type, "Tuple"))) {
    const parts = splitArgs(inner).map((p) => compileType(p.replace(/^[A-Za-z_][A-Za-z0-9_]*\s+(?=[A-Z])/, "")));
    return (w, v, col) => {
      if (!Array.isArray(v) || v.length !== parts.length) fail(col, type, v);
      parts.forEach((enc, i) => enc(w, v[i], col));
    };
  }
  if ((inner = unwrap(type, "Map"))) {
    const [k, val] = splitArgs(inner).map(compileType);
    return (w, v, col) => {
      const entries = v instanceof Map ? [...v.entries()] : v && typeof v === "object" ? Object.entries(v) : fail(col, type, v);
      w.varint(entries.length);
      for (const [ek, ev] of entries) {
        k(w, ek, col);
        val(w, ev, col);
      }
    };
  }
  if ((inner = unwrap(type, "FixedString"))) {
    const n = Number(inner);
    return (w, v, col) => {
      const bytes = typeof v === "string" ? utf8.encode(v) : v;
      if (!(bytes instanceof Uint8Array) || bytes.length > n) fail(col, type, v);
      w.ensure(n);
      w.buf.set(bytes, w.pos);
      w.buf.fill(0, w.pos + bytes.length, w.pos + n);
      w.pos += n;
    };
  }
  const enumArgs = unwrap(type, "Enum8") ?? unwrap(type, "Enum16");
  if (enumArgs !== undefined) {
    const map = parseEnum(enumArgs);
    const values = new Set(map.values());
    const wide = type.startsWith("Enum16");
    return (w, v, col) => {
      const n = typeof v === "number" && values.has(v) ? v : typeof v === "string" ? map.get(v) : undefined;
      if (n === undefined) fail(col, type, v);
      if (wide) w.u16(n & 0xffff);
      else w.u8(n & 0xff);
    };
  }
  if (type === "String")
    return (w, v, col) => {
      if (typeof v !== "string" && !(v instanceof Uint8Array)) fail(col, type, v);
      w.string(v);
    };
  if (type === "DateTime" || type.startsWith("DateTime(")) {
    return (w, v, col) => {
      const s = toEpochSeconds(v);
      if (s === undefined || s < 0 || s > 0xffffffff) fail(col, type, v);
      w.u32(s);
    };
  }
  if ((inner = unwrap(type, "DateTime64"))) {
    const precision = Number(splitArgs(inner)[0]);
    const scale = 10 ** precision;
    return (w, v, col) => {
      // numbers are seconds (may be fractional); Dates keep their milliseconds
      const secs = v instanceof Date ? v.getTime() / 1000 : typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : fail(col, type, v);
      w.i64(BigInt(Math.round(secs * scale)));
    };
  }
  if (type === "Date")
    return (w, v, col) => {
      const s = toEpochSeconds(v);
      if (s === undefined) fail(col, type, v);
      w.u16(Math.floor(s / 86400));
    };
  if (type === "Date32")
    return (w, v, col) => {
      const s = toEpochSeconds(v);
      if (s === undefined) fail(col, type, v);
      w.i32(Math.floor(s / 86400));
    };
  if (type === "UUID") return uuidEncoder;
  if (type === "Bool") return (w, v, col) => w.u8(v === true || v === 1 ? 1 : v === false || v === 0 ? 0 : fail(col, type, v));
  if (type === "Float32") return (w, v, col) => w.f32(typeof v === "number" ? v : fail(col, type, v));
  if (type === "Float64") return (w, v, col) => w.f64(typeof v === "number" ? v : fail(col, type, v));
  if (type === "IPv4")
    return (w, v, col) => {
      const parts = typeof v === "string" ? v.split(".").map(Number) : [];
      if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255))) fail(col, type, v);
      w.u32(((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0);
    };
  const int = /^(U?)Int(8|16|32|64)$/.exec(type);
  if (int) return intEncoder(type, Number(int[2]), int[1] === "");
  throw new Error(`RowBinary: unsupported type ${type}`);
}

export interface RowEncoder {
  readonly columns: readonly string[];
  /** Appends one row; a missing column is an error naming it. */
  encode(w: RowWriter, row: Record<string, unknown>): void;
}

export function compileLayout(table: string, layout: readonly LayoutColumn[]): RowEncoder {
  const encoders = layout.map((c) => compileType(c.type));
  const names = layout.map((c) => c.name);
  const qualified = names.map((n) => `${table}.${n}`);
  return {
    columns: names,
    encode(w, row) {
      for (let i = 0; i < encoders.length; i++) {
        const v = row[names[i]];
        if (v === undefined) throw new TypeError(`column ${qualified[i]}: value missing`);
        encoders[i](w, v, qualified[i]);
      }
    },
  };
}
