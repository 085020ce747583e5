/** STUB (replaced by the img-disk reader at merge): MBR/GPT partition tables. */
import { ImageError } from "./errors.ts";
import type { ByteSource } from "./tree.ts";

export interface Partition {
  index: number;
  /** Byte offset of the partition in the disk. */
  start: number;
  /** Bytes. */
  size: number;
  type: string;
  name: string;
}

export function readPartitions(src: ByteSource): Partition[] {
  throw new ImageError("unsupported", "the partition table reader is not yet available", src.path);
}

export function linuxPartitions(src: ByteSource): Partition[] {
  throw new ImageError("unsupported", "the partition table reader is not yet available", src.path);
}
