/**
 * Loading an unchanged snapshot under a new date. The lists of a snapshot name every package with
 * its MD5, so two snapshots with byte-identical lists (and release, hash lists, task.info) have
 * the same package set. A fingerprint of those files is stored with each complete load; a later
 * load with the same fingerprint copies the earlier tree server-side (new node ids, same members)
 * instead of reading the lists and looking every package up.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { insertRows, quoteString, type Db, type RowCounts } from "../../db";
import { crashPoint } from "../../packages/crash";
import { type Snapshot } from "./layout";
import { clearMembers, nameRow, nodeUuid, ZERO_UUID } from "./pkgset";

const LOADS = "altrepodb_repo_loads";

/** Fingerprint of the files that decide the package set; undefined when a component has no pkglist. */
export function snapshotFingerprint(snap: Snapshot): string | undefined {
  const h = createHash("sha256");
  const add = (label: string, path: string) => {
    h.update(`${label}\0`);
    h.update(readFileSync(path));
    h.update("\0");
  };
  let srclists = 0;
  for (const a of snap.archs) {
    h.update(`arch ${a.name}\0`);
    for (const c of a.components) {
      const list = a.pkglists.get(c);
      if (!list) return undefined;
      add(`pkglist ${a.name} ${c}`, list);
    }
    if (a.components.length) add(`release ${a.name}`, join(snap.root, a.name, "base", "release"));
    if (a.srclist) {
      add(`srclist ${a.name}`, a.srclist);
      srclists++;
    }
  }
  if (srclists === 0) return undefined;
  for (const [arch, path] of [...snap.hashLists].sort()) add(`hash ${arch}`, path);
  h.update(`task.info ${JSON.stringify(snap.taskInfo)}`);
  return h.digest("hex");
}

/** Root uuid of the newest complete load of this branch with the same fingerprint, if still stored. */
export async function sameSnapshot(db: Db, branch: string, fingerprint: string): Promise<string | undefined> {
  const rows = await db.query<{ ruuid: string }>(
    `SELECT toString(ruuid) AS ruuid FROM ${LOADS}
     WHERE branch = ${quoteString(branch)} AND fingerprint = ${quoteString(fingerprint)}
       AND ruuid IN (SELECT pkgset_ruuid FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_complete = 1)
     ORDER BY at DESC LIMIT 1`,
  );
  return rows[0]?.ruuid;
}

/**
 * The package files of load `from`, as the database knows them: for every node of its tree the
 * members' file names (Packages.pkg_filename) and sizes (pkg_filesize, the size the file had when
 * it was parsed), under the node's directory (files/SRPMS for the srpm node, the component's
 * `path` for the others). For an unchanged snapshot these are the files its lists name, without
 * reading the lists.
 */
export async function storedFiles(db: Db, from: string): Promise<{ dir: string; name: string; size: number }[]> {
  const ruuid = `toUUID(${quoteString(from)})`;
  const rows = await db.query<{ dir: string; name: string; size: bigint | number }>(
    `SELECT N.dir AS dir, P.name AS name, P.size AS size
     FROM (SELECT pkgset_uuid, if(pkgset_nodename = 'srpm' AND pkgset_depth = 1, 'files/SRPMS', pkgset_kv.v[indexOf(pkgset_kv.k, 'path')]) AS dir
           FROM PackageSetName WHERE pkgset_ruuid = ${ruuid} AND pkgset_depth > 0) AS N
     INNER JOIN PackageSet AS S ON S.pkgset_uuid = N.pkgset_uuid
     INNER JOIN (SELECT pkg_hash, any(pkg_filename) AS name, any(pkg_filesize) AS size FROM Packages
                 WHERE pkg_hash IN (SELECT pkg_hash FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = ${ruuid}))
                 GROUP BY pkg_hash) AS P ON P.pkg_hash = S.pkg_hash`,
  );
  return rows.map((r) => ({ dir: r.dir, name: r.name, size: Number(r.size) }));
}

export async function recordLoad(db: Db, branch: string, date: string, ruuid: string, fingerprint: string): Promise<void> {
  await db.command(
    `INSERT INTO ${LOADS} (branch, date, ruuid, fingerprint) VALUES (${quoteString(branch)}, ${quoteString(date)}, toUUID(${quoteString(ruuid)}), ${quoteString(fingerprint)})`,
  );
}

interface StoredNode {
  uuid: string;
  puuid: string;
  depth: number;
  name: string;
  k: string[];
  v: string[];
}

export interface CloneResult {
  packages: number;
  rows: RowCounts;
}

/**
 * Writes the tree of load `from` again for (branch, date): PackageSet copied by INSERT … SELECT,
 * PackageSetName rows with the new ids, the root last (as in a normal load).
 */
export async function cloneLoad(db: Db, from: string, branch: string, date: string, dateEpoch: number, tag: string): Promise<CloneResult> {
  const nodes = await db.query<StoredNode>(
    `SELECT toString(pkgset_uuid) AS uuid, toString(pkgset_puuid) AS puuid, pkgset_depth AS depth, pkgset_nodename AS name,
            pkgset_kv.k AS k, pkgset_kv.v AS v
     FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(from)}) ORDER BY pkgset_depth DESC`,
  );
  const byUuid = new Map(nodes.map((n) => [n.uuid, n]));
  const pathOf = (n: StoredNode): string => (n.depth === 0 ? "/" : n.depth === 1 ? `/${n.name}` : `${pathOf(byUuid.get(n.puuid)!)}/${n.name}`);
  const ruuid = nodeUuid(branch, date, "/");
  const newId = (n: StoredNode) => nodeUuid(branch, date, pathOf(n));
  const rows: RowCounts = { PackageSet: 0, PackageSetName: 0 };
  await clearMembers(db, nodes.map(newId));
  // every node's members in one INSERT … SELECT, old node ids mapped to the new ones
  const uuidArray = (ids: string[]) => `[${ids.map((u) => `toUUID(${quoteString(u)})`).join(", ")}]`;
  const olds = nodes.map((n) => n.uuid);
  const news = nodes.map(newId);
  const [counts] = await db.query<{ rows: bigint; packages: bigint }>(
    `SELECT count() AS rows, uniqExact(pkg_hash) AS packages FROM PackageSet WHERE pkgset_uuid IN ${uuidArray(olds)}`,
  );
  await db.command(
    `INSERT INTO PackageSet (pkgset_uuid, pkg_hash)
     SELECT toUUID(transform(toString(pkgset_uuid), [${olds.map(quoteString).join(", ")}], [${news.map(quoteString).join(", ")}])), pkg_hash
     FROM PackageSet WHERE pkgset_uuid IN ${uuidArray(olds)}`,
  );
  rows.PackageSet = Number(counts.rows);
  crashPoint("clone-members");
  const nameRows = nodes.map((n) =>
    nameRow({ uuid: newId(n), puuid: n.depth === 0 ? ZERO_UUID : newId(byUuid.get(n.puuid)!), depth: n.depth, name: n.name, kv: n.k.map((k, i) => [k, n.v[i]]) }, ruuid, dateEpoch, tag, true),
  );
  // children first, the root (depth 0, last in the list) alone and last
  const root = nameRows.pop()!;
  await insertRows(db, "PackageSetName", nameRows);
  await insertRows(db, "PackageSetName", [root]);
  rows.PackageSetName = nameRows.length + 1;
  return { packages: Number(counts.packages), rows };
}
