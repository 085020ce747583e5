/**
 * Hash primitives, bit-exact with altrepodb 2.3.14 and ClickHouse
 * (reference: repo-and-task-loaders.md §0.3, §6.1). A leaf library: imports nothing
 * from the rest of the project.
 */
export { mmhash, murmur128, murmur32 } from "./murmur.ts";
export { snowflake, SNOWFLAKE_EPOCH } from "./snowflake.ts";
export {
  createDigests,
  digestBytes,
  digestFile,
  digestFileSync,
  DIGEST_CHUNK_SIZE,
  DIGEST_NAMES,
  DIGEST_SIZES,
} from "./digest.ts";
export type { DigestName, Digests } from "./digest.ts";
export { fromHex, toHex } from "./hex.ts";
