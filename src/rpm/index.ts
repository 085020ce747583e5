/**
 * RPM format library: the only public entry of src/rpm. See README.md for the text rule and
 * the deliberate differences from the reference implementation.
 */
export { RpmError, isRpmError } from "./errors.ts";
export type { RpmErrorCode } from "./errors.ts";

export { Header, parseHeader, headerSize, typeName, MAX_TAGS, MAX_DATA } from "./header.ts";
export type { HeaderEntry, ParseHeaderOptions } from "./header.ts";
export { parseLead, LEAD_SIZE } from "./lead.ts";
export type { Lead } from "./lead.ts";
export { TAG, SIGTAG, TYPE, sigToMainTag } from "./tags.ts";

export { readPackageFile, parsePackageBytes, openRegularSync, fileTypeOf } from "./file.ts";
export type { PackageFile } from "./file.ts";
export { readPackage, buildPackageFromFile, packageFromHeader } from "./package.ts";
export type { FromHeaderOptions } from "./package.ts";
export type { RpmPackage, RpmFiles, RpmDeps, RpmChangelog, NumberArray } from "./model.ts";
export { StringList } from "./strings.ts";

export {
  text,
  utf8,
  isValidUtf8,
  decodeEscaped,
  encodeEscaped,
  bytesEqual,
  EMPTY,
} from "./text.ts";

export {
  pkgHash,
  pkgCs,
  pkgArch,
  splitPackager,
  splitChangelogName,
  changelogEntries,
  fileClass,
  fileClasses,
  fileClassInfo,
  classFromMode,
} from "./derived.ts";
export type { Packager, ChangelogEntry, FileClass } from "./derived.ts";

export { extractSpec, extractSpecFrom, payloadCompression, payloadEntries } from "./payload.ts";
export type { SpecFile, PayloadOptions, PayloadEntry } from "./payload.ts";
export type { CpioEntry } from "./cpio.ts";
export { detectCompression, openDecompressed } from "./decompress.ts";
export type { Compression, Decompressed, DecompressOptions } from "./decompress.ts";

export { readHeaderList, parseHeaderList, aptTags } from "./pkglist.ts";
export type { AptEntry, AptTags, HeaderListOptions } from "./pkglist.ts";

export { dumpPackage, dumpAptEntry, dumpPath, formatDump, isDumpError } from "./dump.ts";
export type { DumpedPackage, DumpedFile, DumpedDep, DumpedChangelog, DumpError } from "./dump.ts";
