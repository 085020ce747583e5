/**
 * Writes one arch directory of an apt-rpm repository: `<arch>/base/pkglist.<comp>`,
 * `srclist.<comp>`, their `.bz2` and `.xz` variants, `release.<comp>` and `release` with the MD5
 * and BLAKE2b of each (genbasedir's order). xz and bzip2 are spawned (argument arrays, timeout).
 * A list over 32 MiB is xz-compressed as two concatenated streams, as ALT's genbasedir does.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const BIG_LIST = 32 * 1024 * 1024;

export interface ComponentLists {
  comp: string;
  pkglist: Uint8Array;
  /** Undefined: no srclist for this component. */
  srclist?: Uint8Array;
}

export interface ReleaseInfo {
  /** Archive / Suite / Label (the branch). */
  branch: string;
  /** Unix time of the set: Codename/Version and Date. */
  time: number;
  origin?: string;
}

export interface WrittenFile {
  /** Relative to the arch directory: `base/pkglist.classic.xz`. */
  path: string;
  size: number;
  md5: string;
  blake2b: string;
}

function digest(rel: string, data: Uint8Array): WrittenFile {
  return {
    path: rel,
    size: data.length,
    md5: createHash("md5").update(data).digest("hex"),
    blake2b: createHash("blake2b512").update(data).digest("hex"),
  };
}

function run(cmd: string, args: string[], input: Uint8Array): Uint8Array {
  const r = spawnSync(cmd, args, { input, timeout: 600_000, maxBuffer: 4 * 1024 * 1024 * 1024 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} failed (exit ${r.status ?? r.signal}): ${r.stderr.toString().trim()}`);
  return new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
}

export function xz(raw: Uint8Array): Uint8Array {
  if (raw.length <= BIG_LIST) return run("xz", ["-c", "-T1"], raw);
  const half = Math.floor(raw.length / 2);
  const a = run("xz", ["-c", "-T1"], raw.subarray(0, half));
  const b = run("xz", ["-c", "-T1"], raw.subarray(half));
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function bzip2(raw: Uint8Array): Uint8Array {
  return run("bzip2", ["-c", "-9"], raw);
}

function rfc2822(t: number): string {
  return new Date(t * 1000).toUTCString().replace("GMT", "+0000");
}

/** Writes `<dir>/base/*` for one arch; returns every file written with its digests. */
export function writeArchLists(dir: string, arch: string, comps: readonly ComponentLists[], info: ReleaseInfo): WrittenFile[] {
  const base = join(dir, "base");
  mkdirSync(base, { recursive: true });
  const written: WrittenFile[] = [];
  const put = (rel: string, data: Uint8Array) => {
    writeFileSync(join(dir, rel), data);
    const d = digest(rel, data);
    written.push(d);
    return d;
  };
  const origin = info.origin ?? "ALT Linux Team";
  const listed: WrittenFile[] = [];
  for (const c of comps) {
    const lists: [string, Uint8Array][] = [[`base/pkglist.${c.comp}`, c.pkglist]];
    if (c.srclist) lists.push([`base/srclist.${c.comp}`, c.srclist]);
    for (const [rel, raw] of lists) listed.push(put(rel, raw));
    for (const [ext, f] of [[".bz2", bzip2], [".xz", xz]] as const) for (const [rel, raw] of lists) listed.push(put(rel + ext, f(raw)));
    const compRelease = [
      `Archive: ${info.branch}`,
      `Component: ${c.comp}`,
      `Version: ${info.time}`,
      `Origin: ${origin}`,
      `Label: ${info.branch}`,
      `Architecture: ${arch}`,
      "NotAutomatic: false",
      "",
    ].join("\n");
    listed.push(put(`base/release.${c.comp}`, new TextEncoder().encode(compRelease)));
  }
  const line = (d: WrittenFile, which: "md5" | "blake2b") => ` ${d[which]} ${d.size} ${d.path}`;
  const release = [
    `Origin: ${origin}`,
    `Label: ${info.branch}`,
    `Suite: ${info.branch}`,
    `Codename: ${info.time}`,
    `Date: ${rfc2822(info.time)}`,
    `Architectures: ${arch}`,
    `Components: ${comps.map((c) => c.comp).join(" ")}`,
    `Description: ALT Linux ${info.branch}`,
    "MD5Sum:",
    ...listed.map((d) => line(d, "md5")),
    "BLAKE2b:",
    ...listed.map((d) => line(d, "blake2b")),
    "",
    "",
  ].join("\n");
  put("base/release", new TextEncoder().encode(release));
  return written;
}
