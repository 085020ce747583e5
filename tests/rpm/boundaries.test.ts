/** src/rpm is a leaf library: it imports only itself, src/hash, src/compress (the xz/LZMA decoder), node built-ins and the zstd binding. */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "./_corpus.ts";

const DIR = join(REPO_ROOT, "src", "rpm");
const ALLOWED = [/^\.\/[\w-]+\.ts$/, /^\.\.\/hash\/index\.ts$/, /^\.\.\/compress\/[\w-]+\.ts$/, /^node:/, /^zstd-napi\/build\/Release\/binding\.node$/];

test("src/rpm imports nothing from db, config, cli or loaders", () => {
  const bad: string[] = [];
  for (const f of readdirSync(DIR).filter((n) => n.endsWith(".ts"))) {
    const src = readFileSync(join(DIR, f), "utf8");
    for (const m of src.matchAll(/(?:from\s+|import\(\s*|require\(\s*)["']([^"']+)["']/g)) {
      if (!ALLOWED.some((re) => re.test(m[1]))) bad.push(`${f}: ${m[1]}`);
    }
  }
  expect(bad).toEqual([]);
});
