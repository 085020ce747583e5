/**
 * Every failure of an image reader is an ImageError: a code, one line saying what is wrong, and
 * the image (and the path inside it) it concerns.
 */

export type ImageErrorCode =
  | "io" // the image cannot be read
  | "format" // not this format, or a version / feature this reader refuses
  | "truncated" // a structure ends past the end of the image
  | "corrupt" // a structure is inconsistent (bad pointer, loop, block that does not decompress)
  | "unsupported" // a valid feature this reader does not implement (e.g. a compressor)
  | "not-found" // no such path inside the image
  | "limit"; // a size beyond what the reader accepts

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
