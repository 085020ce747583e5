/**
 * Streaming line reader with Python's universal newlines: "\r\n", "\r" and "\n" each end a
 * line; the last line needs no terminator. The file is read in chunks; a line that does not end
 * in the chunk it starts in is only located (its start offset kept), then read once at its exact
 * length when its end is found, so memory is the chunk plus the longest line, never a multiple.
 */
import { open, type FileHandle } from "node:fs/promises";

export const LINE_CHUNK = 1 << 20;

/**
 * Free bytes in front of every line read at its exact length (a line longer than the rest of a
 * chunk): a row can then be made of the line's own buffer, its other columns written there.
 */
export const LINE_HEADROOM = 64;

async function readAt(fh: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(LINE_HEADROOM + length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, LINE_HEADROOM + done, length - done, position + done);
    if (bytesRead === 0) break; // the file shrank meanwhile
    done += bytesRead;
  }
  return buf.subarray(LINE_HEADROOM, LINE_HEADROOM + done);
}

/** Yields each line's bytes without its terminator. */
export async function* readLines(path: string, chunkSize = LINE_CHUNK): AsyncGenerator<Uint8Array> {
  const fh = await open(path, "r");
  try {
    const buf = new Uint8Array(chunkSize);
    let pos = 0; // file offset of buf[0]
    let lineStart = -1; // file offset of a line begun in an earlier chunk, -1: none
    let pendingCR = false; // the previous chunk ended with "\r": a "\n" at the start of this one belongs to it
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, chunkSize, pos);
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
        if (lineStart >= 0) {
          const line = await readAt(fh, lineStart, pos + i - lineStart);
          lineStart = -1;
          yield line;
        } else yield chunk.slice(start, i);
        if (c === 0x0d) {
          if (i + 1 < chunk.length) {
            if (chunk[i + 1] === 0x0a) i++;
          } else pendingCR = true;
        }
        start = i + 1;
      }
      if (start < chunk.length && lineStart < 0) lineStart = pos + start;
      pos += bytesRead;
    }
    if (lineStart >= 0) yield await readAt(fh, lineStart, pos - lineStart);
  } finally {
    await fh.close();
  }
}
