/** Shared by the export tests: createrepo_c on the same files, and rpm-md files read back. */
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { SnapshotResult } from "../fixtures/snapshot";

export const CREATEREPO = "/usr/bin/createrepo_c";
export const hasCreaterepo = existsSync(CREATEREPO);

/** The files `export rpm-md --arch ARCH` publishes: ARCH and noarch binaries, at their snapshot paths. */
export function archFiles(snap: SnapshotResult, arch: string): string[] {
  return snap.rpms.filter((r) => r.arch === arch || r.arch === "noarch").map((r) => `${r.arch}/RPMS.${r.component}/${r.name}`);
}

/** createrepo_c on the snapshot's own files (relative paths as in the snapshot tree). */
export function createrepo(snap: SnapshotResult, rels: string[], out: string, revision: number): void {
  mkdirSync(out, { recursive: true });
  const list = join(out, "pkglist.txt");
  Bun.write(list, rels.join("\n") + "\n");
  const r = Bun.spawnSync(
    [CREATEREPO, "--no-database", "--revision", String(revision), "--set-timestamp-to-revision", "--pkglist", list, "-o", out, "--workers", "2", snap.root],
    { stdout: "pipe", stderr: "pipe", timeout: 300_000 },
  );
  if (r.exitCode !== 0) throw new Error(`createrepo_c failed: ${r.stderr.toString()}`);
}

export interface RepoData {
  repomd: string;
  primary: string;
  filelists: string;
  other: string;
}

function decompress(path: string): string {
  const raw = readFileSync(path);
  if (path.endsWith(".gz")) return gunzipSync(raw).toString("utf8");
  const tool = path.endsWith(".xz") ? ["xz", "-dc", path] : ["zstd", "-dcq", path];
  const r = Bun.spawnSync(tool, { stdout: "pipe", timeout: 60_000 });
  return r.stdout.toString();
}

export function readRepo(dir: string): RepoData {
  const repodata = join(dir, "repodata");
  const repomd = readFileSync(join(repodata, "repomd.xml"), "utf8");
  const find = (t: string) => readdirSync(repodata).find((f) => f.includes(`-${t}.xml`))!;
  return { repomd, primary: decompress(join(repodata, find("primary"))), filelists: decompress(join(repodata, find("filelists"))), other: decompress(join(repodata, find("other"))) };
}

/** `<package …>…</package>` entries by pkgid. */
export function packagesOf(xml: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of xml.matchAll(/<package [\s\S]*?<\/package>\n/g)) {
    const id = /pkgid="(?:YES">)?([0-9a-f]{64})/.exec(m[0]) ?? /pkgid="YES">([0-9a-f]{64})</.exec(m[0]);
    out.set(id ? id[1] : m[0], m[0]);
  }
  return out;
}

/** The open-checksum, open-size of each data type of a repomd.xml. */
export function openSums(repomd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of repomd.matchAll(/<data type="(\w+)">[\s\S]*?<open-checksum type="sha256">(\w+)<\/open-checksum>[\s\S]*?<open-size>(\d+)<\/open-size>/g)) out[m[1]] = `${m[2]} ${m[3]}`;
  return out;
}

export { dirname, linkSync };
