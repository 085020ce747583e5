/** Shared set-up of the image tests: the image fixtures, and a database holding their packages (repo load p10). */
import { accessSync, constants } from "node:fs";
import { buildImageFixtures, missingImageTools, type ImageFixtures } from "../fixtures/image";
import { makeSnapshot } from "../fixtures/snapshot";
import { scratchDir } from "../fixtures/_util";
import { contextFor, migratedDb } from "../helpers/context";
import { loadRepo } from "../../src/loaders/repo";
import type { LoadContext } from "../../src/loaders/context";
import type { ImageLoadInput } from "../../src/loaders/image";

export { contextFor, migratedDb };

let fx: Promise<ImageFixtures> | undefined;
export function imageFixtures(): Promise<ImageFixtures> {
  fx ??= buildImageFixtures();
  return fx;
}

/** Why the image tests cannot run here, or "" (each skipped test says it). */
export function whyNoImages(): string {
  const missing = missingImageTools();
  if (!Bun.which("gost12sum")) missing.push("gost12sum");
  return missing.length ? `missing tools: ${missing.join(", ")}` : "";
}

/** FUSE mounts work here: the tools and a /dev/fuse we may open. */
export const FUSE_OK = Bun.which("fuseiso") !== null && Bun.which("squashfuse") !== null && Bun.which("fusermount") !== null && (() => {
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();

/** Loads every fixture package as branch p10 (the images' base branch). */
export async function loadBase(ctx: LoadContext, f: ImageFixtures): Promise<void> {
  const snap = makeSnapshot(scratchDir("img-snap"), { packages: f.packages });
  const r = await loadRepo(ctx, { branch: "p10", path: snap.root, date: "2026-11-01" });
  if (r.failures.length) throw new Error(`repo load: ${JSON.stringify(r.failures)}`);
}

export const FLAGS = {
  branch: "p10",
  edition: "alt-workstation",
  version: "10.0",
  release: "release",
  variant: "install",
  flavor: "",
  platform: "",
  arch: "x86_64",
  date: "2026-11-20",
  url: "http://ftp.altlinux.org/pub/distributions/ALTLinux/images/p10/fixture",
} satisfies Omit<ImageLoadInput, "path">;

/** `name\tversion\trelease` of librpm's list, sorted (the arch differs for i586- names: x86_64-i586 in the database). */
export function expectedNvr(f: ImageFixtures): string[] {
  return f.expected.map((l) => l.split("\t")).map((p) => `${p[0]}\t${p[2]}\t${p[3]}`).sort();
}
