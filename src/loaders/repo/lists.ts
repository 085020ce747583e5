/**
 * What the snapshot's lists say: file names per component and the digests known without
 * opening a package (pkglist/srclist MD5 and BLAKE2b, files/list/*.hash.xz SHA-256).
 * Without lists, the directories are listed instead.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex } from "../../hash";
import { openDecompressed, readHeaderList, text } from "../../rpm";
import { InputError } from "../errors";
import { isDir, type Snapshot } from "./layout";

export interface Digests {
  md5?: Uint8Array;
  sha256?: Uint8Array;
  blake2b?: Uint8Array;
  /** File size in bytes from the apt list (CRPMTAG_FILESIZE), when it has one. */
  size?: number;
}

/** A list entry that is not loaded: its file name is not a plain name in its directory. */
export interface RejectedEntry {
  /** The pkglist/srclist that names it. */
  list: string;
  /** The file name as the list gives it. */
  entry: string;
  error: string;
}

/**
 * Why a list's file name cannot be used, or undefined when it is a plain file name. Names are
 * joined to `<arch>/RPMS.<comp>/` and `files/SRPMS/`: a `/` in them (`../../x.rpm`, `/tmp/x.rpm`)
 * would read a file outside the snapshot.
 */
export function badEntryName(name: string): string | undefined {
  if (name === "" || name === "." || name === "..") return "not a file name";
  if (name.includes("\0")) return "contains a NUL byte";
  if (name.includes("/")) return `not a plain file name: ${name.startsWith("/") ? "an absolute path" : "it contains /"} would be read outside the snapshot's package directory, refused`;
  return undefined;
}

export interface Listing {
  /** Source file names (files/SRPMS/<name>) with their known digests. */
  sources: Map<string, Digests>;
  /** Binary file names (unique across archs) with their known digests. */
  binaries: Map<string, Digests>;
  /** "<arch>/<comp>" → file names, in list order. */
  components: Map<string, string[]>;
  /** List entries refused because of their file name (not in `sources`, `binaries` or `components`). */
  rejected: RejectedEntry[];
  warnings: string[];
  /**
   * Reads files/list/<arch>.hash.xz into `binaries[…].sha256`. Only new packages need a SHA-256,
   * so a reload that finds everything known skips these lists.
   */
  loadBinarySha256(): Promise<void>;
}

function entry(map: Map<string, Digests>, name: string): Digests {
  let d = map.get(name);
  if (!d) map.set(name, (d = {}));
  return d;
}

async function readList(path: string, onEntry: (name: string, md5: Uint8Array, blake2b: Uint8Array, size: number | null) => void): Promise<void> {
  try {
    for await (const e of readHeaderList(path)) onEntry(text(e.apt.filename), e.apt.md5, e.apt.blake2b, e.apt.filesize);
  } catch (e) {
    throw new InputError(`cannot read header list: ${(e as Error).message}`, path);
  }
}

async function readHashList(path: string, onLine: (name: string, sha256: Uint8Array) => void): Promise<void> {
  const stream = openDecompressed(path, 0, "xz", { timeoutMs: 600_000 });
  let rest = "";
  let lineNo = 0;
  const decoder = new TextDecoder();
  const handle = (line: string) => {
    lineNo++;
    if (line.trim() === "") return;
    const m = /^([0-9a-fA-F]{64})\s+(\S.*)$/.exec(line.trim());
    if (!m) throw new InputError(`line ${lineNo}: expected "<sha256>  <file>"`, path);
    onLine(m[2], fromHex(m[1]));
  };
  try {
    for (;;) {
      const { value: chunk, done } = await stream.chunks.next();
      if (done) break;
      const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = lines.pop() ?? "";
      lines.forEach(handle);
    }
    if (rest) handle(rest);
  } finally {
    stream.close();
  }
}

function rpmsIn(dir: string, suffix: string): string[] {
  if (!isDir(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith(suffix))
    .sort();
}

export async function readListing(snap: Snapshot): Promise<Listing> {
  const sources = new Map<string, Digests>();
  const binaries = new Map<string, Digests>();
  const components = new Map<string, string[]>();
  const warnings: string[] = [];
  const rejected: RejectedEntry[] = [];

  // every list is decompressed by its own process, all at once; results are merged in order
  type Parsed = { name: string; md5: Uint8Array; blake2b: Uint8Array; size: number | null }[];
  const collect = async (path: string): Promise<Parsed> => {
    const out: Parsed = [];
    await readList(path, (name, md5, blake2b, size) => {
      const bad = badEntryName(name);
      if (bad) rejected.push({ list: path, entry: name, error: bad });
      else out.push({ name, md5, blake2b, size });
    });
    return out;
  };
  // every arch usually carries the same srclist: read each distinct file once
  const distinct = new Map<string, string>();
  for (const a of snap.archs) {
    if (!a.srclist) continue;
    const bytes = readFileSync(a.srclist);
    const key = createHash("sha1").update(bytes).digest("hex");
    if (!distinct.has(key)) distinct.set(key, a.srclist);
  }
  const srclists = [...distinct.values()].map(collect);
  const pkglists = new Map<string, Promise<Parsed>>();
  for (const a of snap.archs) for (const [c, p] of a.pkglists) pkglists.set(`${a.name}/${c}`, collect(p));
  const srcHashList = snap.hashLists.get("src");
  const srcHashes = srcHashList ? readHashLines(srcHashList) : Promise.resolve([] as [string, Uint8Array][]);
  await Promise.all([...srclists, ...pkglists.values(), srcHashes]);

  for (const list of srclists) {
    for (const e of await list) {
      const d = entry(sources, e.name);
      if (e.md5.length) d.md5 = e.md5;
      if (e.blake2b.length) d.blake2b = e.blake2b;
      if (e.size !== null) d.size = e.size;
    }
  }
  for (const arch of snap.archs) {
    for (const comp of arch.components) {
      const key = `${arch.name}/${comp}`;
      const names: string[] = [];
      const list = pkglists.get(key);
      if (list) {
        for (const e of await list) {
          names.push(e.name);
          const d = entry(binaries, e.name);
          if (e.md5.length) d.md5 = e.md5;
          if (e.blake2b.length) d.blake2b = e.blake2b;
          if (e.size !== null) d.size = e.size;
        }
      } else {
        if (arch.pkglists.size || arch.srclist) warnings.push(`${arch.name}/base/pkglist.${comp}.xz is missing; listing ${arch.name}/RPMS.${comp}/ instead`);
        for (const n of rpmsIn(join(snap.root, arch.name, `RPMS.${comp}`), ".rpm")) {
          names.push(n);
          entry(binaries, n);
        }
      }
      components.set(key, names);
    }
  }

  const srpmsDir = join(snap.root, "files", "SRPMS");
  const onDisk = new Set(rpmsIn(srpmsDir, ".src.rpm"));
  if (srclists.length === 0) for (const n of onDisk) entry(sources, n);

  for (const [name, sha256] of await srcHashes) {
    // reference: sources only in src.hash.xz are loaded when the file exists
    if (!sources.has(name) && !onDisk.has(name)) {
      warnings.push(`files/list/src.hash.xz names ${name}, which is not in files/SRPMS; skipped`);
      continue;
    }
    entry(sources, name).sha256 = sha256;
  }
  let binarySha256: Promise<void> | undefined;
  const loadBinarySha256 = () =>
    (binarySha256 ??= Promise.all(
      [...snap.hashLists].filter(([arch]) => arch !== "src").map(async ([, path]) => {
        for (const [name, sha256] of await readHashLines(path)) {
          const d = binaries.get(name);
          if (d) d.sha256 = sha256;
        }
      }),
    ).then(() => undefined));
  return { sources, binaries, components, rejected, warnings, loadBinarySha256 };
}

async function readHashLines(path: string): Promise<[string, Uint8Array][]> {
  const lines: [string, Uint8Array][] = [];
  await readHashList(path, (name, sha256) => lines.push([name, sha256]));
  return lines;
}

/** Binary file name → its path under the first component that lists it (noarch files repeat). */
export function binaryPaths(root: string, listing: Listing): Map<string, string> {
  const where = new Map<string, string>();
  for (const [key, names] of listing.components) {
    const [arch, comp] = key.split("/");
    for (const n of names) if (!where.has(n)) where.set(n, join(root, arch, `RPMS.${comp}`, n));
  }
  return where;
}
