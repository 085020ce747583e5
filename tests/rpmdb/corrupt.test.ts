/**
 * Bad input: truncated files, corrupt pages, page loops in bucket and overflow chains, blobs that
 * are not headers, counts that disagree, damaged NDB slots and blobs, sqlite files that are not
 * databases. Each gives an RpmdbError naming the file and the place (never a hang, never a silent
 * short list); `rpmdb dump` exits 1 with one line per problem, and every good record is still
 * printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openRpmdb, type RpmdbError, type RpmdbRecord } from "../../src/rpmdb/index.ts";
import { CLI } from "../helpers/cli.ts";
import { type Blob, CORPUS_RPMDB, hasDbLoad, hasRpm, installedHeaders, scratchDir, writeBdb } from "./_fixtures.ts";

async function readAll(path: string): Promise<{ records: RpmdbRecord[]; error?: RpmdbError }> {
  const records: RpmdbRecord[] = [];
  try {
    const db = openRpmdb(path);
    try {
      for await (const r of db.records()) records.push(r);
    } finally {
      db.close();
    }
  } catch (e) {
    if ((e as Error).name !== "RpmdbError") throw e;
    return { records, error: e as RpmdbError };
  }
  return { records };
}

async function failure(path: string): Promise<RpmdbError> {
  const r = await readAll(path);
  if (!r.error) throw new Error(`${path} was read without error (${r.records.length} records)`);
  return r.error;
}

function dump(path: string, ...flags: string[]) {
  const r = Bun.spawnSync([...CLI, "rpmdb", "dump", ...flags, path], { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } });
  return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
}

interface PageInfo {
  pgno: number;
  type: number;
  next: number;
}

/** The pages of a Berkeley DB file (test-side walker, independent of src/rpmdb). */
function pages(file: string): { bytes: Uint8Array; size: number; le: boolean; list: PageInfo[] } {
  const bytes = new Uint8Array(readFileSync(file));
  const v = new DataView(bytes.buffer);
  const le = v.getUint32(12, true) === 0x061561;
  const size = v.getUint32(20, le);
  const list: PageInfo[] = [];
  for (let p = 0; p * size < bytes.length; p++) list.push({ pgno: p, type: bytes[p * size + 25], next: v.getUint32(p * size + 16, le) });
  return { bytes, size, le, list };
}

function setNext(file: string, page: number, next: number): void {
  const { bytes, size, le } = pages(file);
  new DataView(bytes.buffer).setUint32(page * size + 16, next, le);
  writeFileSync(file, bytes);
}

const dirs: string[] = [];
const scratch = () => {
  const d = scratchDir("rpmdb-bad");
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe.skipIf(!hasDbLoad || !hasRpm)("Berkeley DB", () => {
  let blobs: Uint8Array[];
  beforeAll(async () => {
    blobs = (await installedHeaders()).map((b: Blob) => b.blob);
  }, 300_000);

  test("a truncated file: an error naming the file and the page, after nothing is lost silently", async () => {
    const file = writeBdb(scratch(), blobs);
    const size = readFileSync(file).length;
    truncateSync(file, Math.floor(size / 2) + 100);
    const e = await failure(file);
    expect(e.code).toBe("truncated");
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/page \d+/);
    const r = dump(file);
    expect(r.code).toBe(1);
    expect(r.err).toContain(file);
    expect(r.err).toMatch(/page \d+: file of \d+ bytes ends inside page/);
  }, 120_000);

  test("the last page is read too: a file one page short is an error naming that page", async () => {
    for (const pageSize of [512, 4096, 65536]) {
      const file = writeBdb(scratch(), blobs, { pageSize });
      const { list } = pages(file);
      const last = list.length - 1;
      expect(list[last].type === 7 || list[last].type === 13).toBe(true); // a data page, not free space
      truncateSync(file, last * pageSize);
      const e = await failure(file);
      expect(e.code).toBe("truncated");
      expect(e.message).toContain(`page ${last}`);
    }
  }, 120_000);

  test("a page loop in a bucket chain is an error, not a hang", async () => {
    const file = writeBdb(scratch(), blobs, { pageSize: 512, bigEndian: true });
    const { list } = pages(file);
    const first = list.find((p) => p.type === 13 && p.next !== 0);
    expect(first).toBeDefined();
    setNext(file, first!.next, first!.pgno); // A → B → A
    const e = await failure(file);
    expect(e.code).toBe("loop");
    expect(e.message).toContain(`comes back to page ${first!.pgno}`);
  }, 120_000);

  test("a page that points to itself", async () => {
    const file = writeBdb(scratch(), blobs);
    const hash = pages(file).list.find((p) => p.type === 13)!;
    setNext(file, hash.pgno, hash.pgno);
    expect((await failure(file)).code).toBe("loop");
  }, 120_000);

  test("a loop in an overflow chain is an error, not a hang", async () => {
    const file = writeBdb(scratch(), blobs, { pageSize: 512 });
    const { list } = pages(file);
    const a = list.find((p) => p.type === 7 && p.next !== 0 && list[p.next].next !== 0)!;
    setNext(file, list[a.next].pgno, a.pgno);
    const e = await failure(file);
    expect(e.code).toBe("loop");
    expect(e.message).toMatch(/overflow chain of key \d+ comes back to page/);
  }, 120_000);

  test("an overflow chain cut short, and one that runs into a non-overflow page", async () => {
    const file = writeBdb(scratch(), blobs, { pageSize: 512 });
    const { list } = pages(file);
    const a = list.find((p) => p.type === 7 && p.next !== 0)!;
    setNext(file, a.pgno, 0);
    expect((await failure(file)).message).toMatch(/overflow chain of key \d+ ends after \d+ of the \d+ bytes/);
    const hash = list.find((p) => p.type === 13)!;
    setNext(file, a.pgno, hash.pgno);
    expect((await failure(file)).code).toMatch(/corrupt|loop/);
  }, 120_000);

  test("a corrupt page header names the page", async () => {
    const file = writeBdb(scratch(), blobs);
    const { bytes, size, list } = pages(file);
    const hash = list.find((p) => p.type === 13)!;
    bytes[hash.pgno * size + 25] = 99;
    writeFileSync(file, bytes);
    const e = await failure(file);
    expect(e.code).toBe("corrupt");
    expect(e.message).toContain(`page ${hash.pgno}: `);
    expect(e.message).toContain("type 99");
  }, 120_000);

  test("a value that is not an RPM header: that record fails, every other one is read, exit 1", async () => {
    for (const pageSize of [4096, 65536]) {
      const bad = blobs.map((b) => b);
      const junk = new Uint8Array(3000).map((_, i) => (i * 7919) & 0xff);
      bad[5] = junk; // overflow on 4 KiB pages, on the bucket page with 64 KiB
      bad[9] = new Uint8Array(4); // shorter than a header intro
      const file = writeBdb(scratch(), bad, { pageSize });
      const r = await readAll(file);
      expect(r.error).toBeUndefined();
      expect(r.records.length).toBe(bad.length);
      const failed = r.records.filter((x) => x.error);
      expect(failed.map((x) => x.key).sort((a, b) => a - b)).toEqual([6, 10]);
      for (const f of failed) {
        expect(f.error!.code).toBe("header");
        expect(f.error!.message).toContain(file);
        expect(f.error!.message).toMatch(/page \d+/);
      }
      const cli = dump(file, "--json");
      expect(cli.code).toBe(1);
      const lines = cli.out.trim().split("\n").map((l) => JSON.parse(l));
      expect(lines.filter((l) => l.name).length).toBe(bad.length - 2);
      expect(lines.filter((l) => l.error).map((l) => l.key).sort((a, b) => a - b)).toEqual([6, 10]);
      expect(cli.err).toContain(`2 of ${bad.length} packages in ${file} could not be read`);
    }
  }, 120_000);

  test("a record count that disagrees with the meta page is an error, not a short list", async () => {
    const file = writeBdb(scratch(), blobs);
    const { bytes } = pages(file);
    const v = new DataView(bytes.buffer);
    v.setUint32(88, v.getUint32(88, true) + 1, true);
    writeFileSync(file, bytes);
    const e = await failure(file);
    expect(e.code).toBe("count");
    expect(e.message).toContain(`counts ${blobs.length + 2} records but the hash buckets hold ${blobs.length + 1}`);
  }, 120_000);

  test("a spares table that maps a bucket outside the file", async () => {
    const file = writeBdb(scratch(), blobs);
    const bytes = new Uint8Array(readFileSync(file));
    new DataView(bytes.buffer).setUint32(96, 1_000_000, true); // spares[0]: bucket 0 → page 1,000,000
    writeFileSync(file, bytes);
    const e = await failure(file);
    expect(e.code).toBe("corrupt");
    expect(e.message).toContain("bucket 0 maps to page 1000000");
  }, 120_000);

  test("absurd sizes in the meta page and in an off-page item: errors, no huge allocation", async () => {
    const file = writeBdb(scratch(), blobs, { pageSize: 512 });
    const orig = new Uint8Array(readFileSync(file));
    const bytes = orig.slice();
    new DataView(bytes.buffer).setUint32(32, 0xfffffff0, true); // last_pgno
    writeFileSync(file, bytes);
    const r = await readAll(file); // every page that exists is still read
    expect(r.error).toBeUndefined();
    expect(r.records.length).toBe(blobs.length);
    // an off-page item claiming 200 MB
    const { list, size, le } = pages(file);
    const b2 = orig.slice();
    const v = new DataView(b2.buffer);
    let patched = false;
    for (const p of list.filter((x) => x.type === 13)) {
      const base = p.pgno * size;
      const entries = v.getUint16(base + 20, le);
      for (let i = 1; i < entries && !patched; i += 2) {
        const off = v.getUint16(base + 26 + 2 * i, le);
        if (b2[base + off] === 3) {
          v.setUint32(base + off + 8, 200_000_000, le);
          patched = true;
        }
      }
      if (patched) break;
    }
    expect(patched).toBe(true);
    writeFileSync(file, b2);
    const e = await failure(file);
    expect(e.code).toBe("corrupt");
    expect(e.message).toMatch(/off-page item of key \d+ points to page \d+ with 200000000 bytes/);
  }, 120_000);

  test("an unsupported hash version and an encrypted database are named as such", async () => {
    const file = writeBdb(scratch(), blobs.slice(0, 3));
    const bytes = new Uint8Array(readFileSync(file));
    new DataView(bytes.buffer).setUint32(16, 5, true);
    writeFileSync(file, bytes);
    expect((await failure(file)).message).toContain("hash version 5 is not supported");
    new DataView(bytes.buffer).setUint32(16, 9, true);
    bytes[24] = 1;
    writeFileSync(file, bytes);
    expect((await failure(file)).message).toContain("encrypted");
  }, 120_000);
});

describe("NDB", () => {
  const real = join(CORPUS_RPMDB, "ndb-sle15-bci", "Packages.db");
  const copy = () => {
    const f = join(scratch(), "Packages.db");
    copyFileSync(real, f);
    return f;
  };

  test("a bad slot magic names the slot", async () => {
    const f = copy();
    const b = new Uint8Array(readFileSync(f));
    b[32 + 16 * 3] ^= 0xff; // slot 5
    writeFileSync(f, b);
    const e = await failure(f);
    expect(e.message).toContain("slot 5: bad slot magic");
  }, 120_000);

  test("a damaged blob fails its adler32", async () => {
    const f = copy();
    const b = new Uint8Array(readFileSync(f));
    const v = new DataView(b.buffer);
    const blkoff = v.getUint32(32 + 8, true); // slot 2
    b[blkoff * 16 + 100] ^= 0x55;
    writeFileSync(f, b);
    const e = await failure(f);
    expect(e.code).toBe("corrupt");
    expect(e.message).toMatch(/slot 2: blob of package index \d+ at byte \d+: adler32/);
  }, 120_000);

  test("a truncated file", async () => {
    const f = copy();
    truncateSync(f, 1_000_000);
    const e = await failure(f);
    expect(e.code).toBe("truncated");
    expect(e.message).toMatch(/slot \d+: blob of package index \d+ .* runs past the end/);
  }, 120_000);
});

describe("sqlite", () => {
  const real = join(CORPUS_RPMDB, "sqlite-rpm-org", "rpmdb.sqlite");

  test("the user's database: nothing is created next to it", async () => {
    const dir = scratch();
    copyFileSync(real, join(dir, "rpmdb.sqlite"));
    const before = readdirSync(dir).sort();
    expect((await readAll(dir)).records.length).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(before);
  }, 120_000);

  test("a non-empty write-ahead log is read from a private copy; the user's directory is untouched", async () => {
    const dir = scratch();
    const db = join(dir, "rpmdb.sqlite");
    copyFileSync(real, db);
    // a writer that dies with its change still in the WAL (a database copied from a live system)
    const script = `
      import { Database } from "bun:sqlite";
      const db = new Database(${JSON.stringify(db)});
      db.exec("PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;");
      db.exec("INSERT INTO Packages (hnum, blob) SELECT 9, blob FROM Packages WHERE hnum = 1");
      process.kill(process.pid, "SIGKILL");`;
    const sf = join(scratch(), "writer.ts");
    writeFileSync(sf, script);
    Bun.spawnSync([process.execPath, sf]);
    const before = readdirSync(dir).sort();
    expect(before).toContain("rpmdb.sqlite-wal");
    const r = await readAll(dir);
    expect(r.records.map((x) => x.key)).toEqual([1, 2, 3, 9]);
    expect(readdirSync(dir).sort()).toEqual(before);
  }, 120_000);

  test("a truncated sqlite file is an error naming the file", async () => {
    const f = join(scratch(), "rpmdb.sqlite");
    copyFileSync(real, f);
    truncateSync(f, 8192);
    const e = await failure(f);
    expect(e.message).toContain(f);
    expect(e.message).toContain("sqlite");
  }, 120_000);

  test("an sqlite file without a Packages table", async () => {
    const f = join(scratch(), "other.sqlite");
    const { Database } = await import("bun:sqlite");
    const d = new Database(f);
    d.exec("CREATE TABLE t (x)");
    d.close();
    expect((await failure(f)).message).toContain("no Packages table");
  }, 120_000);
});

describe("detection", () => {
  test("by magic, not by name; a file that is no database; a directory without one", async () => {
    const dir = scratch();
    copyFileSync(join(CORPUS_RPMDB, "sqlite-rpm-org", "rpmdb.sqlite"), join(dir, "Packages"));
    const db = openRpmdb(join(dir, "Packages"));
    expect(db.format).toBe("sqlite");
    db.close();
    writeFileSync(join(dir, "junk"), "hello world, this is not a database");
    expect((await failure(join(dir, "junk"))).message).toContain("not an rpm database");
    writeFileSync(join(dir, "empty"), "");
    expect((await failure(join(dir, "empty"))).code).toBe("format");
    const empty = join(dir, "sub");
    mkdirSync(empty);
    expect((await failure(empty)).message).toContain("no rpm database in this directory");
    const r = dump(join(dir, "junk"));
    expect(r.code).toBe(1);
    expect(r.err.trim().split("\n")).toHaveLength(1);
    expect(r.err).toContain(`${join(dir, "junk")}: not an rpm database`);
  }, 120_000);

  test.skipIf(!hasDbLoad)("a Berkeley DB btree (an index file) is named as such", async () => {
    const dir = scratch();
    writeFileSync(join(dir, "in.txt"), "VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n 61\n 62\nDATA=END\n");
    Bun.spawnSync(["db5.3_load", "-f", join(dir, "in.txt"), join(dir, "Name")]);
    expect((await failure(join(dir, "Name"))).message).toContain("btree");
  }, 120_000);
});
