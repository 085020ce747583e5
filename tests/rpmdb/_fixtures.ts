/**
 * rpm databases for the rpmdb tests and bench, made at test time from real headers:
 *
 * - installedHeaders(): every package of the real-file corpus installed with Debian's rpm
 *   (`rpm -i --justdb` into an sqlite rpmdb), so the blobs are headers as librpm stores them
 *   (immutable region + install-time tags); cached in .tmp/fixtures-cache.
 * - writeBdb(): a Berkeley DB hash `Packages` written by `db5.3_load` (db5.3-util) from such blobs,
 *   in either byte order, any page size, optionally with page checksums, with rpm's key-0 counter.
 * - librpmList(): librpm's own answer (`rpm --dbpath DIR -qa`), the oracle.
 */
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cached, generatorVersion, runSync, scratchDir } from "../fixtures/_util.ts";
import { CORPUS, CORPUS_RPM } from "../rpm/_corpus.ts";

export { scratchDir };
export const CORPUS_RPMDB = join(CORPUS, "rpmdb");
export const hasDbLoad = Bun.which("db5.3_load") !== null;
export const hasRpm = Bun.which("rpm") !== null;

export interface Blob {
  key: number;
  blob: Uint8Array;
}

const RPM_FLAGS = ["--justdb", "--nodeps", "--noscripts", "--notriggers", "--nosignature", "--nodigest", "--ignorearch", "--ignoreos", "--replacepkgs", "--replacefiles"];

/** The binary packages of the real-file corpus. */
export function corpusRpms(): string[] {
  return (readdirSync(CORPUS_RPM, { recursive: true }) as string[])
    .map((f) => join(CORPUS_RPM, f))
    .filter((f) => f.includes(".rpm") && !f.includes(".src.rpm") && statSync(f).isFile())
    .sort();
}

/** A directory holding `rpmdb.sqlite` with every installable corpus package (cached). */
export async function installedDb(): Promise<string> {
  const key = `rpmdb-installed-${generatorVersion(["../rpmdb/_fixtures.ts"])}`;
  return cached(
    key,
    async (dir) => {
      runSync(["rpm", "--dbpath", dir, "--initdb"]);
      for (const f of corpusRpms()) {
        const r = runSync(["rpm", "--dbpath", dir, "-i", ...RPM_FLAGS, f], { allowFail: true });
        // the only expected refusal: a package name already installed in a newer version
        if (r.code !== 0 && !r.stderr.includes("is already installed")) throw new Error(`rpm -i ${f}: exit ${r.code}: ${r.stderr}`);
      }
    },
    "rpmdb-installed-",
  );
}

/** The installed header blobs, by hnum. */
export async function installedHeaders(): Promise<Blob[]> {
  const dir = await installedDb();
  const db = new Database(join(dir, "rpmdb.sqlite"), { readonly: true });
  try {
    return (db.query("SELECT hnum, blob FROM Packages ORDER BY hnum").all() as { hnum: number; blob: Uint8Array }[]).map((r) => ({ key: r.hnum, blob: new Uint8Array(r.blob) }));
  } finally {
    db.close();
  }
}

export interface BdbOptions {
  pageSize?: number;
  bigEndian?: boolean;
  checksum?: boolean;
  /** Write rpm's key-0 counter record (default true). */
  counter?: boolean;
}

/** Write `dir/Packages` with the blobs under keys 1..n (in the database's byte order). Returns the file. */
export function writeBdb(dir: string, blobs: Uint8Array[], opts: BdbOptions = {}): string {
  mkdirSync(dir, { recursive: true });
  const le = !opts.bigEndian;
  const key = (n: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(n);
    else b.writeUInt32BE(n);
    return b.toString("hex");
  };
  const parts = ["VERSION=3\nformat=bytevalue\ntype=hash\nHEADER=END\n"];
  blobs.forEach((b, i) => parts.push(` ${key(i + 1)}\n ${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}\n`));
  if (opts.counter !== false) parts.push(` ${key(0)}\n ${key(blobs.length + 1)}\n`);
  parts.push("DATA=END\n");
  const input = join(dir, "load.txt");
  writeFileSync(input, parts.join(""));
  const file = join(dir, "Packages");
  const args = ["db5.3_load", "-f", input, "-c", `db_lorder=${le ? 1234 : 4321}`, "-c", `db_pagesize=${opts.pageSize ?? 4096}`];
  if (opts.checksum) args.push("-c", "chksum=1");
  runSync([...args, file]);
  rmSync(input, { force: true });
  return file;
}

export const QF = "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SHA1HEADER}\\n";

/**
 * librpm's list of a database file: `rpm -qa` on a private copy (rpm may write lock or index files
 * next to a database), "(none)" shown as "" and a missing epoch as 0, like expected.tsv.
 */
export function librpmList(file: string, backend: "bdb_ro" | "sqlite"): string[] {
  const dir = scratchDir("rpmdb-oracle");
  copyFileSync(file, join(dir, backend === "sqlite" ? "rpmdb.sqlite" : "Packages"));
  if (existsSync(`${file}-wal`)) copyFileSync(`${file}-wal`, join(dir, "rpmdb.sqlite-wal"));
  let r;
  try {
    r = runSync(["rpm", "--dbpath", dir, "--define", `_db_backend ${backend}`, "-qa", "--qf", QF]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return new TextDecoder()
    .decode(r.stdout)
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split("\t").map((v, i) => (v === "(none)" ? (i === 1 ? "0" : "") : v)).join("\t"));
}

/** A file's expected.tsv lines (librpm's answer recorded with the corpus). */
export function expectedList(dir: string): string[] {
  return readFileSync(join(dir, "expected.tsv"), "utf8").split("\n").filter(Boolean);
}
