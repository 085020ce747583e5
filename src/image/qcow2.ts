/** STUB (replaced by the img-disk reader at merge): QCOW2 as a flat disk. */
import { ImageError } from "./errors.ts";
import type { ByteSource } from "./tree.ts";

export function openQcow2(src: ByteSource): ByteSource & { close?(): void } {
  throw new ImageError("unsupported", "the userspace QCOW2 reader is not yet available", src.path);
}
