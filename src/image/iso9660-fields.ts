/**
 * Field decoders of ISO9660 (both-endian numbers, d-characters, UCS-2, the two date formats) and
 * the Rock Ridge / SUSP walk over a directory record's system use area and its CE continuation
 * areas (NM, PX, PN, SL, TF, CL, RE, ST), for src/image/iso9660.ts.
 */
import type { ByteSource } from "../rpmdb/source.ts";
import { ImageError } from "./errors.ts";
import { decodeName } from "./tree-paths.ts";

export const SECTOR = 2048;
const MAX_CE = 64;

export function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

export function latin(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

export function ucs2(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i + 1 < end; i += 2) s += String.fromCharCode((b[i] << 8) | b[i + 1]);
  return s;
}

/** The 7-byte directory record date, as seconds since the epoch (UTC). */
export function recordTime(b: Uint8Array, o: number): number {
  if (b[o] === 0 && b[o + 1] === 0) return 0;
  const off = ((b[o + 6] << 24) >> 24) * 15 * 60;
  return Date.UTC(1900 + b[o], b[o + 1] - 1, b[o + 2], b[o + 3], b[o + 4], b[o + 5]) / 1000 - off;
}

/** The 17-byte volume descriptor date ("YYYYMMDDHHMMSScc" + offset), or null when unset. */
export function longTime(b: Uint8Array, o: number): Date | null {
  const s = latin(b, o, o + 16);
  if (!/^\d{16}$/.test(s) || s.startsWith("0000")) return null;
  const off = ((b[o + 16] << 24) >> 24) * 15 * 60 * 1000;
  const n = (a: number, l: number) => Number(s.slice(a, a + l));
  return new Date(Date.UTC(n(0, 4), n(4, 2) - 1, n(6, 2), n(8, 2), n(10, 2), n(12, 2), n(14, 2) * 10) - off);
}

export function readExact(src: ByteSource, pos: number, len: number, what: string): Uint8Array {
  if (pos + len > src.size) throw new ImageError("truncated", `${what} at byte ${pos} (${len} bytes) ends past the end of the image (${src.size} bytes)`, src.path);
  const buf = new Uint8Array(len);
  if (src.readAt(buf, pos) !== len) throw new ImageError("truncated", `${what} at byte ${pos}: short read`, src.path);
  return buf;
}

/** Rock Ridge fields gathered from one record's system use area (and its CE areas). */
export interface RockRidge {
  name?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  rdev?: number;
  target?: string;
  mtime?: number;
  relocated?: boolean;
  childLink?: number;
}

/** Walk SUSP entries from `start` to `end` of `b`, following CE areas. */
export function rockRidge(src: ByteSource, b: Uint8Array, start: number, end: number, where: string): RockRidge {
  const out: RockRidge = {};
  let nm = "";
  let hasNm = false;
  const sl: string[] = [];
  let slPart = "";
  let hasSl = false;
  let buf = b;
  let o = start;
  let stop = end;
  for (let areas = 0; ; ) {
    let next: [number, number, number] | undefined;
    while (o + 4 <= stop) {
      const sig = String.fromCharCode(buf[o], buf[o + 1]);
      const len = buf[o + 2];
      if (len < 4 || o + len > stop) break;
      const e = o;
      if (sig === "NM" && len >= 5) {
        const f = buf[e + 4];
        if (f & 2) nm = ".";
        else if (f & 4) nm = "..";
        else nm += decodeName(buf.subarray(e + 5, e + len));
        hasNm = true;
      } else if (sig === "PX" && len >= 36) {
        out.mode = u32(buf, e + 4);
        out.uid = u32(buf, e + 20);
        out.gid = u32(buf, e + 28);
      } else if (sig === "PN" && len >= 20) {
        const high = u32(buf, e + 4);
        const low = u32(buf, e + 12);
        out.rdev = high === 0 ? low : ((high & 0xfff) << 8) | (low & 0xff) | ((low & ~0xff) << 12);
      }
      else if (sig === "SL" && len >= 5) {
        hasSl = true;
        let c = e + 5;
        while (c + 2 <= e + len) {
          const cf = buf[c];
          const cl = buf[c + 1];
          let text = cf & 2 ? "." : cf & 4 ? ".." : cf & 8 ? "" : decodeName(buf.subarray(c + 2, Math.min(c + 2 + cl, e + len)));
          if (cf & 8 && sl.length === 0 && slPart === "") {
            sl.push("");
            text = "";
            c += 2 + cl;
            continue;
          }
          slPart += text;
          if (!(cf & 1)) {
            sl.push(slPart);
            slPart = "";
          }
          c += 2 + cl;
        }
      } else if (sig === "TF" && len >= 5) {
        const f = buf[e + 4];
        const long = (f & 0x80) !== 0;
        const w = long ? 17 : 7;
        let p = e + 5;
        if (f & 1) p += w; // creation
        if (f & 2 && p + w <= e + len) {
          out.mtime = long ? Math.floor((longTime(buf, p)?.getTime() ?? 0) / 1000) : recordTime(buf, p);
        }
      } else if (sig === "CE" && len >= 28) next = [u32(buf, e + 4), u32(buf, e + 12), u32(buf, e + 20)];
      else if (sig === "RE") out.relocated = true;
      else if (sig === "CL" && len >= 12) out.childLink = u32(buf, e + 4);
      else if (sig === "ST") break;
      o += len;
    }
    if (!next) break;
    if (++areas > MAX_CE) throw new ImageError("corrupt", `${where}: more than ${MAX_CE} Rock Ridge continuation areas`, src.path);
    const [blk, off, len] = next;
    if (len > SECTOR * 4 || blk * SECTOR + off + len > src.size)
      throw new ImageError("corrupt", `${where}: Rock Ridge continuation area at block ${blk} lies outside the image`, src.path);
    buf = readExact(src, blk * SECTOR + off, len, "continuation area");
    o = 0;
    stop = len;
  }
  if (hasNm) out.name = nm;
  if (hasSl) {
    if (slPart) sl.push(slPart);
    out.target = sl.length === 1 && sl[0] === "" ? "/" : sl.join("/");
  }
  return out;
}
