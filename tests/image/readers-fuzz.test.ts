/**
 * Mutated images: bytes of small squashfs (gzip, xz) and ISO images are overwritten at random
 * (mostly in the metadata) and every tree is walked and every file read (its first and last 4 KiB). Whatever happens must be
 * an ImageError or correct-looking data: no other exception, no hang. 300 mutations per image by
 * default; ALTREPODB_FUZZ=N runs N (ALTREPODB_FUZZ_SEED picks another seed).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isImageError } from "../../src/image/errors.ts";
import { openIso9660 } from "../../src/image/iso9660.ts";
import { openSquashfs } from "../../src/image/squashfs.ts";
import type { ByteSource, FileTree } from "../../src/image/tree.ts";
import { runSync, scratchDir } from "../fixtures/_util.ts";
import { bytes } from "./_readers.ts";

const hasTools = Bun.which("mksquashfs") !== null && Bun.which("genisoimage") !== null;
if (!hasTools) console.warn("image reader fuzz skipped: mksquashfs and genisoimage are needed");
const RUNS = Number(process.env.ALTREPODB_FUZZ ?? 300);
const SEED = Number(process.env.ALTREPODB_FUZZ_SEED ?? 7);

class MemorySource implements ByteSource {
  readonly path = "mutated";
  constructor(private readonly b: Uint8Array) {}
  get size(): number {
    return this.b.length;
  }
  readAt(dst: Uint8Array, pos: number): number {
    if (pos >= this.b.length) return 0;
    const s = this.b.subarray(pos, pos + dst.length);
    dst.set(s);
    return s.length;
  }
}

let dir = "";
beforeAll(() => {
  if (!hasTools) return;
  dir = scratchDir("image-fuzz");
  const src = join(dir, "src");
  mkdirSync(join(src, "a", "b"), { recursive: true });
  writeFileSync(join(src, "a", "b", "f"), "hi\n");
  writeFileSync(join(src, "big"), bytes(300_000, 3));
  for (let i = 0; i < 40; i++) writeFileSync(join(src, "a", `f${i}`), `file ${i}\n`);
  symlinkSync("a/b", join(src, "l"));
  runSync(["mksquashfs", src, join(dir, "g.sqfs"), "-comp", "gzip", "-noappend", "-quiet", "-no-progress"]);
  runSync(["mksquashfs", src, join(dir, "x.sqfs"), "-comp", "xz", "-b", "4096", "-noappend", "-quiet", "-no-progress"]);
  runSync(["genisoimage", "-quiet", "-R", "-J", "-o", join(dir, "r.iso"), src]);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function fuzz(file: string, iso: boolean): { outcomes: Record<string, number>; bugs: string[] } {
  let seed = SEED;
  const rnd = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const good = readFileSync(join(dir, file));
  const outcomes: Record<string, number> = {};
  const bugs: string[] = [];
  const note = (e: unknown) => {
    if (isImageError(e)) outcomes[e.code] = (outcomes[e.code] ?? 0) + 1;
    else bugs.push(String((e as Error)?.stack ?? e));
  };
  for (let t = 0; t < RUNS && bugs.length < 3; t++) {
    const b = new Uint8Array(good);
    for (let k = 1 + (rnd() % 4); k > 0; k--) {
      const pos = iso
        ? rnd() % 2
          ? 16 * 2048 + (rnd() % (20 * 2048))
          : rnd() % b.length
        : rnd() % 3
          ? b.length - 1 - (rnd() % Math.min(b.length, 6000))
          : rnd() % 96;
      b[pos] = rnd() & 0xff;
    }
    try {
      const tree: FileTree = iso ? openIso9660(new MemorySource(b)) : openSquashfs(new MemorySource(b));
      const walk = (d: string, depth: number) => {
        if (depth > 20) return;
        for (const e of tree.list(d)) {
          try {
            if (e.type === "dir") walk(e.path, depth + 1);
            else if (e.type === "file") {
              const f = tree.open(e.path);
              f.readAt(new Uint8Array(Math.min(f.size, 4096)), 0);
              if (f.size > 4096) f.readAt(new Uint8Array(4096), Math.max(4096, f.size - 4096));
            }
          } catch (err) {
            note(err);
          }
        }
      };
      walk("/", 0);
      outcomes.ok = (outcomes.ok ?? 0) + 1;
    } catch (err) {
      note(err);
    }
  }
  return { outcomes, bugs };
}

describe.skipIf(!hasTools)("image readers on mutated images", () => {
  for (const [file, iso] of [
    ["g.sqfs", false],
    ["x.sqfs", false],
    ["r.iso", true],
  ] as const) {
    test(`${file}: only ImageErrors`, () => {
      const { outcomes, bugs } = fuzz(file, iso);
      expect(bugs).toEqual([]);
      expect(outcomes.ok ?? 0).toBeGreaterThan(0);
    }, 600_000);
  }
});
