/**
 * The rows of rpm-md for a batch of packages, read from the database only: Packages,
 * PackageHash (sha256 = pkgid), PackageHeaderInfo (header range, dependencies in header order,
 * raw packager and changelog names, file mtime), Files + FileNames, Changelog.
 * Strings that are not UTF-8 come back hex-encoded behind a NUL and are read as ISO-8859-1, as
 * createrepo_c does.
 */
import { insertRows, quoteString, type Db } from "../../db";
import { forceUtf8, type DepKind, type RpmmdPackage } from "../../export/rpmmd";

/** A String column as valid UTF-8 or `\0` + hex of the raw bytes. */
function t(col: string): string {
  return `if(isValidUTF8(${col}), ${col}, concat('\\0', hex(${col})))`;
}
function ta(col: string): string {
  return `arrayMap(x -> if(isValidUTF8(x), x, concat('\\0', hex(x))), ${col})`;
}

/** Raw bytes of a value written by t()/ta(). */
function rawOf(v: string): Buffer {
  return v.startsWith("\0") ? Buffer.from(v.slice(1), "hex") : Buffer.from(v, "utf8");
}
function txt(v: string): string {
  return v.startsWith("\0") ? forceUtf8(Buffer.from(v.slice(1), "hex")) : v;
}

const BIG = { settings: { max_query_size: 64 * 1024 * 1024 } };

interface PkgRow {
  h: bigint;
  summary: string;
  description: string;
  url: string;
  license: string;
  vendor: string;
  grp: string;
  buildhost: string;
  srpm: string;
  buildtime: number;
  filesize: bigint | number;
  size: bigint | number;
  archivesize: bigint | number;
  cl_date: number[];
  cl_hash: (bigint | string)[];
  sha256: string;
}

interface InfoRow {
  h: bigint;
  hs: bigint | number;
  he: bigint | number;
  mtime: number;
  kinds: DepKind[];
  names: string[];
  flags: number[];
  versions: string[];
  cl_names: string[];
  packager: string;
}

/** What the export needs to know about each member it writes (from the set reader). */
export interface PackagePlace {
  pkgHash: bigint;
  name: string;
  arch: string;
  epoch: number;
  version: string;
  release: string;
  href: string;
}

/**
 * The packages of one export, stored in altrepodb_export_batches in output order, so that each
 * query names its batch by a range of sequence numbers (no hash list in the query text).
 */
export class ExportBatches {
  private constructor(
    private readonly db: Db,
    readonly run: string,
  ) {}

  static async create(db: Db, hashes: readonly bigint[]): Promise<ExportBatches> {
    const run = `${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
    for (let i = 0; i < hashes.length; i += 100_000) {
      await insertRows(db, "altrepodb_export_batches", hashes.slice(i, i + 100_000).map((h, k) => ({ run, seq: i + k, pkg_hash: h })), ["run", "seq", "pkg_hash"]);
    }
    return new ExportBatches(db, run);
  }

  /** A subquery of the hashes of packages [from, to) in output order. */
  range(from: number, to: number): string {
    return `(SELECT pkg_hash FROM altrepodb_export_batches WHERE run = ${quoteString(this.run)} AND seq >= ${from} AND seq < ${to})`;
  }

  all(): string {
    return `(SELECT pkg_hash FROM altrepodb_export_batches WHERE run = ${quoteString(this.run)})`;
  }

  async drop(): Promise<void> {
    await this.db.command(`DELETE FROM altrepodb_export_batches WHERE run = ${quoteString(this.run)}`).catch(() => undefined);
  }
}

/** Packages of the export that lack a PackageHeaderInfo row or a sha256 (loaded before migration 0108). */
export async function lackingRpmmdFields(db: Db, batches: ExportBatches): Promise<Set<bigint>> {
  const all = batches.all();
  const rows = await db.query<{ h: bigint }>(
    `SELECT DISTINCT pkg_hash AS h FROM altrepodb_export_batches WHERE run = ${quoteString(batches.run)}
     AND (pkg_hash NOT IN (SELECT pkg_hash FROM PackageHeaderInfo WHERE pkg_hash IN ${all})
          OR pkg_hash NOT IN (SELECT pkgh_mmh FROM PackageHash WHERE pkgh_mmh IN ${all} AND pkgh_sha256 != unhex(repeat('00', 32))))`,
  );
  return new Set(rows.map((r) => BigInt(r.h)));
}

/** Full rpm-md rows of a batch (a few hundred packages), in the order of `places`. */
export async function readRpmmdRows(db: Db, places: readonly PackagePlace[], list: string): Promise<RpmmdPackage[]> {
  const pkgs = await db.query<PkgRow>(
    `SELECT p.h AS h, summary, description, url, license, vendor, grp, buildhost, srpm, buildtime, filesize, size, archivesize, cl_date, cl_hash, ph.sha256 AS sha256
     FROM (SELECT pkg_hash AS h, ${t("pkg_summary")} AS summary, ${t("pkg_description")} AS description, ${t("toString(pkg_url)")} AS url,
                  ${t("toString(pkg_license)")} AS license, ${t("toString(pkg_vendor)")} AS vendor, ${t("pkg_group_")} AS grp,
                  ${t("toString(pkg_buildhost)")} AS buildhost, ${t("pkg_sourcerpm")} AS srpm, pkg_buildtime AS buildtime, pkg_filesize AS filesize,
                  pkg_size AS size, pkg_archivesize AS archivesize, arraySlice(pkg_changelog.date, 1, 10) AS cl_date_t,
                  arrayMap(d -> toUInt32(d), cl_date_t) AS cl_date, arraySlice(pkg_changelog.hash, 1, 10) AS cl_hash
           FROM Packages WHERE pkg_hash IN ${list} LIMIT 1 BY pkg_hash) AS p
     INNER JOIN (SELECT pkgh_mmh AS h, lower(hex(min(pkgh_sha256))) AS sha256 FROM PackageHash WHERE pkgh_mmh IN ${list} GROUP BY pkgh_mmh) AS ph ON ph.h = p.h`,
    BIG,
  );
  const infos = await db.query<InfoRow>(
    `SELECT pkg_hash AS h, phi_header_start AS hs, phi_header_end AS he, phi_file_mtime AS mtime, arrayMap(k -> toString(k), phi_deps.kind) AS kinds,
            ${ta("phi_deps.name")} AS names, phi_deps.flag AS flags, ${ta("phi_deps.version")} AS versions,
            ${ta("arraySlice(phi_changelog_name, 1, 10)")} AS cl_names, ${t("phi_packager")} AS packager
     FROM PackageHeaderInfo WHERE pkg_hash IN ${list} LIMIT 1 BY pkg_hash`,
    BIG,
  );
  const files = await db.query<{ h: bigint; name: string; mode: number; flag: number }>(
    `SELECT f.pkg_hash AS h, ${t("n.fn_name")} AS name, f.mode AS mode, f.flag AS flag
     FROM (SELECT pkg_hash, file_hashname, any(file_mode) AS mode, any(file_flag) AS flag FROM Files WHERE pkg_hash IN ${list} GROUP BY pkg_hash, file_hashname) AS f
     INNER JOIN (SELECT fn_hash, any(fn_name) AS fn_name FROM FileNames WHERE fn_hash IN (SELECT file_hashname FROM Files WHERE pkg_hash IN ${list}) GROUP BY fn_hash) AS n
     ON n.fn_hash = f.file_hashname`,
    BIG,
  );
  const texts = new Map<bigint, string>();
  const chlog = await db.query<{ h: bigint; text: string }>(
    `SELECT chlog_hash AS h, ${t("chlog_text")} AS text FROM Changelog
     WHERE chlog_hash IN (SELECT arrayJoin(arraySlice(pkg_changelog.hash, 1, 10)) FROM Packages WHERE pkg_hash IN ${list}) LIMIT 1 BY chlog_hash`,
    BIG,
  );
  for (const r of chlog) texts.set(BigInt(r.h), txt(r.text));
  const pkgBy = new Map(pkgs.map((p) => [BigInt(p.h), p]));
  const infoBy = new Map(infos.map((r) => [BigInt(r.h), r]));
  const filesBy = new Map<bigint, { name: string; raw: Buffer; mode: number; flags: number }[]>();
  for (const f of files) {
    const h = BigInt(f.h);
    let l = filesBy.get(h);
    if (!l) filesBy.set(h, (l = []));
    l.push({ name: txt(f.name), raw: rawOf(f.name), mode: Number(f.mode), flags: Number(f.flag) });
  }
  // the header lists files sorted by path (rpmbuild sorts them; byte order)
  for (const l of filesBy.values()) l.sort((a, b) => Buffer.compare(a.raw, b.raw));
  return places.map((pl): RpmmdPackage => {
    const p = pkgBy.get(pl.pkgHash);
    const info = infoBy.get(pl.pkgHash);
    if (!p || !info) throw new Error(`package ${pl.name}-${pl.version}-${pl.release}.${pl.arch}: its rows vanished while exporting`);
    return {
      pkgid: p.sha256,
      name: pl.name,
      arch: pl.arch,
      epoch: pl.epoch,
      version: pl.version,
      release: pl.release,
      summary: txt(p.summary),
      description: txt(p.description),
      packager: txt(info.packager),
      url: txt(p.url),
      timeFile: Number(info.mtime),
      timeBuild: Number(p.buildtime),
      sizePackage: Number(p.filesize),
      sizeInstalled: Number(p.size),
      sizeArchive: Number(p.archivesize),
      href: pl.href,
      license: txt(p.license),
      vendor: txt(p.vendor),
      group: txt(p.grp),
      buildhost: txt(p.buildhost),
      sourcerpm: txt(p.srpm),
      headerStart: Number(info.hs),
      headerEnd: Number(info.he),
      deps: info.kinds.map((kind, i) => ({ kind, name: txt(info.names[i]), flags: Number(info.flags[i]), version: txt(info.versions[i]) })),
      files: (filesBy.get(pl.pkgHash) ?? []).map((f) => ({ name: f.name, mode: f.mode, flags: f.flags })),
      changelog: p.cl_date.map((d, i) => ({ author: txt(info.cl_names[i] ?? ""), date: Number(d), text: texts.get(BigInt(p.cl_hash[i])) ?? "" })),
    };
  });
}
