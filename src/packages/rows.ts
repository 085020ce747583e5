/**
 * Rows of one package (reference §1.6–§1.7), built from the RPM model. Text stays raw bytes:
 * valid UTF-8 as it is, anything else byte-exact.
 */
import type { ChangelogRow, DependRow, DependType, FileRow, HeaderDepKind, PackageHashRow, PackageHeaderInfoRow, PackageRow, SpecfileRow, Text } from "../models/package";
import { changelogEntries, fileClasses, pkgArch, pkgCs, splitPackager, type RpmDeps, type RpmPackage, type SpecFile } from "../rpm";

const EMPTY16 = new Uint8Array(16);
const NO_BYTES = new Uint8Array(0);

export interface PackageIdentity {
  pkgHash: bigint;
  /** pkg_filename */
  fileName: string;
  /** Size of the file on disk. */
  fileSize: number;
  /** For sources: own file name; binaries: the header's SOURCERPM. */
  sourceRpm: Uint8Array | string;
  srcrpmHash: bigint;
}

export function packageRow(pkg: RpmPackage, id: PackageIdentity): PackageRow {
  const packager = splitPackager(pkg.packager);
  const log = changelogEntries(pkg);
  return {
    pkg_hash: id.pkgHash,
    pkg_cs: pkgCs(pkg),
    pkg_packager: packager.name,
    pkg_packager_email: packager.email,
    pkg_name: pkg.name,
    pkg_arch: pkgArch(pkg),
    pkg_version: pkg.version,
    pkg_release: pkg.release,
    pkg_epoch: pkg.epoch ?? 0,
    pkg_serial_: pkg.epoch ?? 0,
    pkg_buildtime: pkg.buildtime ?? 0,
    pkg_buildhost: pkg.buildhost,
    pkg_size: pkg.size ?? 0,
    // the reference fails the insert when ARCHIVESIZE is missing; 0 keeps the package
    pkg_archivesize: pkg.archivesize ?? 0,
    pkg_filesize: id.fileSize,
    pkg_rpmversion: pkg.rpmversion,
    pkg_cookie: pkg.cookie,
    pkg_sourcepackage: pkg.isSource ? 1 : 0,
    pkg_disttag: pkg.disttag,
    pkg_sourcerpm: id.sourceRpm,
    pkg_srcrpm_hash: id.srcrpmHash,
    pkg_filename: id.fileName,
    pkg_complete: 0,
    pkg_summary: pkg.summary,
    pkg_description: pkg.description,
    "pkg_changelog.date": log.map((e) => e.date),
    "pkg_changelog.name": log.map((e) => e.name),
    "pkg_changelog.evr": log.map((e) => e.evr),
    "pkg_changelog.hash": log.map((e) => e.hash),
    pkg_distribution: pkg.distribution,
    pkg_vendor: pkg.vendor,
    pkg_gif: pkg.gif,
    pkg_xpm: pkg.xpm,
    pkg_license: pkg.license,
    pkg_group_: pkg.group,
    pkg_url: pkg.url,
    pkg_os: pkg.os,
    pkg_prein: pkg.prein,
    pkg_postin: pkg.postin,
    pkg_preun: pkg.preun,
    pkg_postun: pkg.postun,
    pkg_pretrans: pkg.pretrans,
    pkg_posttrans: pkg.posttrans,
    pkg_icon: pkg.icon,
    pkg_preinprog: pkg.preinprog,
    pkg_postinprog: pkg.postinprog,
    pkg_preunprog: pkg.preunprog,
    pkg_postunprog: pkg.postunprog,
    pkg_buildarchs: pkg.buildarchs,
    pkg_verifyscript: pkg.verifyscript,
    pkg_verifyscriptprog: pkg.verifyscriptprog,
    pkg_prefixes: pkg.prefixes,
    pkg_instprefixes: pkg.instprefixes,
    pkg_optflags: pkg.optflags,
    pkg_disturl: pkg.disturl,
    pkg_payloadformat: pkg.payloadformat,
    pkg_payloadcompressor: pkg.payloadcompressor,
    pkg_payloadflags: pkg.payloadflags,
    pkg_platform: pkg.platform,
    pkg_vcs: pkg.vcs,
  };
}

function nibble(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/** FILEDIGESTS hex → 16 raw bytes. Non-MD5 digests do not fit file_md5: they are left empty and counted. */
function fileMd5(hex: Uint8Array, isMd5: boolean): Uint8Array {
  if (hex.length !== 32 || !isMd5) return EMPTY16;
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const hi = nibble(hex[2 * i]);
    const lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return EMPTY16;
    out[i] = (hi << 4) | lo;
  }
  return out;
}

export interface FileRowsResult {
  rows: FileRow[];
  /** Files whose digest is not MD5 (file_md5 left empty). */
  nonMd5Digests: number;
}

export function fileRows(pkg: RpmPackage, pkgHash: bigint): FileRowsResult {
  const f = pkg.files;
  const classes = fileClasses(pkg);
  const isMd5 = f.digestAlgo === 1;
  const rows = new Array<FileRow>(f.count);
  let nonMd5 = 0;
  for (let i = 0; i < f.count; i++) {
    const digest = f.digests.get(i);
    if (!isMd5 && digest.length > 0) nonMd5++;
    rows[i] = {
      pkg_hash: pkgHash,
      file_name: f.names.get(i),
      file_linkto: f.linktos.get(i),
      file_md5: fileMd5(digest, isMd5),
      file_size: f.sizes[i] > 0xffffffff ? 0xffffffff : f.sizes[i],
      file_mode: f.modes[i],
      file_rdev: f.rdevs[i] & 0xffff,
      file_mtime: f.mtimes[i],
      file_flag: f.flags[i] & 0xffff,
      file_username: f.users.get(i),
      file_groupname: f.groups.get(i),
      file_verifyflag: f.verifyFlags[i],
      file_device: f.devices[i],
      file_lang: f.langs.get(i),
      file_class: classes[i],
    };
  }
  return { rows, nonMd5Digests: nonMd5 };
}

const DEP_KINDS: readonly [keyof Pick<RpmPackage, "requires" | "conflicts" | "obsoletes" | "provides">, DependType][] = [
  ["requires", "require"],
  ["conflicts", "conflict"],
  ["obsoletes", "obsolete"],
  ["provides", "provide"],
];

export function dependRows(pkg: RpmPackage, pkgHash: bigint): DependRow[] {
  const rows: DependRow[] = [];
  for (const [key, type] of DEP_KINDS) {
    const d: RpmDeps = pkg[key];
    for (let i = 0; i < d.count; i++) rows.push({ pkg_hash: pkgHash, dp_name: d.names.get(i), dp_version: d.versions.get(i), dp_flag: d.flags[i], dp_type: type });
  }
  return rows;
}

/** RECOMMEND/SUGGEST/SUPPLEMENT/ENHANCE NAME, VERSION, FLAGS tags (rpm >= 4.12). */
const WEAK_TAGS: readonly [HeaderDepKind, number, number, number][] = [
  ["recommend", 5046, 5047, 5048],
  ["suggest", 5049, 5050, 5051],
  ["supplement", 5052, 5053, 5054],
  ["enhance", 5055, 5056, 5057],
];

/**
 * PackageHeaderInfo (sql/0108): header range, explicit epoch, file mtime, every dependency in
 * header order (duplicates and weak dependencies kept) and the raw CHANGELOGNAMEs.
 */
export function headerInfoRow(pkg: RpmPackage, pkgHash: bigint, fileMtime: number): PackageHeaderInfoRow {
  const kinds: HeaderDepKind[] = [];
  const names: Text[] = [];
  const flags: number[] = [];
  const versions: Text[] = [];
  for (const [key, type] of DEP_KINDS) {
    const d: RpmDeps = pkg[key];
    for (let i = 0; i < d.count; i++) {
      kinds.push(type);
      names.push(d.names.get(i));
      flags.push(d.flags[i]);
      versions.push(d.versions.get(i));
    }
  }
  const h = pkg.header;
  for (const [kind, nameTag, versionTag, flagsTag] of WEAK_TAGS) {
    const n = h.strList(nameTag);
    if (!n) continue;
    const v = h.strList(versionTag);
    let f: ArrayLike<number> = [];
    try {
      f = h.ints(flagsTag);
    } catch {
      f = [];
    }
    for (let i = 0; i < n.length; i++) {
      kinds.push(kind);
      names.push(n.get(i));
      flags.push(i < f.length ? f[i] : 0);
      versions.push(v && i < v.length ? v.get(i) : "");
    }
  }
  const c = pkg.changelog;
  const chlog: Text[] = [];
  for (let i = 0; i < c.count; i++) chlog.push(c.names.get(i));
  return {
    pkg_hash: pkgHash,
    phi_header_start: Math.max(0, pkg.headerStart),
    phi_header_end: Math.max(0, pkg.headerEnd),
    phi_epoch_set: pkg.epoch === null ? 0 : 1,
    phi_file_mtime: Math.max(0, Math.min(0xffffffff, Math.floor(fileMtime))),
    "phi_deps.kind": kinds,
    "phi_deps.name": names,
    "phi_deps.flag": flags,
    "phi_deps.version": versions,
    phi_changelog_name: chlog,
    phi_packager: pkg.packager,
  };
}

/** One row per distinct (hash, text). */
export function changelogRows(pkg: RpmPackage): ChangelogRow[] {
  const seen = new Set<bigint>();
  const rows: ChangelogRow[] = [];
  for (const e of changelogEntries(pkg)) {
    if (seen.has(e.hash)) continue;
    seen.add(e.hash);
    rows.push({ chlog_hash: e.hash, chlog_text: e.text });
  }
  return rows;
}

export function specfileRow(pkg: RpmPackage, pkgHash: bigint, spec: SpecFile): SpecfileRow {
  return {
    pkg_hash: pkgHash,
    pkg_name: pkg.name,
    pkg_epoch: pkg.epoch ?? 0,
    pkg_version: pkg.version,
    pkg_release: pkg.release,
    specfile_name: spec.name,
    specfile_date: spec.mtime,
    specfile_content_base64: Buffer.from(spec.bytes).toString("base64"),
  };
}

export function packageHashRow(pkg: RpmPackage, pkgHash: bigint, d: { md5: Uint8Array; sha256: Uint8Array; blake2b: Uint8Array }): PackageHashRow {
  return { pkgh_mmh: pkgHash, pkgh_md5: d.md5, pkgh_sha1: pkgCs(pkg), pkgh_sha256: d.sha256 ?? NO_BYTES, pkgh_blake2b: d.blake2b ?? NO_BYTES };
}
