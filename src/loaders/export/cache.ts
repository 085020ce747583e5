/**
 * Fragment cache of incremental exports: one file per package and location in the output
 * directory's cache area (`.altrepodb-cache/<2 hex>/<pkg_hash>-<location hash>`), holding its
 * primary, filelists and other fragments separated by NUL (XML text never holds a NUL). The
 * next export links the files it reuses into its own cache area (no copy).
 */
import { createHash } from "node:crypto";
import { existsSync, linkSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Fragments } from "../../export/rpmmd";
import { CACHE_DIR } from "./outdir";

/** Bump when fragment output changes: old caches are then ignored. */
const VERSION = "v1";

function rel(pkgHash: bigint, href: string): string {
  const h = pkgHash.toString(16).padStart(16, "0");
  const loc = createHash("sha1").update(`${VERSION}\0${href}`).digest("hex").slice(0, 16);
  return join(h.slice(0, 2), `${h}-${loc}`);
}

export class FragmentCache {
  private readonly made = new Set<string>();
  hits = 0;
  misses = 0;

  constructor(
    /** Cache area of the previous export (may not exist). */
    private readonly from: string | undefined,
    /** Cache area being written. */
    private readonly to: string,
  ) {}

  static dirs(previousOut: string | undefined, tmp: string): FragmentCache {
    return new FragmentCache(previousOut ? join(previousOut, CACHE_DIR) : undefined, join(tmp, CACHE_DIR));
  }

  /** The cached fragments, linked into the new cache area; undefined on a miss. */
  take(pkgHash: bigint, href: string): Fragments | undefined {
    if (!this.from) return undefined;
    const r = rel(pkgHash, href);
    const src = join(this.from, r);
    if (!existsSync(src)) return undefined;
    const parts = readFileSync(src, "utf8").split("\0");
    if (parts.length !== 3) return undefined;
    this.place(r, (dst) => linkSync(src, dst));
    this.hits++;
    return { primary: parts[0], filelists: parts[1], other: parts[2] };
  }

  put(pkgHash: bigint, href: string, f: Fragments): void {
    this.misses++;
    this.place(rel(pkgHash, href), (dst) => writeFileSync(dst, `${f.primary}\0${f.filelists}\0${f.other}`));
  }

  private place(r: string, write: (dst: string) => void): void {
    const dir = join(this.to, r.slice(0, 2));
    if (!this.made.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.made.add(dir);
    }
    const dst = join(this.to, r);
    if (!existsSync(dst)) write(dst);
  }
}
