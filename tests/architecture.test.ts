/**
 * The layers, checked: src/cli → src/daemon → src/loaders/<name> → src/packages → libraries
 * (src/rpm, src/rpmdb, src/db, src/amqp, src/hash, src/config, src/log, src/models, src/cpe, src/compress). Libraries import no
 * loader, daemon or CLI code; loaders do not import each other (shared pieces live below them);
 * nothing imports the CLI.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const SRC = resolve(import.meta.dir, "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

/** Every relative import of a file, as a path below src/ (e.g. "loaders/repo/index"). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) out.push(relative(SRC, resolve(dirname(file), m[1])));
  return out;
}

const all = files(SRC).map((f) => ({ file: relative(SRC, f), imports: importsOf(f) }));
const top = (p: string) => p.split("/")[0];
const loaderOf = (p: string) => (p.startsWith("loaders/") && p.split("/").length > 2 ? p.split("/")[1] : undefined);

const LIBRARIES = ["rpm", "rpmdb", "db", "amqp", "hash", "config", "log", "models", "cpe", "image", "export", "compress"];

describe("architecture", () => {
  test("libraries import no loader, package path, daemon or CLI code", () => {
    const bad = all.flatMap(({ file, imports }) =>
      LIBRARIES.includes(top(file)) ? imports.filter((i) => ["loaders", "packages", "daemon", "cli"].includes(top(i))).map((i) => `${file} → ${i}`) : [],
    );
    expect(bad).toEqual([]);
  });

  test("the package path imports no loader (except their shared contracts), daemon or CLI code", () => {
    const bad = all.flatMap(({ file, imports }) =>
      top(file) === "packages"
        ? imports.filter((i) => ["daemon", "cli"].includes(top(i)) || (top(i) === "loaders" && !/^loaders\/(context|errors)$/.test(i))).map((i) => `${file} → ${i}`)
        : [],
    );
    expect(bad).toEqual([]);
  });

  test("loaders do not import each other, the daemon or the CLI", () => {
    const bad = all.flatMap(({ file, imports }) => {
      const own = loaderOf(file);
      if (!own) return [];
      return imports
        .filter((i) => ["daemon", "cli"].includes(top(i)) || (loaderOf(i) !== undefined && loaderOf(i) !== own))
        .map((i) => `${file} → ${i}`);
    });
    expect(bad).toEqual([]);
  });

  test("nothing outside the CLI imports it", () => {
    const bad = all.flatMap(({ file, imports }) => (top(file) === "cli" ? [] : imports.filter((i) => top(i) === "cli").map((i) => `${file} → ${i}`)));
    expect(bad).toEqual([]);
  });
});
