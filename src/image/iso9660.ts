/** STUB (replaced by the img-iso reader at merge): ISO9660/Joliet/Rock Ridge without mounting. */
import { ImageError } from "./errors.ts";
import type { ByteSource, FileTree } from "./tree.ts";

export interface IsoVolumeInfo {
  volumeId: string;
  publisherId: string;
  applicationId: string;
  preparerId: string;
  systemId: string;
  created?: Date;
  modified?: Date;
}

export function openIso9660(src: ByteSource): FileTree {
  throw new ImageError("unsupported", "the userspace ISO9660 reader is not yet available", src.path);
}

export function isoVolumeInfo(src: ByteSource): IsoVolumeInfo {
  throw new ImageError("unsupported", "the userspace ISO9660 reader is not yet available", src.path);
}
