import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, findConfigFile, loadConfig, maskedConfig, parseConfigText, secretsOf } from "../../src/config";
import { locateKey } from "../../src/config/locate";

const scratch = () => mkdtempSync(join(process.env.ALTREPODB_TEST_SCRATCH!, "cfg-"));

function errorOf(text: string): ConfigError {
  try {
    parseConfigText(text, "/etc/altrepodb/config.toml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("config file validation", () => {
  test("defaults with no file at all", () => {
    const c = loadConfig({ env: { XDG_DATA_HOME: "/srv/data" }, cwd: scratch() });
    expect(c.source).toBeNull();
    expect(c.database).toEqual({ driver: "embedded", database: "default", path: "/srv/data/altrepodb/db", libchdb: undefined });
    expect(c.log).toEqual({ level: "info", format: "text", file: undefined });
    expect(c.load.workers).toBeGreaterThan(0);
  });

  test("wrong type names file, line, key and expectation", () => {
    const e = errorOf(`# comment\n[database]\nname = "x"\ndriver = "mysql"\n`);
    expect(e.message).toBe(`/etc/altrepodb/config.toml:4: database.driver: Expected ("embedded" | "http") but received "mysql"`);
    expect(e.line).toBe(4);
  });

  test("unknown key is refused with its line", () => {
    const e = errorOf(`[database.http]\nurl = "http://ch:8123"\npasword = "x"\n`);
    expect(e.message).toBe("/etc/altrepodb/config.toml:3: database.http.pasword: unknown key");
  });

  test("unknown section is refused", () => {
    expect(errorOf(`[datbase]\n`).message).toContain("datbase: unknown key");
  });

  test("invalid TOML names the line", () => {
    const e = errorOf(`[log]\nlevel = \n`);
    expect(e.message).toStartWith("/etc/altrepodb/config.toml:2: invalid TOML");
  });

  test("numbers are range-checked", () => {
    expect(errorOf(`[load]\nworkers = 0\n`).message).toContain("load.workers: Expected >=1 but received 0");
    expect(errorOf(`[load]\nworkers = 1.5\n`).message).toContain("load.workers");
  });

  test("dotted keys and inline tables are located", () => {
    expect(locateKey(`[database]\nhttp.url = 1\n`, ["database", "http", "url"])).toBe(2);
    expect(locateKey(`database.name = 1\n`, ["database", "name"])).toBe(1);
    expect(locateKey(`[a]\n[b]\nx = 1\n`, ["b", "y"])).toBe(2);
  });
});

describe("config search order and secrets", () => {
  test("--config wins over $ALTREPODB_CONFIG and ./altrepodb.toml", () => {
    const dir = scratch();
    writeFileSync(join(dir, "altrepodb.toml"), `[log]\nlevel = "warn"\n`);
    writeFileSync(join(dir, "env.toml"), `[log]\nlevel = "debug"\n`);
    writeFileSync(join(dir, "flag.toml"), `[log]\nlevel = "error"\n`);
    expect(findConfigFile({ cwd: dir, env: {} })).toBe(join(dir, "altrepodb.toml"));
    expect(findConfigFile({ cwd: dir, env: { ALTREPODB_CONFIG: "env.toml" } })).toBe(join(dir, "env.toml"));
    expect(findConfigFile({ cwd: dir, env: { ALTREPODB_CONFIG: "env.toml" }, path: "flag.toml" })).toBe(join(dir, "flag.toml"));
    expect(loadConfig({ cwd: dir, env: {} }).log.level).toBe("warn");
  });

  test("a named file that does not exist is an error, not a silent default", () => {
    expect(() => loadConfig({ path: "/nonexistent/altrepodb.toml", env: {} })).toThrow("/nonexistent/altrepodb.toml: config file not found");
  });

  test("password from environment, then password_file, then the file", () => {
    const dir = scratch();
    writeFileSync(join(dir, "pw"), "from-file\n");
    const text = `[database]\ndriver = "http"\n[database.http]\npassword = "inline"\npassword_file = "${join(dir, "pw")}"\n`;
    writeFileSync(join(dir, "c.toml"), text);
    const fromFile = loadConfig({ path: join(dir, "c.toml"), env: {} });
    expect(fromFile.database.driver === "http" && fromFile.database.password).toBe("from-file");
    const fromEnv = loadConfig({ path: join(dir, "c.toml"), env: { ALTREPODB_DB_PASSWORD: "from-env" } });
    expect(fromEnv.database.driver === "http" && fromEnv.database.password).toBe("from-env");
    expect(secretsOf(fromEnv)).toEqual(["from-env"]);
    expect(JSON.stringify(maskedConfig(fromEnv))).not.toContain("from-env");
  });

  test("unreadable password file names the key", () => {
    const dir = scratch();
    writeFileSync(join(dir, "c.toml"), `[database]\ndriver = "http"\n[database.http]\npassword_file = "/nonexistent/pw"\n`);
    expect(() => loadConfig({ path: join(dir, "c.toml"), env: {} })).toThrow("database.http.password_file: cannot read password file /nonexistent/pw: ENOENT");
  });

  test("config.example.toml is valid and documents every key", async () => {
    const example = await Bun.file(join(import.meta.dir, "..", "..", "config.example.toml")).text();
    const parsed = parseConfigText(example, "config.example.toml");
    expect(parsed.database.http.url).toBeDefined();
    // every key line carries a comment above it
    const lines = example.split("\n");
    lines.forEach((l, i) => {
      if (/^[a-z_0-9]+\s*=/.test(l)) expect(lines[i - 1].startsWith("#")).toBe(true);
    });
  });
});
