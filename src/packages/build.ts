/** Parses one RPM file into the encoded rows of every package table (runs inside a worker). */
import { digestBytes, digestFileSync, toHex, type DigestName } from "../hash";
import { bytesEqual } from "../rpm";
import { RowWriter, compileLayout, type RowEncoder } from "../db/rowbinary";
import { buildPackageFromFile, extractSpecFrom, parsePackageBytes, pkgHash as computePkgHash, readPackage, type RpmPackage } from "../rpm";
import { changelogRows, dependRows, fileRows, packageHashRow, packageRow, specfileRow } from "./rows";
import type { EncodedTable, Layouts } from "./protocol";
import type { PackageFile } from "./types";
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";

/** Files up to this size are read whole (one read for header and digests). */
const WHOLE_FILE_LIMIT = 16 * 1024 * 1024;

export class RowBuilder {
  private readonly encoders = new Map<string, RowEncoder>();
  private readonly writer = new RowWriter(1 << 20);
  sourceHashes: Map<string, bigint> = new Map();

  constructor(layouts: Layouts) {
    for (const [table, layout] of Object.entries(layouts)) this.encoders.set(table, compileLayout(table, layout));
  }

  private encode(table: string, rows: readonly object[]): EncodedTable {
    const enc = this.encoders.get(table);
    if (!enc) throw new Error(`no layout for table ${table}`);
    for (const r of rows) enc.encode(this.writer, r as Record<string, unknown>);
    return { data: this.writer.take(), rows: rows.length };
  }

  identify(path: string): bigint {
    return computePkgHash(readPackage(path));
  }

  async load(file: PackageFile): Promise<{ pkgHash: bigint; md5: Uint8Array; tables: Record<string, EncodedTable>; warnings: string[] }> {
    // small files are read once: the header is parsed from and the digests taken over the same bytes
    const whole = statSync(file.path).size <= WHOLE_FILE_LIMIT ? readFileSync(file.path) : undefined;
    const pkg: RpmPackage = whole ? buildPackageFromFile(parsePackageBytes(whole, file.path)) : readPackage(file.path);
    const hash = computePkgHash(pkg);
    const name = file.name ?? basename(file.path);
    const warnings: string[] = [];
    const source = file.source;
    const sourceRpm = source ? name : pkg.sourcerpm;
    let srcrpmHash = source ? hash : file.srcrpmHash;
    if (srcrpmHash === undefined) {
      const key = new TextDecoder().decode(pkg.sourcerpm);
      srcrpmHash = this.sourceHashes.get(key);
      if (srcrpmHash === undefined) {
        srcrpmHash = 0n;
        if (key && !name.startsWith("i586-")) warnings.push(`source package ${key} is not in this load; pkg_srcrpm_hash = 0`);
      }
    }
    // MD5 is always taken from the file (a list that disagrees with it is reported: the file is
    // known by its MD5 from then on); SHA-256 and BLAKE2b from the lists when they have them
    const algos: DigestName[] = ["md5"];
    if (!file.sha256) algos.push("sha256");
    if (!file.blake2b) algos.push("blake2b");
    const d = whole ? digestBytes(whole, algos) : digestFileSync(file.path, algos);
    if (file.md5 && !bytesEqual(file.md5, d.md5)) throw new Error(`MD5 in the lists (${toHex(file.md5)}) does not match the file (${toHex(d.md5)})`);
    const digests = { md5: d.md5, sha256: file.sha256 ?? d.sha256, blake2b: file.blake2b ?? d.blake2b };

    const files = fileRows(pkg, hash);
    if (files.nonMd5Digests) warnings.push(`${files.nonMd5Digests} file digest(s) are not MD5; file_md5 left empty`);
    const tables: Record<string, EncodedTable> = {
      Changelog: this.encode("Changelog", changelogRows(pkg)),
      Files_insert: this.encode("Files_insert", files.rows),
      Depends: this.encode("Depends", dependRows(pkg, hash)),
      Packages: this.encode("Packages", [packageRow(pkg, { pkgHash: hash, fileName: name, fileSize: pkg.fileSize, sourceRpm, srcrpmHash })]),
    };
    if (pkg.isSource) {
      const spec = await extractSpecFrom(pkg);
      tables.Specfiles_insert = this.encode("Specfiles_insert", [specfileRow(pkg, hash, spec)]);
    }
    tables.PackageHash = this.encode("PackageHash", [packageHashRow(pkg, hash, digests)]);
    return { pkgHash: hash, md5: digests.md5, tables, warnings };
  }
}
