/**
 * Stored package sets, read as plain rows every export writer uses: `BRANCH[@YYYY-MM-DD]` →
 * the root of that load (the latest complete one without a date), its members with their place
 * in the snapshot tree.
 */
import { quoteString, type Db } from "../../db";
import { sourceNameOf, type MergeItem } from "../../export/merge";
import { InputError } from "../errors";

export interface SetSpec {
  /** As the user wrote it: the origin in merged lists. */
  given: string;
  branch: string;
  date?: string;
}

export interface ResolvedSet {
  spec: SetSpec;
  ruuid: string;
  /** YYYY-MM-DD */
  date: string;
  dateEpoch: number;
}

/** One member of a set: a package and where its file lives in the snapshot tree. */
export interface SetPackage extends MergeItem {
  pkgHash: bigint;
  fileName: string;
  /** Directory of the file relative to the snapshot root: `x86_64/RPMS.classic`, `files/SRPMS`. */
  dir: string;
  sourceRpm: string;
}

export function parseSetSpec(s: string): SetSpec {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.+-]*)(?:@(\d{4}-\d{2}-\d{2}))?$/.exec(s);
  if (!m) throw new InputError(`package set ${JSON.stringify(s)} is not BRANCH or BRANCH@YYYY-MM-DD`);
  if (m[2] && Number.isNaN(Date.parse(`${m[2]}T00:00:00Z`))) throw new InputError(`package set ${JSON.stringify(s)}: ${m[2]} is not a date`);
  return { given: s, branch: m[1].toLowerCase(), date: m[2] };
}

function isoDate(epoch: number): string {
  return new Date(epoch * 1000).toISOString().slice(0, 10);
}

export async function resolveSet(db: Db, spec: SetSpec): Promise<ResolvedSet> {
  const dateCond = spec.date ? ` AND pkgset_date = toDateTime(${Date.parse(`${spec.date}T00:00:00Z`) / 1000}, 'UTC')` : "";
  const rows = await db.query<{ r: string; d: number; c: number }>(
    `SELECT toString(pkgset_ruuid) AS r, toUInt32(toUnixTimestamp(pkgset_date)) AS d, max(pkgset_complete) AS c FROM PackageSetName
     WHERE pkgset_depth = 0 AND pkgset_nodename = ${quoteString(spec.branch)}${dateCond}
     GROUP BY r, d ORDER BY d DESC, c DESC`,
  );
  if (rows.length === 0) {
    if (!spec.date) throw new InputError(`package set ${spec.given}: no branch ${JSON.stringify(spec.branch)} has been loaded`);
    const any = await db.query<{ n: bigint }>(`SELECT count() AS n FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = ${quoteString(spec.branch)}`);
    if (any[0].n === 0n) throw new InputError(`package set ${spec.given}: no branch ${JSON.stringify(spec.branch)} has been loaded`);
    throw new InputError(`package set ${spec.given}: branch ${spec.branch} has no package set dated ${spec.date}`);
  }
  const complete = rows.find((r) => Number(r.c) === 1);
  if (spec.date && !complete) {
    throw new InputError(`package set ${spec.given} is incomplete (its load reported failures; load it again to complete it): refusing to export it`);
  }
  if (!complete) throw new InputError(`package set ${spec.given}: branch ${spec.branch} has no complete package set (the latest, ${isoDate(Number(rows[0].d))}, is incomplete)`);
  const d = Number(complete.d);
  return { spec, ruuid: complete.r, date: isoDate(d), dateEpoch: d };
}

interface MemberRow {
  h: bigint;
  path: string;
  node: string;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  src: number;
  file: string;
  srpm: string;
  found: number;
}

/** Every member of the set (sources and binaries), one row per (package, directory). */
export async function readSetPackages(db: Db, set: ResolvedSet): Promise<SetPackage[]> {
  const ruuid = `toUUID(${quoteString(set.ruuid)})`;
  const rows = await db.query<MemberRow>(
    `SELECT m.pkg_hash AS h, n.path AS path, n.nm AS node, p.name AS name, p.epoch AS epoch, p.version AS version, p.release AS release,
            p.arch AS arch, p.src AS src, p.file AS file, p.srpm AS srpm, p.found AS found
     FROM (SELECT DISTINCT pkgset_uuid, pkg_hash FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = ${ruuid} AND pkgset_depth > 0)) AS m
     INNER JOIN (SELECT pkgset_uuid AS u, any(pkgset_nodename) AS nm, any(pkgset_kv.v[indexOf(pkgset_kv.k, 'path')]) AS path
                 FROM PackageSetName WHERE pkgset_ruuid = ${ruuid} AND pkgset_depth > 0 GROUP BY u) AS n ON m.pkgset_uuid = n.u
     LEFT JOIN (SELECT pkg_hash, any(pkg_name) AS name, any(pkg_epoch) AS epoch, any(pkg_version) AS version, any(pkg_release) AS release,
                       any(toString(pkg_arch)) AS arch, any(pkg_sourcepackage) AS src, any(pkg_filename) AS file, any(pkg_sourcerpm) AS srpm, 1 AS found
                FROM Packages WHERE pkg_hash IN (SELECT pkg_hash FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = ${ruuid}))
                GROUP BY pkg_hash) AS p ON p.pkg_hash = m.pkg_hash`,
  );
  const lost = rows.filter((r) => Number(r.found) !== 1).length;
  if (lost) throw new InputError(`package set ${set.spec.given}: ${lost} of its ${rows.length} members have no Packages row (the set is damaged)`);
  const out = rows.map((r): SetPackage => {
    const source = Number(r.src) === 1;
    return {
      pkgHash: BigInt(r.h),
      name: r.name,
      epoch: Number(r.epoch),
      version: r.version,
      release: r.release,
      arch: r.arch,
      source,
      sourceName: source ? r.name : sourceNameOf(r.srpm),
      fileName: r.file,
      dir: source ? "files/SRPMS" : r.path || r.node,
      sourceRpm: r.srpm,
    };
  });
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return out.sort((a, b) => cmp(a.fileName, b.fileName) || cmp(a.dir, b.dir));
}
