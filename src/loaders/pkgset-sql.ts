/** SQL and rows the loaders (repo, image) share about stored package sets. */
import { createHash } from "node:crypto";
import { quoteString } from "../db/index.ts";

export const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

/** A name-based (version 5, SHA-1) UUID of `key`: a rerun of a load addresses the same rows. */
export function nameUuid(key: string): string {
  const h = createHash("sha1").update(key).digest();
  h[6] = (h[6] & 0x0f) | 0x50; // version 5 (name-based, SHA-1)
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** A node of a package-set tree, as PackageSetName stores it. */
export interface PkgsetNodeName {
  uuid: string;
  puuid: string;
  depth: number;
  name: string;
  kv: [string, string][];
}

export interface PackageSetNameRow {
  pkgset_uuid: string;
  pkgset_puuid: string;
  pkgset_ruuid: string;
  pkgset_depth: number;
  pkgset_nodename: string;
  pkgset_date: number;
  pkgset_tag: string;
  pkgset_complete: 0 | 1;
  "pkgset_kv.k": string[];
  "pkgset_kv.v": string[];
}

export function nameRow(n: PkgsetNodeName, ruuid: string, date: number, tag: string, complete: boolean): PackageSetNameRow {
  return {
    pkgset_uuid: n.uuid,
    pkgset_puuid: n.puuid,
    pkgset_ruuid: ruuid,
    pkgset_depth: n.depth,
    pkgset_nodename: n.name,
    pkgset_date: date,
    pkgset_tag: tag,
    pkgset_complete: complete ? 1 : 0,
    "pkgset_kv.k": n.kv.map(([k]) => k),
    "pkgset_kv.v": n.kv.map(([, v]) => v),
  };
}

/** The source packages (pkg_hash) of the package set with root `ruuid`, as a subquery: the list stays on the server. */
export function srpmHashesSql(ruuid: string): string {
  return `SELECT pkg_hash FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(ruuid)}) AND pkgset_nodename = 'srpm')`;
}
