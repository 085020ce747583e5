/** src/rpmdb is a library above src/rpm: it imports only itself, src/rpm's public entry and built-ins. */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const DIR = join(import.meta.dir, "..", "..", "src", "rpmdb");
const ALLOWED = [/^\.\/[\w-]+\.ts$/, /^\.\.\/rpm\/index\.ts$/, /^node:/, /^bun:sqlite$/];

test("src/rpmdb imports only src/rpm and built-ins", () => {
  const bad: string[] = [];
  for (const f of readdirSync(DIR).filter((n) => n.endsWith(".ts"))) {
    const src = readFileSync(join(DIR, f), "utf8");
    for (const m of src.matchAll(/(?:from\s+|import\(\s*|require\(\s*)["']([^"']+)["']/g)) {
      if (!ALLOWED.some((re) => re.test(m[1]))) bad.push(`${f}: ${m[1]}`);
    }
  }
  expect(bad).toEqual([]);
});
