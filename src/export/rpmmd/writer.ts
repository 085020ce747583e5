/**
 * Streams an rpm-md repository into `dir/repodata`: the three XML files are written plain while
 * packages come in (only one package's fragments in memory at a time), then compressed and named
 * by their checksum, then repomd.xml. Pure file output: no database.
 */
import { createHash, type Hash } from "node:crypto";
import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { compressFile, SUFFIX, type Compression } from "./compress";
import { FILELISTS_TAIL, OTHER_TAIL, PRIMARY_TAIL, filelistsHead, otherHead, primaryHead } from "./fragments";
import { repomdXml, type RepomdRecord } from "./repomd";

export interface Fragments {
  primary: string;
  filelists: string;
  other: string;
}

type Kind = keyof Fragments;
const KINDS: readonly Kind[] = ["primary", "filelists", "other"];

class PlainFile {
  private fd: number;
  private readonly hash: Hash = createHash("sha256");
  size = 0;
  private buf: string[] = [];
  private pending = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, "w", 0o644);
  }

  write(s: string): void {
    this.buf.push(s);
    this.pending += s.length;
    if (this.pending >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.buf.length === 0) return;
    const b = Buffer.from(this.buf.join(""), "utf8");
    this.buf = [];
    this.pending = 0;
    this.hash.update(b);
    this.size += b.length;
    let off = 0;
    while (off < b.length) off += writeSync(this.fd, b, off, b.length - off);
  }

  close(): string {
    try {
      this.flush();
    } finally {
      this.release();
    }
    return this.hash.digest("hex");
  }

  /** Closes the file without writing what is buffered (after a failure); idempotent. */
  release(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeSync(fd);
  }
}

export interface WriterOptions {
  compress: Compression;
  /** <revision> and every <timestamp> of repomd.xml (the set's date). */
  revision: number;
}

export class RpmmdWriter {
  private readonly files: Record<Kind, PlainFile>;
  private written = 0;

  constructor(
    private readonly dir: string,
    private readonly count: number,
    private readonly opts: WriterOptions,
  ) {
    const repodata = join(dir, "repodata");
    mkdirSync(repodata, { recursive: true });
    this.files = {
      primary: new PlainFile(join(repodata, "primary.xml")),
      filelists: new PlainFile(join(repodata, "filelists.xml")),
      other: new PlainFile(join(repodata, "other.xml")),
    };
    this.files.primary.write(primaryHead(count));
    this.files.filelists.write(filelistsHead(count));
    this.files.other.write(otherHead(count));
  }

  add(f: Fragments): void {
    for (const k of KINDS) this.files[k].write(f[k]);
    this.written++;
  }

  /** Closes every file after a failure, so that nothing holds the output's filesystem. */
  abort(): void {
    for (const k of KINDS) {
      try {
        this.files[k].release();
      } catch {
        // already failing: the first error is the one reported
      }
    }
  }

  /** Closes the XML files, compresses them, writes repomd.xml; returns its records. */
  async finish(): Promise<RepomdRecord[]> {
    if (this.written !== this.count) throw new Error(`rpm-md writer: ${this.written} packages written, ${this.count} announced`);
    this.files.primary.write(PRIMARY_TAIL);
    this.files.filelists.write(FILELISTS_TAIL);
    this.files.other.write(OTHER_TAIL);
    const records: RepomdRecord[] = [];
    const repodata = join(this.dir, "repodata");
    for (const k of KINDS) {
      const f = this.files[k];
      const openChecksum = f.close();
      const tmp = `${f.path}${SUFFIX[this.opts.compress]}`;
      const z = await compressFile(f.path, tmp, this.opts.compress);
      const name = `${z.sha256}-${k}.xml${SUFFIX[this.opts.compress]}`;
      renameSync(tmp, join(repodata, name));
      rmSync(f.path);
      records.push({ type: k, href: `repodata/${name}`, checksum: z.sha256, openChecksum, size: z.size, openSize: f.size });
    }
    const xml = repomdXml(this.opts.revision, this.opts.revision, records);
    const fd = openSync(join(repodata, "repomd.xml"), "w", 0o644);
    try {
      const b = Buffer.from(xml, "utf8");
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    } finally {
      closeSync(fd);
    }
    return records;
  }
}
