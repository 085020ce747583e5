/**
 * Triggers after `repo load` as a user runs it: once per load with the --json summary on stdin,
 * not on a dry run; failing, hanging and missing triggers are one stderr
 * line each, and the exit code stays the load's.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SnapshotResult } from "../fixtures/snapshot";
import { CLI, cli, newConfig } from "../helpers/cli";
import { edgeSnapshot } from "../repo/_snapshot";
import { recorder, script, scriptDir } from "./_scripts";

let snap: SnapshotResult;
let config: string;
let dir: string;
let prog: Record<string, string>;

beforeAll(async () => {
  snap = await edgeSnapshot();
  config = newConfig("triggers_cli", true);
  dir = scriptDir("trig-cli");
  prog = {
    rec: recorder(dir, "rec"),
    failing: script(dir, "failing.sh", 'echo "mirror push refused" >&2\nexit 5'),
    hanging: script(dir, "hanging.sh", "exec sleep 300"),
    missing: join(dir, "missing.sh"),
  };
  const t = (name: string, p: string, timeout = 30) => `\n[[triggers]]\nname = "${name}"\non = ["repo.load"]\nrun = ["${p}"]\ntimeout = ${timeout}\n`;
  prog.map = recorder(dir, "map");
  // the loading process has let go of its embedded database when the programs run
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  prog.sql = script(dir, "sql.sh", `exec ${CLI.map(q).join(" ")} -c "$ALTREPODB_CONFIG" sql "SELECT count() FROM PackageSetName WHERE pkgset_depth = 0" > "${dir}/sql.out" 2> "${dir}/sql.err"`);
  appendFileSync(config, `\n[[triggers]]\nname = "map"\non = ["vuln.map", "task.load"]\nrun = ["${prog.map}"]\n`);
  appendFileSync(config, `\n[[triggers]]\nname = "publish"\non = ["repo.load"]\nexport = { kind = "rpm-md", arch = "x86_64", out = "${dir}/pub/{branch}" }\n`);
  appendFileSync(config, t("sql", prog.sql, 120) + t("rec", prog.rec) + t("failing", prog.failing) + t("hanging", prog.hanging, 0.5) + t("missing", prog.missing));
}, 600_000);

const runs = () => readFileSync(join(dir, "rec.count"), "utf8").split("\n").filter(Boolean).length;

describe("triggers after repo load", () => {
  test("fires once with the JSON summary; failures are isolated and the exit code stays 0", () => {
    const r = cli(config, ["repo", "load", "p10", snap.root, "--date", "2026-11-20", "--json"]);
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    const given = JSON.parse(readFileSync(join(dir, "rec.in"), "utf8"));
    expect(given).toEqual(printed);
    expect(given).toMatchObject({ branch: "p10", date: "2026-11-20", complete: true, dry_run: false });
    const env = readFileSync(join(dir, "rec.env"), "utf8");
    expect(env).toContain("ALTREPODB_EVENT=repo.load\n");
    expect(env).toContain("ALTREPODB_BRANCH=p10\n");
    expect(env).toContain("ALTREPODB_DATE=2026-11-20\n");
    expect(runs()).toBe(1);
    const lines = r.stderr.split("\n");
    const line = (name: string) => lines.filter((l) => l.includes(`trigger "${name}" (${prog[name]})`));
    expect(line("failing")).toHaveLength(1);
    expect(line("failing")[0]).toContain("failed after repo.load: exit 5: mirror push refused");
    expect(line("hanging")[0]).toContain("timed out after repo.load: killed after the timeout of 0.5 s");
    expect(line("missing")[0]).toContain("failed after repo.load: cannot run: ENOENT");
    expect([readFileSync(join(dir, "sql.out"), "utf8"), readFileSync(join(dir, "sql.err"), "utf8")]).toEqual(["1\n", ""]);
    // the export block published the loaded set as an rpm-md repository
    expect(readFileSync(join(dir, "pub", "p10", "repodata", "repomd.xml"), "utf8")).toContain("<data type=\"primary\">");
  }, 300_000);

  test("not on a dry run", () => {
    const dry = cli(config, ["repo", "load", "p10", snap.root, "--date", "2026-11-21", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(runs()).toBe(1);
  }, 300_000);

  test("other loads fire their own event: vuln map load → vuln.map", () => {
    const tsv = join(dir, "cpe-map.tsv");
    writeFileSync(tsv, "# project\tcpe\nopenssl\tcpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*\n");
    const r = cli(config, ["vuln", "map", "load", tsv, "--json"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "map.count"), "utf8")).toBe("run\n");
    expect(JSON.parse(readFileSync(join(dir, "map.in"), "utf8"))).toEqual(JSON.parse(r.stdout));
    expect(readFileSync(join(dir, "map.env"), "utf8")).toContain("ALTREPODB_EVENT=vuln.map\n");
    expect(runs()).toBe(1);
  }, 300_000);
});
