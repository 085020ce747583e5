/** Parses one RPM file into the encoded rows of every package table (runs inside a worker). */
import { digestBytes, digestFileSync, toHex, type DigestName } from "../hash";
import { bytesEqual } from "../rpm";
import { RowWriter, compileLayout, type RowEncoder } from "../db/rowbinary";
import { buildPackageFromFile, extractSpecFrom, openRegularSync, parsePackageBytes, pkgHash as computePkgHash, readPackage, type RpmPackage } from "../rpm";
import { changelogRows, dependRows, fileRows, headerInfoRow, packageHashRow, packageRow, specfileRow } from "./rows";
import type { EncodedTable, Layouts } from "./protocol";
import type { PackageFile } from "./types";
import { closeSync, fstatSync, readSync, statSync } from "node:fs";
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

  private scratch = new Uint8Array(1 << 20);

  /**
   * The file's bytes when it is small enough, else undefined (read in parts). A binary package is
   * built and encoded without awaiting anything, so its bytes go into one reused buffer: fresh
   * buffers per file made the two parser threads fault in memory instead of parsing.
   * Sources await their spec extraction and get a buffer of their own.
   */
  private readWhole(file: PackageFile): Uint8Array | undefined {
    const fd = openRegularSync(file.path);
    try {
      const size = fstatSync(fd).size;
      if (size > WHOLE_FILE_LIMIT) return undefined;
      let buf: Uint8Array;
      if (file.source) buf = new Uint8Array(size);
      else {
        if (this.scratch.length < size) this.scratch = new Uint8Array(Math.max(size, this.scratch.length * 2));
        buf = this.scratch.subarray(0, size);
      }
      let got = 0;
      while (got < size) {
        const n = readSync(fd, buf, got, size - got, got);
        if (n === 0) throw new Error(`file shrank while being read (${got} of ${size} bytes)`);
        got += n;
      }
      return buf;
    } finally {
      closeSync(fd);
    }
  }

  identify(path: string): bigint {
    return computePkgHash(readPackage(path));
  }

  async load(file: PackageFile): Promise<{ pkgHash: bigint; md5: Uint8Array; tables: Record<string, EncodedTable>; warnings: string[] }> {
    // small files are read once: the header is parsed from and the digests taken over the same bytes
    const whole = this.readWhole(file);
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
    tables.PackageHeaderInfo = this.encode("PackageHeaderInfo", [headerInfoRow(pkg, hash, Math.floor(statSync(file.path).mtimeMs / 1000))]);
    tables.PackageHeaderBlob = this.encode("PackageHeaderBlob", [{ pkg_hash: hash, phb_header: pkg.header.bytes }]);
    tables.PackageHash = this.encode("PackageHash", [packageHashRow(pkg, hash, digests)]);
    return { pkgHash: hash, md5: digests.md5, tables, warnings };
  }
}
