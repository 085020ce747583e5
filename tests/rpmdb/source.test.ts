/**
 * openRpmdbSource: a database read through a ByteSource (as the image readers will hand one over,
 * without extracting the file) gives exactly what opening the file gives.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ByteSource, openRpmdb, openRpmdbSource, type Rpmdb } from "../../src/rpmdb/index.ts";
import { CORPUS_RPMDB, hasRpm, installedDb } from "./_fixtures.ts";

/** The bytes of a file as a ByteSource, read in odd-sized pieces to catch offset mistakes. */
function memory(path: string): ByteSource & { reads: number } {
  const bytes = new Uint8Array(readFileSync(path));
  return {
    path: `mem:${path}`,
    size: bytes.length,
    reads: 0,
    readAt(dst: Uint8Array, pos: number): number {
      this.reads++;
      const n = Math.max(0, Math.min(dst.length, bytes.length - pos));
      dst.set(bytes.subarray(pos, pos + n));
      return n;
    },
  };
}

async function keysAndShas(db: Rpmdb): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const r of db.records()) out.push(`${r.key} ${Buffer.from(r.package!.sha1header).toString("hex")} ${r.header.length}`);
  } finally {
    db.close();
  }
  return out;
}

describe("openRpmdbSource", () => {
  for (const [name, file] of [
    ["bdb-el8-libuuid", "Packages"],
    ["ndb-sle15-bci", "Packages.db"],
    ["sqlite-rpm-org", "rpmdb.sqlite"],
  ]) {
    test(name, async () => {
      const path = join(CORPUS_RPMDB, name, file);
      const src = memory(path);
      const db = openRpmdbSource(src);
      expect(db.format).toBe(name.split("-")[0] as Rpmdb["format"]);
      expect(db.path).toBe(`mem:${path}`);
      expect(await keysAndShas(db)).toEqual(await keysAndShas(openRpmdb(path)));
      expect(src.reads).toBeGreaterThan(0);
    }, 120_000);
  }

  test.skipIf(!hasRpm)("an sqlite database in WAL mode (as rpm writes it) read from memory", async () => {
    const path = join(await installedDb(), "rpmdb.sqlite");
    expect(readFileSync(path)[18]).toBe(2); // the header says WAL
    const temps = () => readdirSync(tmpdir()).filter((n) => n.startsWith("altrepodb-rpmdb-")).length;
    const before = temps();
    const a = await keysAndShas(openRpmdbSource(memory(path)));
    expect(temps()).toBe(before); // the private copy is gone after close
    expect(a.length).toBeGreaterThan(30);
    expect(a).toEqual(await keysAndShas(openRpmdb(path)));
  }, 120_000);

  test("not a database", () => {
    const src = { path: "mem:junk", size: 100, readAt: (d: Uint8Array) => (d.fill(7), d.length) };
    expect(() => openRpmdbSource(src)).toThrow("mem:junk: not an rpm database");
  }, 120_000);
});
