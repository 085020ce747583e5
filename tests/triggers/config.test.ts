/**
 * [[triggers]] and [bot] in the configuration: the schema's errors name the key and line,
 * `config check` refuses a program that cannot run (exit 2, key and line) and masks the bot token,
 * and its TOML loads again to the same triggers.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, effectiveToml, loadConfig, parseConfigText } from "../../src/config";
import { checkTriggers } from "../../src/triggers/check";
import { cli } from "../helpers/cli";
import { script, scriptDir } from "./_scripts";

setDefaultTimeout(120_000);

function parseError(text: string): ConfigError {
  try {
    parseConfigText(text, "t.toml");
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error("no error");
}

describe("[[triggers]] schema", () => {
  test("an unknown event is an error naming the key and its line", () => {
    const e = parseError(`[[triggers]]\nname = "a"\non = ["repo.load"]\nrun = ["/bin/true"]\n\n[[triggers]]\nname = "b"\non = ["repo.load", "repo.loaded"]\nrun = ["/bin/true"]\n`);
    expect(e.key).toBe("triggers.1.on.1");
    expect(e.line).toBe(8);
    expect(e.message).toContain("an event name (repo.load, task.load");
  });

  test("duplicate names, no action, a timeout out of range, an unknown key", () => {
    expect(parseError(`[[triggers]]\nname = "a"\non = ["repo.load"]\nrun = ["/bin/true"]\n[[triggers]]\nname = "a"\non = ["task.load"]\nrun = ["/bin/true"]\n`).message).toContain(
      'triggers.1.name: trigger name "a" is used twice',
    );
    expect(parseError(`[[triggers]]\nname = "a"\non = ["repo.load"]\n`).message).toContain("triggers.0: needs run = [program, args…] or export = {…}");
    const t = parseError(`[[triggers]]\nname = "a"\non = ["repo.load"]\nrun = ["/bin/true"]\ntimeout = 0\n`);
    expect([t.key, t.line]).toEqual(["triggers.0.timeout", 5]);
    expect(t.message).toContain("at least 0.1 s");
    expect(parseError(`[[triggers]]\nname = "a"\non = ["repo.load"]\nrun = "/bin/true"\n`).key).toBe("triggers.0.run");
    expect(parseError(`[[triggers]]\nname = "a"\non = []\nrun = ["/bin/true"]\n`).message).toContain("at least one event");
    expect(parseError(`[[triggers]]\nname = "a"\non = ["repo.load"]\nrun = ["/bin/true"]\nshell = true\n`).message).toContain("triggers.0.shell: unknown key");
  });
});

describe("config check", () => {
  test("a missing or non-executable program fails with the key and line; an exporter not built in is a warning", () => {
    const dir = scriptDir("trig-check");
    const ok = script(dir, "ok.sh", "exit 0");
    const noexec = join(dir, "noexec.sh");
    writeFileSync(noexec, "#!/bin/sh\n");
    chmodSync(noexec, 0o644);
    const base = `[[triggers]]\nname = "ok"\non = ["repo.load", "task.load"]\nrun = ["${ok}"]\n`;
    const write = (name: string, text: string) => {
      const p = join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    const missing = cli(write("missing.toml", base + `\n[[triggers]]\nname = "gone"\non = ["repo.load"]\nrun = ["${dir}/gone.sh", "x"]\n`), ["config", "check"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`missing.toml:9: triggers.1.run: trigger "gone": ${dir}/gone.sh does not exist`);
    // the same checks in-process (a CLI run each would cost a second)
    const problems = (name: string, text: string) => checkTriggers(loadConfig({ path: write(name, text), env: {} }));
    expect(problems("noexec.toml", base + `[[triggers]]\nname = "ne"\non = ["repo.load"]\nrun = ["${noexec}"]\n`)).toEqual([{ key: ["triggers", 1, "run"], message: `trigger "ne": ${noexec} is not executable` }]);
    expect(problems("rel.toml", `[[triggers]]\nname = "rel"\non = ["repo.load"]\nrun = ["sync.sh"]\n`)[0]!.message).toContain('"sync.sh" is not an absolute path');
    expect(problems("dir.toml", `[[triggers]]\nname = "d"\non = ["repo.load"]\nrun = ["${dir}"]\n`)[0]!.message).toContain("is not a regular file");
    expect(problems("exp.toml", `[[triggers]]\nname = "e"\non = ["task.load"]\nexport = { kind = "deb", out = "/srv/x" }\n`)).toEqual([
      { key: ["triggers", 0, "export"], message: 'trigger "e": export follows branch loads only (repo.load), not task.load' },
      { key: ["triggers", 0, "export", "kind"], warning: true, message: 'trigger "e": exporter deb is not in this build (known: rpm-md); it will be skipped' },
    ]);
    const good = cli(write("good.toml", base + `[[triggers]]\nname = "pub"\non = ["repo.load"]\nexport = { kind = "deb", out = "/srv/export/{branch}" }\n`), ["config", "check"]);
    expect(good.code).toBe(0);
    expect(good.stderr).toContain("triggers.1.export.kind: trigger \"pub\": exporter deb is not in this build");
    // the printed TOML gives the same triggers again
    const again = write("again.toml", good.stdout);
    expect(loadConfig({ path: again, env: {} }).file.triggers).toEqual(loadConfig({ path: join(dir, "good.toml"), env: {} }).file.triggers);
  });

  test("the bot token is masked in config check, from the file, a token file or the environment", () => {
    const dir = scriptDir("bot-check");
    const p = join(dir, "bot.toml");
    writeFileSync(p, `[bot]\nenabled = true\n[bot.telegram]\ntoken = "123456:SECRET-token-value"\nchat_ids = [-100123, "@altrepo"]\n[bot.webhook]\nurl = "http://127.0.0.1:9/hook"\n`);
    const r = cli(p, ["config", "check"]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).not.toContain("SECRET-token-value");
    expect(r.stdout).toContain('token = "***"');
    expect(r.stdout).toContain('chat_ids = [ -100123, "@altrepo" ]');
    const tf = join(dir, "token");
    writeFileSync(tf, "777:FILE-token\n");
    writeFileSync(p, `[bot.telegram]\ntoken_file = "${tf}"\n`);
    const fromFile = loadConfig({ path: p, env: {} });
    expect(fromFile.botToken).toBe("777:FILE-token");
    const toml = effectiveToml(fromFile);
    expect(toml).not.toContain("FILE-token");
    expect(toml).toContain(`token_file = "${tf}"`);
    writeFileSync(p, `[bot.telegram]\nchat_ids = [1]\n`);
    const e = cli(p, ["config", "check"], { ALTREPODB_BOT_TOKEN: "888:ENV-token" });
    expect(e.code).toBe(0);
    expect(e.stdout + e.stderr).not.toContain("ENV-token");
  });
});

describe("config check of [bot]", () => {
  test("an enabled relay without a token for its chats, or with nothing to relay to, is refused naming the key", () => {
    const dir = scriptDir("bot-check2");
    const p = join(dir, "bot.toml");
    writeFileSync(p, `[bot]\nenabled = true\n[bot.telegram]\nchat_ids = [1]\n`);
    const r = cli(p, ["config", "check"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bot.toml:4: bot.telegram.chat_ids: chat_ids are set but there is no bot token");
  });
});
