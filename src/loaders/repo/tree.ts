/**
 * The package-set tree of one load (reference §2.13): its nodes with the reference's pkgset_kv
 * keys, and writing them — members before the node that names them, the root row last.
 */
import { BatchWriter, type Db, type RowCounts } from "../../db";
import { crashPoint } from "../../packages/crash";
import { throwIfAborted } from "../errors";
import type { Snapshot } from "./layout";
import type { Listing } from "./lists";
import { clearMembers, nameRow, nodeUuid, ZERO_UUID, type PkgsetNode } from "./pkgset";

export interface Tree {
  /** srpm, arch and component nodes, in writing order. */
  children: PkgsetNode[];
  root: PkgsetNode;
}

export function buildTree(snap: Snapshot, listing: Listing, branch: string, date: string, srcHash: Map<string, bigint>, binHash: Map<string, bigint>): Tree {
  const node = (path: string): string => nodeUuid(branch, date, path);
  const ruuid = node("/");
  const srcMembers = [...new Set(srcHash.values())];
  const children: PkgsetNode[] = [
    {
      uuid: node("/srpm"),
      puuid: ruuid,
      depth: 1,
      name: "srpm",
      kv: [
        ["depth", "1"],
        ["type", "srpm"],
        ["size", String(srcMembers.length)],
        ["class", "repository"],
        ["SRPMS", snap.archs.map((a) => `${a.name}/SRPMS.classic`).join(", ")],
        ["repo", branch],
      ],
      members: srcMembers,
    },
  ];
  for (const a of snap.archs) {
    children.push({
      uuid: node(`/${a.name}`),
      puuid: ruuid,
      depth: 1,
      name: a.name,
      kv: [["depth", "1"], ["type", "arch"], ["size", "0"], ["class", "repository"], ["path", a.name], ["repo", branch]],
    });
  }
  for (const a of snap.archs) {
    for (const c of a.components) {
      const names = listing.components.get(`${a.name}/${c}`) ?? [];
      const members = [...new Set(names.map((n) => binHash.get(n)).filter((h): h is bigint => h !== undefined))];
      children.push({
        uuid: node(`/${a.name}/${c}`),
        puuid: node(`/${a.name}`),
        depth: 2,
        name: c,
        kv: [["depth", "2"], ["type", "comp"], ["size", String(members.length)], ["class", "repository"], ["path", `${a.name}/RPMS.${c}`], ["repo", branch]],
        members,
      });
    }
  }
  const comps = [...new Set(snap.archs.flatMap((a) => a.components))].sort();
  const root: PkgsetNode = {
    uuid: ruuid,
    puuid: ZERO_UUID,
    depth: 0,
    name: branch,
    kv: [
      ["depth", "0"],
      ["type", "repo"],
      ["size", String(listing.sources.size + listing.binaries.size)],
      ["class", "repository"],
      ...snap.taskInfo,
      ["archs", snap.archs.map((a) => a.name).sort().join(", ")],
      ["comps", comps.join(", ")],
    ],
  };
  return { children, root };
}

export interface TreeWrite {
  dateEpoch: number;
  tag: string;
  complete: boolean;
  signal?: AbortSignal;
}

/** Writes the tree; the root row last: it completes the load (and fires the StaticLastPackages views). */
export async function writeTree(db: Db, tree: Tree, w: TreeWrite): Promise<RowCounts> {
  const writer = await BatchWriter.open(db, ["PackageSet", "PackageSetName"], { maxRows: 500_000 });
  writer.afterTable = (table) => crashPoint(`pkgset-after-${table}`);
  await clearMembers(
    db,
    tree.children.map((n) => n.uuid),
  );
  const ruuid = tree.root.uuid;
  for (const n of tree.children) {
    for (const h of n.members ?? []) await writer.add("PackageSet", { pkgset_uuid: n.uuid, pkg_hash: h });
    await writer.add("PackageSetName", nameRow(n, ruuid, w.dateEpoch, w.tag, w.complete));
  }
  await writer.flush();
  throwIfAborted(w.signal);
  crashPoint("before-root");
  await writer.add("PackageSetName", nameRow(tree.root, ruuid, w.dateEpoch, w.tag, w.complete));
  return writer.close();
}
