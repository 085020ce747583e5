/** Snowflake ids as used for pkg_hash and SquashFS ids (altrepodb `snowflake_id`). */

export const SNOWFLAKE_EPOCH = 1_000_000_000;

const U64_MAX_HI = 0xffffffff;

/**
 * `((ts − epoch) << 32) | (low32 & 0xFFFFFFFF)` as an unsigned 64-bit bigint.
 *
 * Throws RangeError when ts or epoch is not a safe integer, when low32 is not an integer,
 * when ts < epoch (the Python original silently produced a negative id that fails on insert)
 * or when ts − epoch does not fit in 32 bits (the id would exceed 2^64 − 1).
 * low32 is reduced modulo 2^32 like Python's `& 0xFFFFFFFF` (negative int32 values are fine).
 */
export function snowflake(ts: number, low32: number, epoch: number = SNOWFLAKE_EPOCH): bigint {
  if (!Number.isSafeInteger(ts)) throw new RangeError(`snowflake: timestamp must be a safe integer, got ${ts}`);
  if (!Number.isSafeInteger(epoch)) throw new RangeError(`snowflake: epoch must be a safe integer, got ${epoch}`);
  if (!Number.isInteger(low32)) throw new RangeError(`snowflake: low 32 bits must be an integer, got ${low32}`);
  const hi = ts - epoch;
  if (hi < 0) {
    throw new RangeError(`snowflake: timestamp ${ts} is before the epoch ${epoch}; the id would be negative`);
  }
  if (hi > U64_MAX_HI) {
    throw new RangeError(`snowflake: timestamp ${ts} is more than 2^32-1 s after the epoch ${epoch}; the id would exceed 2^64-1`);
  }
  const lo = low32 >>> 0; // ToUint32 is exact modulo 2^32 for any integral double
  // hi < 2^21 keeps hi * 2^32 + lo exact as a double (< 2^53); cheaper than bigint shifts.
  if (hi < 0x200000) return BigInt(hi * 4294967296 + lo);
  return (BigInt(hi) << 32n) | BigInt(lo);
}
