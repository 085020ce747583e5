/** STUB (replaced by the img-disk reader at merge): ext4 without mounting. */
import { ImageError } from "./errors.ts";
import type { ByteSource, FileTree } from "./tree.ts";

export function openExt4(src: ByteSource): FileTree {
  throw new ImageError("unsupported", "the userspace ext4 reader is not yet available", src.path);
}
