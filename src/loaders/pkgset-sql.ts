/** SQL the loaders share about stored package sets. */
import { quoteString } from "../db/index.ts";

/** The source packages (pkg_hash) of the package set with root `ruuid`, as a subquery: the list stays on the server. */
export function srpmHashesSql(ruuid: string): string {
  return `SELECT pkg_hash FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(ruuid)}) AND pkgset_nodename = 'srpm')`;
}
