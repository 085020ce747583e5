/**
 * A FIFO, socket or device given to `package load` or `rpm dump` is refused by its file type
 * before anything opens it (opening a FIFO without a writer blocks for good): a named error, exit
 * 1, every regular file still handled.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadPackages } from "../../src/loaders/package";
import { cached, runSync, scratchDir } from "../fixtures/_util";
import { rpmbuild, simpleSpec } from "../fixtures/rpmbuild";
import { CLI } from "../helpers/cli";
import { contextFor, migratedDb } from "../task/_task";

setDefaultTimeout(120_000);

let rpm: string;
let fifo: string;
beforeAll(async () => {
  const spec = simpleSpec({ name: "fifo-demo", version: "1.0", buildArch: null, install: "mkdir -p %buildroot/usr/share/fifo-demo\nprintf 'x\\n' > %buildroot/usr/share/fifo-demo/data", files: "/usr/share/fifo-demo" });
  const dir = await cached("fifo-demo-v1", async (tmp) => {
    await rpmbuild({ spec: spec.spec, specName: "fifo-demo.spec", sources: spec.sources, target: "x86_64" }, tmp);
  });
  const arch = readdirSync(join(dir, "RPMS"))[0];
  rpm = join(dir, "RPMS", arch, readdirSync(join(dir, "RPMS", arch))[0]);
  fifo = join(scratchDir("fifo"), "pipe.rpm");
  runSync(["mkfifo", fifo]);
}, 600_000);

/** Runs the CLI; a process still running after 60 s is killed (and the test fails on its signal). */
async function run(args: string[]): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn([...CLI, ...args], { stdout: "pipe", stderr: "pipe" });
  const killer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  clearTimeout(killer);
  return { code: proc.exitCode, signal: proc.signalCode ? String(proc.signalCode) : null, stdout, stderr };
}

describe("not a regular file", () => {
  test("package load: the FIFO is a failed item, the RPM is loaded", async () => {
    const db = await migratedDb("fifo");
    const r = await loadPackages(contextFor(db), { files: [fifo, rpm] });
    expect(r.complete).toBe(false);
    expect(r.failures).toEqual([{ path: fifo, error: "not a regular file (a FIFO)" }]);
    expect(r.packages.parsed).toBe(1);
    await db.close();
  });

  test("rpm dump: the FIFO is refused by type with exit 1, the RPM is dumped", async () => {
    const r = await run(["rpm", "dump", fifo, rpm, "--json"]);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ path: fifo, error: "not a regular file (a FIFO)" });
    expect(lines[1].path).toBe(rpm);
    expect(lines[1].name).toBe("fifo-demo");
  });

  test("rpm dump of /dev/null (a character device) is refused the same way", async () => {
    const r = await run(["rpm", "dump", "/dev/null"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("/dev/null: not a regular file (a character device)");
  });
});
