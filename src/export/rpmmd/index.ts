/** rpm-md (createrepo_c-compatible) repository writers: plain rows in, repodata/ out. */
export type { RpmmdPackage, RpmmdDep, RpmmdFile, RpmmdChangelog, DepKind } from "./types";
export { primaryFragment, filelistsFragment, otherFragment, newestChangelog, CHANGELOG_LIMIT } from "./fragments";
export { depsOf, parseEvr, flagString, isPrimaryPath } from "./deps";
export { forceUtf8, escAttr, escText } from "./xml";
export { RpmmdWriter, type Fragments, type WriterOptions } from "./writer";
export { repomdXml, type RepomdRecord } from "./repomd";
export { COMPRESSIONS, compressFile, SUFFIX, type Compression } from "./compress";
export { signDetached, validKeyId } from "./sign";
