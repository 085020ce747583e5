/** STUB (replaced by the img-iso reader at merge): squashfs without mounting. */
import { ImageError } from "./errors.ts";
import type { ByteSource, FileTree } from "./tree.ts";

export function openSquashfs(src: ByteSource): FileTree {
  throw new ImageError("unsupported", "the userspace squashfs reader is not yet available", src.path);
}
