/**
 * Streaming content digests (md5, sha1, sha256, BLAKE2b-512) on Bun.CryptoHasher,
 * matching Python hashlib defaults as used by altrepodb. Digests are raw bytes.
 */
import { closeSync, constants, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";

export type DigestName = "md5" | "sha1" | "sha256" | "blake2b";

/** All supported digest names. */
export const DIGEST_NAMES: readonly DigestName[] = ["md5", "sha1", "sha256", "blake2b"];

/** Digest length in bytes per algorithm. */
export const DIGEST_SIZES: Readonly<Record<DigestName, number>> = {
  md5: 16,
  sha1: 20,
  sha256: 32,
  blake2b: 64,
};

const BUN_ALGO: Record<DigestName, Bun.SupportedCryptoAlgorithms> = {
  md5: "md5",
  sha1: "sha1",
  sha256: "sha256",
  blake2b: "blake2b512", // hashlib.blake2b(): 64-byte digest, unkeyed
};

/** Read size used by digestFile / digestFileSync. */
export const DIGEST_CHUNK_SIZE = 1 << 20;

export interface Digests {
  /** Feed the next chunk. The chunk is consumed synchronously and may be reused afterwards. */
  update(chunk: Uint8Array): void;
  /**
   * Finish and return the digests. Only the requested algorithms are present as keys.
   * May be called more than once (returns the same values); update() after digest() throws.
   */
  digest(): Record<DigestName, Uint8Array>;
}

function checkAlgos(algos: readonly DigestName[]): DigestName[] {
  const out: DigestName[] = [];
  for (const a of algos) {
    if (!Object.hasOwn(BUN_ALGO, a)) {
      throw new TypeError(`unsupported digest "${String(a)}" (expected one of ${DIGEST_NAMES.join(", ")})`);
    }
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

/** Create a set of streaming hashers for the given algorithms (duplicates are ignored). */
export function createDigests(algos: DigestName[]): Digests {
  const names = checkAlgos(algos);
  const hashers = names.map((n) => new Bun.CryptoHasher(BUN_ALGO[n]));
  let result: Record<DigestName, Uint8Array> | null = null;
  return {
    update(chunk: Uint8Array): void {
      if (result) throw new Error("createDigests: update() after digest()");
      for (let i = 0; i < hashers.length; i++) hashers[i].update(chunk);
    },
    digest(): Record<DigestName, Uint8Array> {
      if (!result) {
        const r = {} as Record<DigestName, Uint8Array>;
        for (let i = 0; i < names.length; i++) {
          // Copy out of the Buffer into a plain Uint8Array of exactly the digest size.
          r[names[i]] = new Uint8Array(hashers[i].digest());
        }
        result = r;
      }
      return result;
    },
  };
}

/**
 * Digest a file, read in DIGEST_CHUNK_SIZE chunks (never the whole file in memory).
 * Only the requested algorithms are present as keys. File errors (ENOENT, EISDIR, …) reject.
 */
export async function digestFile(path: string, algos: DigestName[]): Promise<Record<DigestName, Uint8Array>> {
  const d = createDigests(algos);
  // O_NONBLOCK: a FIFO never blocks the open; the reads below then fail or end at once
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = new Uint8Array(DIGEST_CHUNK_SIZE);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      d.update(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return d.digest();
}

/** Synchronous digestFile, for worker threads. */
let syncBuffer: Uint8Array | undefined;

export function digestFileSync(path: string, algos: DigestName[]): Record<DigestName, Uint8Array> {
  const d = createDigests(algos);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    // one buffer per thread: allocating (and zeroing) 1 MiB per call cost more than hashing small files
    const buf = (syncBuffer ??= new Uint8Array(DIGEST_CHUNK_SIZE));
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      d.update(n === buf.length ? buf : buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return d.digest();
}

/** Digest an in-memory buffer or string (UTF-8) in one go. */
export function digestBytes(data: Uint8Array | string, algos: DigestName[]): Record<DigestName, Uint8Array> {
  const d = createDigests(algos);
  d.update(typeof data === "string" ? new TextEncoder().encode(data) : data);
  return d.digest();
}
