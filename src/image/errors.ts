/**
 * Every failure of the image readers and openers is an ImageError: one line naming the image (or
 * the file inside it), what is wrong and, for a spawned tool, the tool and its stderr.
 */

export type ImageErrorCode =
  | "unsupported" // a format or feature this build does not read
  | "format" // not the format it claims to be (bad magic, inconsistent structure)
  | "truncated" // the data ends before what it announces
  | "io" // cannot open or read
  | "tool" // a spawned tool is missing, failed or timed out
  | "escape" // a path inside the image leads outside its root
  | "limit" // an entry or the whole set is larger than allowed
  | "missing"; // something the loader needs is not in the image

export class ImageError extends Error {
  override name = "ImageError";
  constructor(
    readonly code: ImageErrorCode,
    message: string,
    /** The image, or the file inside it, the message is about. */
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
  }
}

export function isImageError(e: unknown): e is ImageError {
  return e instanceof ImageError;
}
