/**
 * The Depends file back-fill (§3.6 step 9): the default "task" scope adds exactly the rows the
 * reference's whole-database statement ("full") adds, in either loading order, and never twice.
 */
import { beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";
import type { Db } from "../../src/db";
import { loadTask } from "../../src/loaders/task";
import type { DependsBackfill } from "../../src/loaders/task/types";
import { cached, scratchDir } from "../fixtures/_util";
import { rpmbuild, simpleSpec } from "../fixtures/rpmbuild";
import { makeTask, type TaskResult } from "../fixtures/task";
import { contextFor, migratedDb, pkgHashOf } from "./_task";

setDefaultTimeout(120_000);

async function build(name: string, spec: ReturnType<typeof simpleSpec>): Promise<{ srpm: string; rpms: string[] }> {
  const dir = await cached(`task-backfill-${name}-v1`, async (tmp) => {
    await rpmbuild({ spec: spec.spec, specName: `${name}.spec`, sources: spec.sources }, tmp);
  });
  const { readdirSync } = await import("node:fs");
  return {
    srpm: join(dir, "SRPMS", readdirSync(join(dir, "SRPMS"))[0]),
    rpms: readdirSync(join(dir, "RPMS", "noarch")).map((f) => join(dir, "RPMS", "noarch", f)),
  };
}

let needer: TaskResult;
let provider: TaskResult;
let providerRpm: string;

beforeAll(async () => {
  const prov = await build(
    "bf-provider",
    simpleSpec({ name: "bf-provider", preamble: ["AutoReqProv: no"], install: "mkdir -p %buildroot/usr/bin\nprintf 'x\\n' > %buildroot/usr/bin/bf-tool", files: "/usr/bin/bf-tool" }),
  );
  const need = await build("bf-needer", simpleSpec({ name: "bf-needer", preamble: ["AutoReqProv: no", "Requires: /usr/bin/bf-tool", "Requires: /usr/bin/nobody-ships-this"] }));
  providerRpm = prov.rpms[0];
  const base = scratchDir("backfill");
  needer = await makeTask(join(base, "340101"), { id: 340101, state: "DONE", try: 1, iter: 1, subtasks: [{ type: "srpm", ...need }] });
  provider = await makeTask(join(base, "340102"), { id: 340102, state: "DONE", try: 1, iter: 1, subtasks: [{ type: "srpm", ...prov }] });
}, 600_000);

async function backfilled(db: Db): Promise<unknown[]> {
  return db.query("SELECT pkg_hash, dp_name, dp_version, dp_flag, toString(dp_type) AS t FROM Depends WHERE dp_version = '' AND dp_flag = 0 AND dp_type = 'provide' AND dp_name LIKE '/%' ORDER BY ALL");
}

async function run(mode: DependsBackfill, order: TaskResult[]): Promise<{ rows: unknown[]; dupes: number }> {
  const db = await migratedDb("backfill");
  for (const t of order) await loadTask(contextFor(db), { path: t.root, dependsBackfill: mode });
  for (const t of order) await loadTask(contextFor(db), { path: t.root, dependsBackfill: mode });
  const [d] = await db.query<{ n: bigint; u: bigint }>("SELECT count() AS n, uniqExact(pkg_hash, dp_name, dp_version, dp_flag, dp_type) AS u FROM Depends");
  const rows = await backfilled(db);
  await db.close();
  return { rows, dupes: Number(d.n) - Number(d.u) };
}

describe("Depends back-fill", () => {
  test("task scope equals the reference's full statement, in both loading orders, without duplicates", async () => {
    const expected = [{ pkg_hash: pkgHashOf(providerRpm), dp_name: "/usr/bin/bf-tool", dp_version: "", dp_flag: 0, t: "provide" }];
    for (const order of [
      [needer, provider],
      [provider, needer],
    ]) {
      const full = await run("full", order);
      const scoped = await run("task", order);
      expect(full.rows).toEqual(expected);
      expect(scoped.rows).toEqual(expected);
      expect(full.dupes + scoped.dupes).toBe(0);
    }
  }, 120_000);

  test("off writes no provide rows", async () => {
    expect((await run("off", [needer, provider])).rows).toEqual([]);
  }, 60_000);
});
