/**
 * A squashfs layer without an rpm database (typically `altinst`), as the reference stores it
 * (§1.7.5): its files are matched to packages of the best-matching loaded state of the branch by
 * (name hash, MD5); those packages are the layer's, and the files no package ships ("orphans")
 * go to a metapackage `<layer>_orphaned-files_<iso>_<date>` whose hash is the squashfs id.
 * Differences from the reference, on purpose: a file matches by its name hash AND its MD5 (the
 * reference decided orphans by MD5 alone); FIFOs, devices and sockets are never opened (the
 * reference read FIFOs and could hang) and keep their own class; nothing is written before every
 * check of the load has passed. Owner names are not read (the tree interface has no uid/gid):
 * `file_username`/`file_groupname` stay empty.
 */
import { createHash } from "node:crypto";
import type { FileTree, TreeEntry } from "../../image/tree";
import { classFromMode } from "../../rpm";
import { mmhash } from "../../hash";
import { hexLiteral, quoteIntList, quoteString, type Db, type RowCounts } from "../../db";
import type { ImagePackage } from "./read";
import { throwIfAborted } from "../errors";

export interface LayerFile {
  name: string;
  hashname: bigint;
  md5: Uint8Array;
  entry: TreeEntry;
}

const ZERO16 = new Uint8Array(16);
const CHUNK = 2000;

/** Every entry of the layer that is not a directory (a symlink to a directory counts as one), with the MD5 of regular files. */
export function layerFiles(tree: FileTree, signal?: AbortSignal): LayerFile[] {
  const out: LayerFile[] = [];
  const buf = new Uint8Array(1024 * 1024);
  const walk = (dir: string) => {
    for (const e of tree.list(dir)) {
      throwIfAborted(signal);
      if (e.type === "dir") {
        walk(e.path);
        continue;
      }
      if (e.type === "symlink" && tree.stat(`${e.path}/.`)?.type === "dir") continue;
      let md5 = ZERO16;
      if (e.type === "file") {
        const h = createHash("md5");
        const f = tree.open(e.path);
        try {
          for (let pos = 0; pos < f.size; ) {
            const n = f.readAt(buf, pos);
            if (n === 0) break;
            h.update(buf.subarray(0, n));
            pos += n;
          }
        } finally {
          f.close();
        }
        md5 = new Uint8Array(h.digest());
      }
      out.push({ name: e.path, hashname: mmhash(e.path), md5, entry: e });
    }
  };
  walk("/");
  return out;
}

const pair = (f: LayerFile) => `${f.hashname}:${Buffer.from(f.md5).toString("hex")}`;

/** The packages of the branch's best-matching state that ship these files, and the files none ships. */
export async function matchLayer(db: Db, branch: string, arch: string, files: LayerFile[]): Promise<{ packages: ImagePackage[]; orphans: LayerFile[] }> {
  const regular = files.filter((f) => f.entry.type === "file");
  const hit = new Set<bigint>();
  for (let i = 0; i < regular.length; i += CHUNK) {
    const tuples = regular.slice(i, i + CHUNK).map((f) => `(${f.hashname}, ${hexLiteral(f.md5)})`).join(", ");
    for (const r of await db.query<{ h: bigint }>(`SELECT DISTINCT pkg_hash AS h FROM Files WHERE (file_hashname, file_md5) IN (${tuples})`)) hit.add(BigInt(r.h));
  }
  let found: bigint[] = [];
  if (hit.size) {
    const rows = await db.query<{ r: string; d: string; h: bigint }>(
      `SELECT toString(N.pkgset_ruuid) AS r, toString(N.pkgset_date) AS d, S.pkg_hash AS h FROM PackageSet AS S
       INNER JOIN (SELECT pkgset_uuid, pkgset_ruuid, pkgset_date FROM PackageSetName WHERE pkgset_depth = 2 AND pkgset_ruuid IN
         (SELECT pkgset_ruuid FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_nodename = ${quoteString(branch)} AND pkgset_complete = 1)) AS N
         ON N.pkgset_uuid = S.pkgset_uuid
       WHERE S.pkg_hash IN ${quoteIntList(hit)}`,
    );
    const byRoot = new Map<string, { d: string; hs: Set<bigint> }>();
    for (const r of rows) {
      const x = byRoot.get(r.r) ?? { d: r.d, hs: new Set<bigint>() };
      x.hs.add(BigInt(r.h));
      byRoot.set(r.r, x);
    }
    const best = [...byRoot.values()].sort((a, b) => b.hs.size - a.hs.size || (b.d > a.d ? 1 : -1))[0];
    found = best ? [...best.hs] : [];
  }
  const known = new Set<string>();
  let packages: ImagePackage[] = [];
  if (found.length) {
    const archs = ["noarch", arch, ...(arch === "x86_64" ? ["x86_64-i586"] : [])];
    const pk = await db.query<{ h: bigint; n: string; a: string; e: number; v: string; r: string; t: string; b: number; s: number }>(
      `SELECT DISTINCT pkg_hash AS h, pkg_name AS n, pkg_arch AS a, pkg_epoch AS e, pkg_version AS v, pkg_release AS r, pkg_disttag AS t, pkg_buildtime AS b, pkg_sourcepackage AS s
       FROM Packages WHERE pkg_hash IN ${quoteIntList(found)} AND pkg_arch IN (${archs.map(quoteString).join(", ")})`,
    );
    packages = pk.map((p) => ({ hash: BigInt(p.h), name: p.n, arch: p.a, epoch: Number(p.e), version: p.v, release: p.r, disttag: p.t, buildtime: Number(p.b), isSource: Number(p.s) === 1 }));
    // the files those packages ship (all found packages, as the reference: no arch filter here)
    for (let i = 0; i < found.length; i += CHUNK) {
      const fr = await db.query<{ n: bigint; m: string }>(`SELECT file_hashname AS n, lower(hex(file_md5)) AS m FROM Files WHERE pkg_hash IN ${quoteIntList(found.slice(i, i + CHUNK))}`);
      for (const r of fr) known.add(`${BigInt(r.n)}:${r.m}`);
    }
  }
  return { packages, orphans: files.filter((f) => !known.has(pair(f))) };
}

export interface Metapackage {
  hash: bigint;
  name: string;
  arch: string;
  layer: string;
  iso: string;
  branch: string;
  buildtime: number;
  size: number;
  sha1: Uint8Array;
}

/** The metapackage's Packages, Files (through Files_insert) and PackageHash rows (replacing any earlier ones). */
export async function writeMetapackage(db: Db, m: Metapackage, orphans: LayerFile[]): Promise<RowCounts> {
  const h = String(m.hash);
  await db.command(`DELETE FROM Files WHERE pkg_hash = ${h}`);
  await db.command(`DELETE FROM Packages WHERE pkg_hash = ${h}`);
  await db.command(`DELETE FROM PackageHash WHERE pkgh_mmh = ${h}`);
  for (let i = 0; i < orphans.length; i += CHUNK) {
    const values = orphans
      .slice(i, i + CHUNK)
      .map((f) => {
        const cls = f.entry.type === "symlink" ? "symlink" : f.entry.type === "file" ? "file" : classFromMode(f.entry.mode);
        return `(${h}, ${quoteString(f.name)}, ${quoteString(f.entry.target ?? "")}, ${hexLiteral(f.md5)}, ${Math.min(f.entry.size, 0xffffffff)}, ${f.entry.mode & 0xffff}, 0, ${Math.max(0, f.entry.mtime)}, 0, '', '', 0, 0, '', ${quoteString(cls)})`;
      })
      .join(", ");
    await db.command(
      `INSERT INTO Files_insert (pkg_hash, file_name, file_linkto, file_md5, file_size, file_mode, file_rdev, file_mtime, file_flag, file_username, file_groupname, file_verifyflag, file_device, file_lang, file_class) VALUES ${values}`,
    );
  }
  const summary = `Metapackage for orphaned files from '${m.layer}' SquashFS image`;
  await db.command(
    `INSERT INTO Packages (pkg_hash, pkg_cs, pkg_packager, pkg_packager_email, pkg_name, pkg_arch, pkg_version, pkg_release, pkg_epoch, pkg_serial_, pkg_buildtime, pkg_buildhost,
       pkg_size, pkg_archivesize, pkg_filesize, pkg_rpmversion, pkg_cookie, pkg_sourcepackage, pkg_disttag, pkg_sourcerpm, pkg_srcrpm_hash, pkg_filename, pkg_complete,
       pkg_summary, pkg_description, pkg_distribution, pkg_vendor, pkg_group_, pkg_os)
     VALUES (${h}, ${hexLiteral(m.sha1)}, 'ISO Loader', 'iso_loader@altlinux.org', ${quoteString(m.name)}, ${quoteString(m.arch)}, '', '', 0, 0, ${m.buildtime}, '',
       ${m.size}, ${m.size}, ${m.size}, '', '', 0, '', ${quoteString(m.layer)}, 0, ${quoteString(m.name)}, 1,
       ${quoteString(summary)}, ${quoteString(`${summary} from '${m.iso}' ISO image`)}, ${quoteString(`ALT ${m.branch}`)}, 'BASEALT LTD', 'Other', 'ALT Linux')`,
  );
  await db.command(`INSERT INTO PackageHash (pkgh_mmh, pkgh_md5, pkgh_sha1, pkgh_sha256, pkgh_blake2b) VALUES (${h}, '', ${hexLiteral(m.sha1)}, '', '')`);
  return { Files_insert: orphans.length, Packages: 1, PackageHash: 1 };
}
