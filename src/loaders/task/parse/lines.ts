/**
 * Streaming line reader with Python's universal newlines: "\r\n", "\r" and "\n" each end a
 * line; the last line needs no terminator. The file is read in chunks, so memory is bounded
 * by the chunk size plus the longest line, whatever the file size.
 */
import { open } from "node:fs/promises";

export const LINE_CHUNK = 1 << 20;

/** Yields each line's bytes without its terminator. */
export async function* readLines(path: string, chunkSize = LINE_CHUNK): AsyncGenerator<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(chunkSize);
    let carry: Uint8Array[] = [];
    let carryLen = 0;
    let pendingCR = false; // the previous chunk ended with "\r": a "\n" at the start of this one belongs to it
    const take = (chunk: Uint8Array, start: number, end: number): Uint8Array => {
      if (carryLen === 0) return chunk.slice(start, end);
      const out = new Uint8Array(carryLen + end - start);
      let o = 0;
      for (const c of carry) {
        out.set(c, o);
        o += c.length;
      }
      out.set(chunk.subarray(start, end), o);
      carry = [];
      carryLen = 0;
      return out;
    };
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkSize, null);
      if (bytesRead === 0) break;
      const chunk = buf.subarray(0, bytesRead);
      let i = 0;
      if (pendingCR) {
        pendingCR = false;
        if (chunk[0] === 0x0a) i = 1;
      }
      let start = i;
      for (; i < chunk.length; i++) {
        const c = chunk[i];
        if (c !== 0x0a && c !== 0x0d) continue;
        yield take(chunk, start, i);
        if (c === 0x0d) {
          if (i + 1 < chunk.length) {
            if (chunk[i + 1] === 0x0a) i++;
          } else pendingCR = true;
        }
        start = i + 1;
      }
      if (start < chunk.length) {
        carry.push(chunk.slice(start));
        carryLen += chunk.length - start;
      }
    }
    if (carryLen > 0) yield take(new Uint8Array(0), 0, 0);
  } finally {
    await fh.close();
  }
}
