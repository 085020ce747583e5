/**
 * fireTriggers with real programs (shell scripts): the summary on stdin, the environment, and a
 * failing, missing, hanging or not-reading trigger isolated, logged on one line naming it and
 * its program, and counted.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfigText, resolveConfig, type Config } from "../../src/config";
import type { LoadContext } from "../../src/loaders/context";
import { EXPORTERS, fireTriggers, triggerStats, type ExportRequest } from "../../src/triggers";
import { recordingLogger, type Recorded } from "../daemon/_daemon";
import { recorder, script, scriptDir } from "./_scripts";

function ctxFor(toml: string, lines: Recorded[]): LoadContext {
  const config: Config = resolveConfig(parseConfigText(toml, "test.toml"), "/etc/altrepodb/test.toml", {});
  return { db: undefined as never, config, log: recordingLogger(lines, "test") };
}

const stat = (name: string) => triggerStats().find((s) => s.name === name);

describe("fireTriggers", () => {
  test("the JSON summary on stdin, ALTREPODB_* in the environment, only for the events named", async () => {
    const dir = scriptDir("trig-ok");
    const rec = recorder(dir, "rec");
    const lines: Recorded[] = [];
    const ctx = ctxFor(`[[triggers]]\nname = "rec1"\non = ["repo.load"]\nrun = ["${rec}", "one arg", "$HOME;x"]\ntimeout = 10\n`, lines);
    process.env.ALTREPODB_DB_PASSWORD = "s3cret";
    process.env.SOME_API_KEY = "k3y";
    try {
      const report = { branch: "p10", date: "2026-11-20", dryRun: false, complete: true, packages: { seen: 2 }, pkgHash: 12345678901234567890n };
      await fireTriggers(ctx, "repo.load", report);
      await fireTriggers(ctx, "task.load", { taskId: 1 });
    } finally {
      delete process.env.ALTREPODB_DB_PASSWORD;
      delete process.env.SOME_API_KEY;
    }
    expect(readFileSync(join(dir, "rec.count"), "utf8")).toBe("run\n");
    expect(JSON.parse(readFileSync(join(dir, "rec.in"), "utf8"))).toEqual({ branch: "p10", date: "2026-11-20", dry_run: false, complete: true, packages: { seen: 2 }, pkg_hash: "12345678901234567890" });
    const env = readFileSync(join(dir, "rec.env"), "utf8");
    expect(env).toContain("ALTREPODB_EVENT=repo.load\n");
    expect(env).toContain("ALTREPODB_BRANCH=p10\n");
    expect(env).toContain("ALTREPODB_DATE=2026-11-20\n");
    expect(env).toContain("ALTREPODB_TRIGGER=rec1\n");
    expect(env).toContain("ALTREPODB_STATUS=ok\n");
    expect(env).toContain("ALTREPODB_CONFIG=/etc/altrepodb/test.toml\n");
    expect(env).not.toContain("ALTREPODB_TASK");
    expect(env).not.toContain("s3cret");
    expect(env).not.toContain("k3y");
    // arguments as given: no shell saw them
    expect(readFileSync(join(dir, "rec.args"), "utf8")).toBe("one arg\n$HOME;x\n");
    expect(stat("rec1")).toMatchObject({ fired: 1, ok: 1, failed: 0, timeout: 0, error: 0 });
    expect(lines.filter((l) => l.level === "error")).toEqual([]);
  });

  test("task loads carry ALTREPODB_TASK; on_failure triggers alone see failed loads", async () => {
    const dir = scriptDir("trig-task");
    const a = recorder(dir, "a");
    const b = recorder(dir, "b");
    const lines: Recorded[] = [];
    const ctx = ctxFor(`[[triggers]]\nname = "task-a"\non = ["task.load"]\nrun = ["${a}"]\n[[triggers]]\nname = "task-b"\non = ["task.load"]\nrun = ["${b}"]\non_failure = true\n`, lines);
    await fireTriggers(ctx, "task.load", { taskId: 412345, state: "DONE", complete: true });
    await fireTriggers(ctx, "task.load", { taskId: 412346, state: "DONE", complete: false }, { failed: true });
    expect(readFileSync(join(dir, "a.count"), "utf8")).toBe("run\n");
    expect(readFileSync(join(dir, "b.count"), "utf8")).toBe("run\nrun\n");
    expect(readFileSync(join(dir, "a.env"), "utf8")).toContain("ALTREPODB_TASK=412345\n");
    const bEnv = readFileSync(join(dir, "b.env"), "utf8");
    expect(bEnv).toContain("ALTREPODB_TASK=412346\n");
    expect(bEnv).toContain("ALTREPODB_STATUS=failed\n");
  });

  test("failing, missing, hanging and not-reading triggers are isolated, logged on one line and counted", async () => {
    const dir = scriptDir("trig-bad");
    const good = recorder(dir, "good");
    const failing = script(dir, "failing", 'cat >/dev/null\necho "disk full on /srv/mirror" >&2\nexit 3');
    const missing = join(dir, "no-such-program");
    // ignores SIGTERM and leaves a grandchild behind: the process group gets SIGKILL
    const hanging = script(dir, "hanging", `trap '' TERM\nsleep 300 &\necho $! > "${dir}/grandchild.pid"\nwhile :; do sleep 1; done`);
    // never reads a summary far larger than a pipe's buffer, and exits 0
    const deaf = script(dir, "deaf", "sleep 0.3\nexit 0");
    const lines: Recorded[] = [];
    const t = (name: string, prog: string, timeout = 10) => `[[triggers]]\nname = "${name}"\non = ["repo.load"]\nrun = ["${prog}"]\ntimeout = ${timeout}\n`;
    const ctx = ctxFor(t("good", good) + t("failing", failing) + t("missing", missing) + t("hanging", hanging, 0.5) + t("deaf", deaf), lines);
    const big = { branch: "p11", date: "2026-11-21", filler: "x".repeat(4 * 1024 * 1024) };
    // resolves (each trigger bounded by its timeout): never waits for a reader that does not come
    await fireTriggers(ctx, "repo.load", big);
    expect(readFileSync(join(dir, "good.count"), "utf8")).toBe("run\n");
    expect(readFileSync(join(dir, "good.in")).length).toBe(JSON.stringify(big).length + 1);
    expect(stat("good")).toMatchObject({ ok: 1 });
    expect(stat("failing")).toMatchObject({ failed: 1, ok: 0 });
    expect(stat("failing")!.last_error!.message).toContain("exit 3: disk full on /srv/mirror");
    expect(stat("missing")).toMatchObject({ error: 1 });
    expect(stat("hanging")).toMatchObject({ timeout: 1 });
    expect(stat("deaf")).toMatchObject({ ok: 1 });
    const errors = lines.filter((l) => l.level === "error").map((l) => l.msg);
    expect(errors).toHaveLength(3);
    for (const [name, prog] of [["failing", failing], ["missing", missing], ["hanging", hanging]]) {
      const line = errors.find((m) => m.includes(`trigger "${name}" (${prog})`));
      expect(line).toBeDefined();
      expect(line!.includes("\n")).toBe(false);
    }
    expect(errors.find((m) => m.includes('"hanging"'))).toContain("timed out after repo.load: killed after the timeout of 0.5 s");
    expect(errors.find((m) => m.includes('"missing"'))).toContain("cannot run: ENOENT");
    // the grandchild went with its group
    const pid = Number(readFileSync(join(dir, "grandchild.pid"), "utf8"));
    let alive = true;
    for (let i = 0; i < 40 && alive; i++) {
      try {
        process.kill(pid, 0);
        await Bun.sleep(50);
      } catch {
        alive = false;
      }
    }
    expect(alive).toBe(false);
  }, 60_000);

  test("an export trigger whose exporter is not built in is skipped with a line; its program still runs", async () => {
    const dir = scriptDir("trig-export");
    const rec = recorder(dir, "after-export");
    const lines: Recorded[] = [];
    const ctx = ctxFor(`[[triggers]]\nname = "publish"\non = ["repo.load"]\nrun = ["${rec}"]\nexport = { kind = "deb", out = "/srv/export/{branch}", arch = "x86_64" }\n`, lines);
    await fireTriggers(ctx, "repo.load", { branch: "p10", date: "2026-11-20" });
    expect(stat("publish")).toMatchObject({ skipped: 1, ok: 1 });
    expect(lines.some((l) => l.level === "warn" && l.msg.includes('trigger "publish" (export deb) skipped after repo.load: exporter deb is not in this build'))).toBe(true);
    expect(existsSync(join(dir, "after-export.count"))).toBe(true);
  });

  test("an export trigger runs the registered exporter with the branch, date and filled-in options", async () => {
    const seen: ExportRequest[] = [];
    EXPORTERS["test-export"] = async (_ctx, req) => void seen.push(req);
    EXPORTERS["test-broken"] = async () => {
      throw new Error("no space left on device");
    };
    try {
      const lines: Recorded[] = [];
      const ctx = ctxFor(
        `[[triggers]]\nname = "exp-ok"\non = ["repo.load"]\nexport = { kind = "test-export", out = "/srv/{branch}/{date}", arch = ["x86_64", "noarch"] }\n` +
          `[[triggers]]\nname = "exp-bad"\non = ["repo.load"]\nexport = { kind = "test-broken" }\n`,
        lines,
      );
      await fireTriggers(ctx, "repo.load", { branch: "p10", date: "2026-11-20" });
      expect(seen).toEqual([{ kind: "test-export", branch: "p10", date: "2026-11-20", options: { out: "/srv/p10/2026-11-20", arch: ["x86_64", "noarch"] } }]);
      expect(stat("exp-ok")).toMatchObject({ ok: 1 });
      expect(stat("exp-bad")).toMatchObject({ error: 1 });
      expect(lines.find((l) => l.level === "error")?.msg).toBe('trigger "exp-bad" (export test-broken) failed after repo.load of p10 2026-11-20: no space left on device');
    } finally {
      delete EXPORTERS["test-export"];
      delete EXPORTERS["test-broken"];
    }
  });
});
