/**
 * The database side of an image load (reference §1.6): the base-branch guess, the "every package
 * is already in Packages" check, the package-set tree (PackageSetName + PackageSet, children
 * first, the root row last: it is the "complete" mark and fires mv_image_pkgset), and the
 * ImageStatus / ImageTagStatus rows. Node ids derive from (tag, date, node), so a rerun of an
 * interrupted load replaces its own partial rows; --force deletes a complete load first.
 */
import { BatchWriter, quoteIntList, quoteString, type Db, type RowCounts } from "../../db";
import { throwIfAborted } from "../errors";
import { nameRow, nameUuid, ZERO_UUID } from "../pkgset-sql.ts";

export { ZERO_UUID };
const CHUNK = 5000;

export function imageNodeUuid(tag: string, date: string, node: string): string {
  return nameUuid(`altrepodb:image:${tag}:${date}:${node}`);
}

function chunks<T>(xs: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += CHUNK) out.push(xs.slice(i, i + CHUNK));
  return out;
}

/** The hashes that are not in Packages. */
export async function missingHashes(db: Db, hashes: readonly bigint[]): Promise<Set<bigint>> {
  const want = [...new Set(hashes)];
  const have = new Set<bigint>();
  for (const c of chunks(want)) {
    const rows = await db.query<{ h: bigint }>(`SELECT DISTINCT pkg_hash AS h FROM Packages WHERE pkg_hash IN ${quoteIntList(c)}`);
    for (const r of rows) have.add(BigInt(r.h));
  }
  return new Set(want.filter((h) => !have.has(h)));
}

export interface BaseBranch {
  name: string;
  date: string;
  /** Image packages found in that repository state. */
  matched: number;
}

/**
 * §1.6.1: the repository state of `branch` (root package sets named so) sharing the most packages
 * with the image through its component sets (depth 2); ties go to the latest. Also the most
 * likely branch among the latest package sets (static_last_packages), for the log.
 */
export async function guessBaseBranch(db: Db, branch: string, hashes: readonly bigint[]): Promise<{ best?: BaseBranch; likely?: { name: string; matched: number } }> {
  const roots = await db.query<{ r: string; d: string }>(
    `SELECT toString(pkgset_ruuid) AS r, toString(pkgset_date) AS d FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = ${quoteString(branch)} AND pkgset_complete = 1`,
  );
  const counts = new Map<string, number>();
  const likely = new Map<string, number>();
  const uniq = [...new Set(hashes)];
  for (const c of chunks(uniq)) {
    if (roots.length) {
      const rows = await db.query<{ r: string; n: bigint }>(
        `SELECT toString(N.pkgset_ruuid) AS r, uniqExact(S.pkg_hash) AS n FROM PackageSet AS S
         INNER JOIN (SELECT pkgset_uuid, pkgset_ruuid FROM PackageSetName WHERE pkgset_depth = 2 AND pkgset_ruuid IN (${roots.map((x) => `toUUID(${quoteString(x.r)})`).join(", ")})) AS N
           ON N.pkgset_uuid = S.pkgset_uuid
         WHERE S.pkg_hash IN ${quoteIntList(c)} GROUP BY N.pkgset_ruuid`,
      );
      for (const r of rows) counts.set(r.r, (counts.get(r.r) ?? 0) + Number(r.n));
    }
    const l = await db.query<{ p: string; n: bigint }>(
      `SELECT pkgset_name AS p, uniqExact(pkg_hash) AS n FROM static_last_packages WHERE pkg_sourcepackage = 0 AND pkg_hash IN ${quoteIntList(c)} AND position(pkgset_name, ':') = 0 GROUP BY pkgset_name`,
    );
    for (const r of l) likely.set(r.p, (likely.get(r.p) ?? 0) + Number(r.n));
  }
  let best: BaseBranch | undefined;
  for (const root of roots) {
    const n = counts.get(root.r) ?? 0;
    if (n === 0) continue;
    if (!best || n > best.matched || (n === best.matched && root.d > best.date)) best = { name: branch, date: root.d, matched: n };
  }
  const top = [...likely].sort((a, b) => b[1] - a[1])[0];
  return { best, likely: top ? { name: top[0], matched: top[1] } : undefined };
}

export interface ImageNode {
  uuid: string;
  puuid: string;
  depth: number;
  name: string;
  kv: [string, string][];
  members: readonly bigint[];
}

export interface ImageTree {
  root: ImageNode;
  children: ImageNode[];
}

/** Root ids of loads of this tag and date (ours or the reference's random ones), complete or not. */
export async function existingImageLoads(db: Db, tag: string, dateEpoch: number): Promise<{ ruuid: string; complete: boolean }[]> {
  const rows = await db.query<{ r: string; root: number; c: number }>(
    `SELECT toString(pkgset_ruuid) AS r, countIf(pkgset_depth = 0) AS root, max(pkgset_complete) AS c FROM PackageSetName
     WHERE pkgset_tag = ${quoteString(tag)} AND pkgset_date = toDateTime(${dateEpoch}, 'UTC') GROUP BY pkgset_ruuid`,
  );
  return rows.map((r) => ({ ruuid: r.r, complete: Number(r.root) > 0 && Number(r.c) === 1 }));
}

/** Every row of a load: members, nodes, and the ImagePackageSetName row its root made. */
export async function deleteImageLoad(db: Db, ruuid: string): Promise<void> {
  const r = `toUUID(${quoteString(ruuid)})`;
  await db.command(`DELETE FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = ${r})`);
  await db.command(`DELETE FROM ImagePackageSetName WHERE pkgset_uuid = ${r}`);
  await db.command(`DELETE FROM PackageSetName WHERE pkgset_ruuid = ${r}`);
}

/** Children (with their members) first, the root last. */
export async function writeImageTree(db: Db, tree: ImageTree, w: { dateEpoch: number; tag: string; complete: boolean; signal?: AbortSignal }): Promise<RowCounts> {
  const writer = await BatchWriter.open(db, ["PackageSet", "PackageSetName"], { maxRows: 500_000 });
  const ruuid = tree.root.uuid;
  const ids = [ruuid, ...tree.children.map((c) => c.uuid)];
  const [left] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM PackageSet WHERE pkgset_uuid IN (${ids.map((u) => `toUUID(${quoteString(u)})`).join(", ")})`);
  if (BigInt(left.n) > 0n) await db.command(`DELETE FROM PackageSet WHERE pkgset_uuid IN (${ids.map((u) => `toUUID(${quoteString(u)})`).join(", ")})`);
  for (const n of [...tree.children, tree.root]) {
    if (n === tree.root) {
      await writer.flush();
      throwIfAborted(w.signal);
    }
    for (const h of new Set(n.members)) await writer.add("PackageSet", { pkgset_uuid: n.uuid, pkg_hash: h });
    await writer.add("PackageSetName", nameRow(n, ruuid, w.dateEpoch, w.tag, w.complete));
  }
  return writer.close();
}

/** §1.6.4: a hidden ImageStatus row per (branch, edition) and ImageTagStatus row per tag, when missing. */
export async function ensureImageStatus(db: Db, s: { branch: string; edition: string; tag: string; name: string }): Promise<RowCounts> {
  const counts: RowCounts = {};
  const [st] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM ImageStatus WHERE img_branch = ${quoteString(s.branch)} AND img_edition = ${quoteString(s.edition)}`);
  if (BigInt(st.n) === 0n) {
    const w = await BatchWriter.open(db, ["ImageStatus"]);
    await w.add("ImageStatus", {
      img_branch: s.branch,
      img_edition: s.edition,
      img_name: s.name,
      img_show: "hide",
      img_start_date: Math.floor(Date.now() / 1000),
      img_end_date: Date.UTC(2099, 0, 1) / 1000,
      img_summary_ru: `${s.branch} ${s.edition}`,
      img_summary_en: `${s.branch} ${s.edition}`,
      img_description_ru: "",
      img_description_en: "",
      img_mailing_list: "",
      img_name_bugzilla: "",
      img_json: "{}",
    });
    Object.assign(counts, await w.close());
  }
  const [tg] = await db.query<{ n: bigint }>(`SELECT count() AS n FROM ImageTagStatus WHERE img_tag = ${quoteString(s.tag)}`);
  if (BigInt(tg.n) === 0n) {
    const w = await BatchWriter.open(db, ["ImageTagStatus"]);
    await w.add("ImageTagStatus", { img_tag: s.tag, img_show: "hide" });
    Object.assign(counts, await w.close());
  }
  return counts;
}
