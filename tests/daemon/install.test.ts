/**
 * What an archive host's install relies on (README "Install on an archive host"): the systemd
 * unit and the sysusers.d file shipped next to it agree, the embedded database of the service
 * lives in its StateDirectory (a home-directory path cannot work under ProtectHome=yes), the
 * quick start's closing hint works when pasted, and a second `.ci/setup` reuses node_modules.
 */
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../src/config";

const ROOT = join(import.meta.dir, "..", "..");
const scratch = (p: string) => mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, `${p}-`));
const unit = readFileSync(join(ROOT, "src", "daemon", "altrepodb.service"), "utf8");
const directive = (name: string) => [...unit.matchAll(new RegExp(`^${name}=(.*)$`, "gm"))].map((m) => m[1].trim());

describe("systemd unit and system user", () => {
  test("the sysusers.d file creates the unit's User= and Group=, a system account without a login, homed in the StateDirectory", () => {
    const sysusers = readFileSync(join(ROOT, "src", "daemon", "altrepodb.sysusers"), "utf8");
    const lines = sysusers.split("\n").filter((l) => l.trim() && !l.startsWith("#"));
    expect(lines).toHaveLength(1);
    // u NAME ID "GECOS" HOME SHELL
    const m = /^u\s+(\S+)\s+(\S+)\s+"([^"]*)"\s+(\S+)\s+(\S+)$/.exec(lines[0])!;
    expect(m).not.toBeNull();
    expect(directive("User")).toEqual([m[1]]);
    expect(directive("Group")).toEqual([m[1]]);
    expect(m[2]).toBe("-");
    expect(m[4]).toBe(`/var/lib/${directive("StateDirectory")[0]}`);
    expect(m[5]).toMatch(/nologin$/);
  });

  test("under ProtectHome=yes the default embedded database is in $STATE_DIRECTORY, not in a home directory", () => {
    expect(directive("ProtectHome")).toEqual(["yes"]);
    const state = `/var/lib/${directive("StateDirectory")[0]}`;
    const c = loadConfig({ env: { STATE_DIRECTORY: state, HOME: "/home/_altrepodb" }, cwd: scratch("unitcfg") });
    expect(c.database).toMatchObject({ driver: "embedded", path: `${state}/db` });
    // an explicit path still wins
    const dir = scratch("unitcfg");
    writeFileSync(join(dir, "altrepodb.toml"), `[database.embedded]\npath = "/srv/altrepodb"\n`);
    expect(loadConfig({ env: { STATE_DIRECTORY: state }, cwd: dir }).database).toMatchObject({ path: "/srv/altrepodb" });
  });

  test("the unit runs the installed binary with the documented config path", () => {
    expect(directive("ExecStart")).toEqual(["/usr/bin/altrepodb --config /etc/altrepodb/config.toml daemon"]);
    expect(directive("ReadWritePaths")).toEqual([`/var/lib/${directive("StateDirectory")[0]}`]);
  });
});

describe("quick start and setup", () => {
  test("the quick start's closing hint names the database path, so that it works when pasted", () => {
    const text = readFileSync(join(ROOT, ".ci", "quickstart"), "utf8");
    const hint = text.split("\n").find((l) => l.includes("try:"))!;
    expect(hint).toBeDefined();
    // bash expands it as the user will see it
    const r = Bun.spawnSync(["bash", "-c", `bin=dist/altrepodb; ALTREPODB_DB_PATH=/x/quickstart-db; ${hint}`], { stdout: "pipe" });
    const shown = r.stdout.toString();
    const pasted = shown.slice(shown.indexOf("try: ") + 5).trim();
    expect(pasted).toStartWith("ALTREPODB_DB_PATH=/x/quickstart-db dist/altrepodb sql ");
    // pasted in the source tree after a quick start, it queries the quick start's database
    if (!existsSync(join(ROOT, "dist", "altrepodb"))) return;
    const db = join(scratch("quickstart"), "db with space");
    const env = { ...process.env, ALTREPODB_DB_PATH: db };
    expect(Bun.spawnSync([join(ROOT, "dist", "altrepodb"), "db", "init"], { env, cwd: ROOT, stdout: "pipe", stderr: "pipe" }).exitCode).toBe(0);
    const shownFor = Bun.spawnSync(["bash", "-c", `bin=dist/altrepodb; ${hint}`], { env, stdout: "pipe" }).stdout.toString();
    const command = shownFor.slice(shownFor.indexOf("try: ") + 5).trim();
    const clean = { ...process.env } as Record<string, string>;
    delete clean.ALTREPODB_DB_PATH;
    const r2 = Bun.spawnSync(["bash", "-c", command], { env: clean, cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    expect(r2.stderr.toString()).toBe("");
    expect(r2.exitCode).toBe(0);
  }, 120_000);

  test(".ci/npm-install runs npm ci only when package-lock.json changed since the last install", () => {
    const dir = scratch("npmstamp");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const calls = join(dir, "calls");
    writeFileSync(join(bin, "npm"), `#!/bin/sh\necho "npm $*" >> ${calls}\nmkdir -p node_modules\n`);
    chmodSync(join(bin, "npm"), 0o755);
    const project = join(dir, "project");
    mkdirSync(project);
    writeFileSync(join(project, "package-lock.json"), '{"lockfileVersion": 3}\n');
    const run = () => {
      const r = Bun.spawnSync(["bash", join(ROOT, ".ci", "npm-install")], { cwd: project, env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, stdout: "pipe", stderr: "pipe" });
      expect(r.exitCode).toBe(0);
      return r.stderr.toString();
    };
    const count = () => readFileSync(calls, "utf8").trim().split("\n").length;
    run();
    expect(readFileSync(calls, "utf8")).toStartWith("npm ci ");
    expect(count()).toBe(1);
    expect(run()).toContain("node_modules matches package-lock.json");
    expect(count()).toBe(1);
    writeFileSync(join(project, "package-lock.json"), '{"lockfileVersion": 3, "x": 1}\n');
    run();
    expect(count()).toBe(2);
    expect(readFileSync(join(ROOT, ".ci", "setup"), "utf8")).toContain("bash .ci/npm-install");
  });
});
