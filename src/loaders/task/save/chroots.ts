/**
 * titer_chroot_base / titer_chroot_br: murmurHash3_64 over the Array(UInt64) of a chroot list,
 * computed BY THE SERVER as the reference does (`SELECT murmurHash3_64([...])`; the array hash
 * depends on the ClickHouse version, so it is never reimplemented here). The array is cast to
 * Array(UInt64) so the value always equals TaskChroots.tch_hash (a literal of small numbers
 * would otherwise be typed Array(UInt8) and hash differently).
 */
import { quoteIntArray, type Db } from "../../../db";

export async function serverArrayHashes(db: Db, lists: readonly (readonly bigint[])[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  const distinct = new Map<string, readonly bigint[]>();
  for (const l of lists) if (l.length) distinct.set(l.join(","), l);
  const entries = [...distinct.entries()];
  // a few lists per query keeps the statement small (a chroot has ~1000 elements)
  for (let i = 0; i < entries.length; i += 16) {
    const part = entries.slice(i, i + 16);
    const cols = part.map(([, l], j) => `murmurHash3_64(CAST(${quoteIntArray(l)}, 'Array(UInt64)')) AS h${j}`).join(", ");
    const [row] = await db.query<Record<string, bigint>>(`SELECT ${cols}`, { settings: { max_query_size: 64 * 1024 * 1024 } });
    part.forEach(([k], j) => out.set(k, BigInt(row[`h${j}`])));
  }
  return out;
}

export function chrootKey(list: readonly bigint[]): string {
  return list.join(",");
}
