/**
 * Every failure of the image readers is an ImageError: one line naming the image, where in it
 * (a partition, an inner path, a cluster) and what is wrong.
 */

export class ImageError extends Error {
  override name = "ImageError";
  constructor(
    /** "io", "format", "unsupported", "truncated", "corrupt", "loop", "not-found", "tool", ... */
    readonly code: string,
    message: string,
    /** The image file (and the inner path when there is one: "disk.qcow2: /var/lib/rpm/Packages"). */
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
  }
}

export function isImageError(e: unknown): e is ImageError {
  return e instanceof ImageError;
}
