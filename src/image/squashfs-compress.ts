/**
 * Block decompressors of squashfs, each bounded by the caller's output limit (a block or a
 * metadata block can never inflate past it, whatever the input claims):
 * gzip (zlib streams, node:zlib with maxOutputLength), zstd (zstd-napi's one-shot decompression
 * into a buffer of the limit), xz and lzma (our decoder, src/compress/xz.ts), lz4 (raw blocks,
 * decoded here). lzo is refused as unsupported.
 */
import { inflateSync } from "node:zlib";
import { ImageError } from "./errors.ts";
import { lzmaAloneDecode, xzDecode } from "../compress/xz.ts";

export const COMPRESSORS: Record<number, string> = { 1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd" };

export type BlockDecompressor = (input: Uint8Array, limit: number) => Uint8Array;

interface ZstdDCtx {
  decompress(dst: Uint8Array, src: Uint8Array): number;
}
// A static require of the .node file so `bun build --compile` embeds it (see src/rpm/decompress.ts).
const zstd = require("zstd-napi/build/Release/binding.node") as { DCtx: new () => ZstdDCtx };

/** The decompressor for a squashfs compressor id, or an "unsupported" ImageError. */
export function squashfsDecompressor(id: number, where: string): BlockDecompressor {
  switch (id) {
    case 1:
      return (input, limit) => inflateSync(input, { maxOutputLength: Math.max(limit, 1) });
    case 6: {
      const dctx = new zstd.DCtx();
      return (input, limit) => {
        const out = new Uint8Array(limit);
        const n = dctx.decompress(out, input);
        return out.subarray(0, n);
      };
    }
    case 4:
      return (input, limit) => xzDecode(input, limit);
    case 2:
      return (input, limit) => lzmaAloneDecode(input, limit);
    case 5:
      return lz4Block;
    default:
      throw new ImageError("unsupported", `unsupported compressor ${COMPRESSORS[id] ?? `#${id}`}`, where);
  }
}

/** An LZ4 raw block (as squashfs stores them: LZ4_compress output, no frame). */
export function lz4Block(input: Uint8Array, limit: number): Uint8Array {
  const out = new Uint8Array(limit);
  let ip = 0;
  let op = 0;
  const bad = (what: string): never => {
    throw new Error(`lz4: ${what} at input byte ${ip}`);
  };
  while (ip < input.length) {
    const token = input[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= input.length) bad("truncated literal length");
        b = input[ip++];
        lit += b;
      } while (b === 255);
    }
    if (ip + lit > input.length) bad("literals past the end");
    if (op + lit > limit) bad("output larger than the block");
    out.set(input.subarray(ip, ip + lit), op);
    ip += lit;
    op += lit;
    if (ip >= input.length) break;
    if (ip + 2 > input.length) bad("truncated offset");
    const off = input[ip] | (input[ip + 1] << 8);
    ip += 2;
    if (off === 0 || off > op) bad("match offset outside the output");
    let len = (token & 15) + 4;
    if ((token & 15) === 15) {
      let b: number;
      do {
        if (ip >= input.length) bad("truncated match length");
        b = input[ip++];
        len += b;
      } while (b === 255);
    }
    if (op + len > limit) bad("output larger than the block");
    for (let i = 0; i < len; i++, op++) out[op] = out[op - off];
  }
  return out.subarray(0, op);
}
