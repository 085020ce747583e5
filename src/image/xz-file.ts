/** STUB (replaced by the img-disk reader at merge): random access to a .xz/.gz/.zst disk image. */
import { ImageError } from "./errors.ts";
import type { ByteSource } from "./tree.ts";

export async function openXzFile(path: string): Promise<{ source: ByteSource; close(): Promise<void> }> {
  throw new ImageError("unsupported", "the userspace compressed-image reader is not yet available", path);
}
