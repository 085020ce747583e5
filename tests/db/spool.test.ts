/**
 * The embedded driver writes every insert to a spool file (<data dir>/altrepodb-spool/<pid>-<n>.bin)
 * and removes it when the insert is done. A process killed in the middle leaves its file behind;
 * the next process that opens the data directory removes the files of dead processes (and only those).
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { scratchDir } from "../fixtures/_util";

const ROOT = resolve(import.meta.dir, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const spoolOf = (dir: string) => join(dir, "altrepodb-spool");

/** Opens the embedded database at `dir` in a fresh process, runs `code` (with `db` in scope), exits. */
async function inChild(dir: string, code = ""): Promise<string> {
  const script = `
    import { openDb } from ${JSON.stringify(join(ROOT, "src", "db", "index.ts"))};
    const db = await openDb({ driver: "embedded", path: ${JSON.stringify(dir)}, database: "spool" });
    ${code}
    await db.close();
    console.log("ok");
  `;
  const child = Bun.spawn([BUN, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  if ((await child.exited) !== 0) throw new Error(`child failed: ${err}`);
  return out;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const p = Bun.spawn(["true"]);
  await p.exited;
  return p.pid;
}

const sleeper = Bun.spawn(["sleep", "600"]);
afterAll(() => sleeper.kill("SIGKILL"));

test("spool files of dead processes are removed when the data directory is opened; a live process's are kept", async () => {
  const dir = scratchDir("spool-planted");
  mkdirSync(spoolOf(dir), { recursive: true });
  const dead = await deadPid();
  const stale = [`${dead}-1.bin`, `${dead}-17.bin`];
  const live = `${sleeper.pid}-3.bin`;
  for (const f of [...stale, live]) writeFileSync(join(spoolOf(dir), f), Buffer.alloc(1024, 7));
  writeFileSync(join(spoolOf(dir), "README"), "not ours");

  await inChild(dir);
  const left = readdirSync(spoolOf(dir)).sort();
  expect(left).toEqual([live, "README"].sort());
});

test("a process killed with -9 in the middle of an insert leaves a spool file; the next open removes it", async () => {
  const dir = scratchDir("spool-killed");
  await inChild(dir, `await db.command("CREATE TABLE big (s String) ENGINE = MergeTree ORDER BY tuple()");`);
  // inserts of 64 MiB each, forever: the spool file exists while the engine reads it
  const script = `
    import { openDb, RowWriter, compileLayout } from ${JSON.stringify(join(ROOT, "src", "db", "index.ts"))};
    const db = await openDb({ driver: "embedded", path: ${JSON.stringify(dir)}, database: "spool" });
    const enc = compileLayout("big", [{ name: "s", type: "String" }]);
    const w = new RowWriter(1 << 20);
    const s = "x".repeat(1 << 20);
    for (let i = 0; i < 64; i++) enc.encode(w, { s });
    const data = w.take();
    console.log("ready");
    for (;;) await db.insertRowBinary("big", enc.columns, data);
  `;
  const child = Bun.spawn([BUN, "-e", script], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  let seen: string[] = [];
  for (let i = 0; i < 3000 && seen.length === 0; i++) {
    await Bun.sleep(5);
    if (existsSync(spoolOf(dir))) seen = readdirSync(spoolOf(dir)).filter((f) => f.startsWith(`${child.pid}-`));
  }
  child.kill("SIGKILL");
  await child.exited;
  expect(seen.length).toBeGreaterThan(0);
  expect(readdirSync(spoolOf(dir)).filter((f) => f.startsWith(`${child.pid}-`)).length).toBeGreaterThan(0);

  await inChild(dir);
  expect(readdirSync(spoolOf(dir))).toEqual([]);
});
