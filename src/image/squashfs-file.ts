/**
 * A regular file of a squashfs image (src/image/squashfs.ts): random reads over its data blocks
 * (sparse ones read as zeros) and its tail in a fragment block, through the tree's bounded block
 * cache; nothing of the file is buffered beyond the cached blocks.
 */
import type { ImageError } from "./errors.ts";
import type { TreeFile } from "./tree.ts";

/** What a file needs of its tree. */
export interface BlockReader {
  readonly sb: { blockSize: number };
  /** The data block at `pos` (size word `word`), decompressed, at least `expect` bytes. */
  block(pos: number, word: number, expect: number, where: string): Uint8Array;
  err(code: "corrupt", message: string, inside?: string): ImageError;
}

/** A regular file: its data blocks, then the tail in a fragment. */
export class SquashfsFile implements TreeFile {
  constructor(
    private readonly fs: BlockReader,
    readonly path: string,
    private readonly inside: string,
    readonly size: number,
    private readonly words: Uint32Array,
    private readonly starts: Float64Array,
    private readonly fragOffset: number,
    private readonly tail?: { pos: number; word: number },
  ) {}

  readAt(dst: Uint8Array, pos: number): number {
    const bs = this.fs.sb.blockSize;
    let done = 0;
    while (done < dst.length && pos + done < this.size) {
      const p = pos + done;
      const idx = Math.floor(p / bs);
      const inBlock = p - idx * bs;
      const blockLen = Math.min(bs, this.size - idx * bs);
      const take = Math.min(dst.length - done, blockLen - inBlock);
      if (idx < this.words.length) {
        const word = this.words[idx];
        if ((word & 0xffffff) === 0) dst.fill(0, done, done + take);
        else dst.set(this.fs.block(this.starts[idx], word, blockLen, this.inside).subarray(inBlock, inBlock + take), done);
      } else {
        if (!this.tail) throw this.fs.err("corrupt", "file tail without a fragment", this.inside);
        const b = this.fs.block(this.tail.pos, this.tail.word, this.fragOffset + blockLen, this.inside);
        dst.set(b.subarray(this.fragOffset + inBlock, this.fragOffset + inBlock + take), done);
      }
      done += take;
    }
    return done;
  }

  close(): void {}
}
