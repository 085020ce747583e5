/**
 * Positioned reads of a database file: no database is read into memory whole, and nothing is
 * ever written next to it.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { RpmdbError } from "./errors.ts";

/**
 * Random access to the bytes of a database: a file here; the image readers (ISO, squashfs, ext4
 * inside a disk image) can hand their own implementation to openRpmdbSource without extracting.
 */
export interface ByteSource {
  /** Name used in messages. */
  readonly path: string;
  readonly size: number;
  /** Fill `dst` from byte `pos`; fewer bytes than dst.length only at the end of the data. */
  readAt(dst: Uint8Array, pos: number): number;
}

export class FileSource implements ByteSource {
  readonly size: number;
  private fd: number;

  constructor(readonly path: string) {
    try {
      this.fd = openSync(path, "r");
    } catch (e) {
      throw new RpmdbError("io", `cannot open: ${(e as Error).message}`, path);
    }
    try {
      this.size = fstatSync(this.fd).size;
    } catch (e) {
      closeSync(this.fd);
      throw new RpmdbError("io", `cannot stat: ${(e as Error).message}`, path);
    }
  }

  /**
   * Fill `dst` from byte `pos`. Returns the number of bytes read: fewer than dst.length only at
   * the end of the file.
   */
  readAt(dst: Uint8Array, pos: number): number {
    let done = 0;
    while (done < dst.length) {
      let n: number;
      try {
        n = readSync(this.fd, dst, done, dst.length - done, pos + done);
      } catch (e) {
        throw new RpmdbError("io", `cannot read at byte ${pos + done}: ${(e as Error).message}`, this.path);
      }
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The first bytes of a file (fewer when it is shorter). */
export function readMagic(path: string, n = 16): Uint8Array {
  const src = new FileSource(path);
  try {
    const buf = new Uint8Array(Math.min(n, src.size));
    src.readAt(buf, 0);
    return buf;
  } finally {
    src.close();
  }
}
