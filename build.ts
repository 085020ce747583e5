#!/usr/bin/env bun
/**
 * Builds the single executable dist/altrepodb with `bun build --compile`.
 * Embedded: the SQL migrations (as a constant), the git revision, worker entry points
 * (every src/**\/worker.ts) and native addons imported statically (zstd-napi).
 * Not embedded: libchdb.so (≈560 MB); the binary finds it through config, $ALTREPODB_LIBCHDB,
 * next to itself, or in node_modules.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { Glob } from "bun";
import { readSqlDir } from "./src/db/migrations/bundle";

const root = import.meta.dir;
const out = join(root, "dist", "altrepodb");

function gitRevision(): string {
  const rev = Bun.spawnSync(["git", "rev-parse", "--short=12", "HEAD"], { cwd: root });
  if (rev.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: root }).stdout.toString().trim() !== "";
  return rev.stdout.toString().trim() + (dirty ? "-dirty" : "");
}

const workers = [...new Glob("src/**/worker.ts").scanSync({ cwd: root })].sort();
const zstdAddon = join(root, "node_modules", "zstd-napi", "build", "Release", "binding.node");
if (!existsSync(zstdAddon)) {
  console.error(`build: ${zstdAddon} is missing; build it with: (cd node_modules/zstd-napi && npx node-gyp rebuild --nodedir=/usr)`);
  process.exit(1);
}

mkdirSync(join(root, "dist"), { recursive: true });
const defines = {
  __ALTREPODB_MIGRATIONS__: JSON.stringify(readSqlDir()),
  __ALTREPODB_GIT_REV__: JSON.stringify(gitRevision()),
};
const args = [
  process.execPath,
  "build",
  "--compile",
  "--minify-syntax",
  "--minify-whitespace",
  "--sourcemap",
  "--outfile",
  out,
  ...Object.entries(defines).flatMap(([k, v]) => ["--define", `${k}=${v}`]),
  "src/cli/main.ts",
  ...workers,
];
const t0 = performance.now();
const r = Bun.spawnSync(args, { cwd: root, stdout: "inherit", stderr: "inherit" });
if (r.exitCode !== 0) {
  console.error("build: bun build --compile failed");
  process.exit(r.exitCode ?? 1);
}
console.error(`build: ${out} (${workers.length} worker entry point(s)) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
