/**
 * Every failure of the image readers and openers is an ImageError: a code, one line naming the
 * image (and where in it: a partition, an inner path, a cluster), what is wrong and, for a
 * spawned tool, the tool and its stderr.
 */

export type ImageErrorCode =
  | "io" // the image cannot be opened or read
  | "format" // not this format, or a version / feature this reader refuses
  | "truncated" // a structure ends past the end of the image
  | "corrupt" // a structure is inconsistent (bad pointer, block that does not decompress)
  | "loop" // a directory, extent or symlink loop
  | "unsupported" // a valid feature this build does not read (e.g. a compressor)
  | "not-found" // no such path inside the image
  | "not-dir" // a directory was expected
  | "not-file" // a regular file was expected
  | "limit" // a size beyond what the reader accepts
  | "tool" // a spawned tool is missing or failed
  | "timeout" // a spawned tool did not finish in time
  | "decompress" // a compressed stream (an .img.xz) fails midway
  | "escape" // a path inside the image leads outside its root
  | "missing" // something the loader needs is not in the image
  | "closed"; // the tree was used after close()

export class ImageError extends Error {
  override name = "ImageError";
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    /** The image and, where it applies, the path inside it: "live.iso:/LiveOS/squashfs.img". */
    readonly path: string = "",
  ) {
    super(path ? `${path}: ${message}` : message);
  }
}

export function isImageError(e: unknown): e is ImageError {
  return e instanceof ImageError;
}
