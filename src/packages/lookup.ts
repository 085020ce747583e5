/** Which files are already in the database, asked in bulk (a temporary table, like the reference). */
import { quoteIntList, RowWriter, type Db } from "../db";

const MD5_TABLE = "_altrepodb_md5";

/** md5 (hex) → pkg_hash for the given file digests found in PackageHash. */
export async function knownByMd5(db: Db, md5s: readonly Uint8Array[]): Promise<Map<string, bigint>> {
  const found = new Map<string, bigint>();
  if (md5s.length === 0) return found;
  await db.command(`CREATE TEMPORARY TABLE IF NOT EXISTS ${MD5_TABLE} (md5 FixedString(16))`);
  await db.command(`TRUNCATE TABLE ${MD5_TABLE}`);
  const w = new RowWriter(md5s.length * 16 + 16);
  for (const m of md5s) w.raw(m.length === 16 ? m : new Uint8Array(16));
  await db.insertRowBinary(MD5_TABLE, ["md5"], w.bytes());
  const rows = await db.query<{ md5: string; mmh: bigint }>(
    `SELECT lower(hex(pkgh_md5)) AS md5, any(pkgh_mmh) AS mmh FROM PackageHash WHERE pkgh_md5 IN (SELECT md5 FROM ${MD5_TABLE}) GROUP BY pkgh_md5`,
  );
  for (const r of rows) found.set(r.md5, r.mmh);
  return found;
}

/** (pkg_hash, md5 hex) pairs already in PackageHash for the given hashes. */
export async function packageHashPairs(db: Db, hashes: readonly bigint[]): Promise<Map<bigint, Set<string>>> {
  const out = new Map<bigint, Set<string>>();
  for (let i = 0; i < hashes.length; i += 20_000) {
    const rows = await db.query<{ h: bigint; md5: string }>(
      `SELECT DISTINCT pkgh_mmh AS h, lower(hex(pkgh_md5)) AS md5 FROM PackageHash WHERE pkgh_mmh IN ${quoteIntList(hashes.slice(i, i + 20_000))}`,
      { settings: { max_query_size: 64 * 1024 * 1024 } },
    );
    for (const r of rows) {
      let s = out.get(r.h);
      if (!s) out.set(r.h, (s = new Set()));
      s.add(r.md5);
    }
  }
  return out;
}

/** Hashes among `hashes` that have a PackageHeaderInfo row (sql/0108), or a row of `table` keyed by pkg_hash. */
export async function withHeaderInfo(db: Db, hashes: readonly bigint[], table: "PackageHeaderInfo" | "PackageHeaderBlob" = "PackageHeaderInfo"): Promise<Set<bigint>> {
  const out = new Set<bigint>();
  for (let i = 0; i < hashes.length; i += 20_000) {
    const rows = await db.query<{ h: bigint }>(`SELECT DISTINCT pkg_hash AS h FROM ${table} WHERE pkg_hash IN ${quoteIntList(hashes.slice(i, i + 20_000))}`, {
      settings: { max_query_size: 64 * 1024 * 1024 },
    });
    for (const r of rows) out.add(BigInt(r.h));
  }
  return out;
}
