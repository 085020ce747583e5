/**
 * The image's metadata as the reference validates and stores it (§1.2, §1.3): the flags, the tag
 * `branch:edition:flavor:platform:release.major.minor.sub:arch:variant:type`, and the key/value
 * strings of the root node.
 */
import { InputError } from "../errors";

export const EDITIONS = ["alt-server", "alt-server-v", "alt-education", "alt-workstation", "alt-kworkstation", "slinux", "cloud"] as const;
export const RELEASES = ["alpha", "beta", "rc", "release"] as const;
export const PLATFORMS = ["", "rpi4", "tegra", "baikalm", "tavolga", "bfk3", "mcom02", "hifive", "qemu"] as const;
export const VARIANTS = ["install", "live", "rescue"] as const;
export const ARCHS = ["i586", "x86_64", "aarch64", "ppc64le"] as const;

export interface ImageFlags {
  branch: string;
  edition: string;
  version: string;
  release: string;
  variant: string;
  flavor: string;
  platform: string;
  arch: string;
  /** YYYY-MM-DD */
  date: string;
  url: string;
}

export interface ImageMeta {
  url: string;
  arch: string;
  date: string;
  /** Seconds since the epoch (UTC midnight of --date). */
  dateEpoch: number;
  file: string;
  branch: string;
  flavor: string;
  edition: string;
  variant: string;
  platform: string;
  release: string;
  versionMajor: number;
  versionMinor: number;
  versionSub: number;
  imageType: string;
}

const URL_RE = /^(?:[a-z][a-z0-9+.-]{2,8}:(?:\/\/)?|www\.|[^\s@/]+@)[^\s]+$/i;

function oneOf(flag: string, value: string, allowed: readonly string[]): string {
  if (!allowed.includes(value)) throw new InputError(`${flag} must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, not ${JSON.stringify(value)}`);
  return value;
}

export function parseVersion(v: string): [number, number, number] {
  if (!/^\d+(?:\.\d+){0,2}$/.test(v)) throw new InputError(`--version must be MAJOR[.MINOR[.SUB]] of integers, not ${JSON.stringify(v)}`);
  const p = v.split(".").map(Number);
  if (p.some((n) => n > 0xffffffff)) throw new InputError(`--version ${JSON.stringify(v)}: a part is larger than 4294967295`);
  return [p[0], p[1] ?? 0, p[2] ?? 0];
}

export function parseDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== date) throw new InputError(`--date must be YYYY-MM-DD, not ${JSON.stringify(date)}`);
  return t / 1000;
}

/** Every flag checked as the reference does; the first bad one is an InputError naming it. */
export function imageMeta(flags: ImageFlags, file: string, imageType: string): ImageMeta {
  const branch = flags.branch.toLowerCase();
  if (!/^[a-z0-9][a-z0-9_.+-]*$/.test(branch)) throw new InputError(`--branch ${JSON.stringify(flags.branch)} is not a plain branch name`);
  const [versionMajor, versionMinor, versionSub] = parseVersion(flags.version);
  if (!URL_RE.test(flags.url)) throw new InputError(`--url ${JSON.stringify(flags.url)} is not a URL`);
  if (/[:\n]/.test(flags.flavor)) throw new InputError(`--flavor ${JSON.stringify(flags.flavor)} may not contain ':' or a newline (it is a part of the image tag)`);
  return {
    url: flags.url,
    arch: oneOf("--arch", flags.arch, ARCHS),
    date: flags.date,
    dateEpoch: parseDate(flags.date),
    file,
    branch,
    flavor: flags.flavor,
    edition: oneOf("--edition", flags.edition, EDITIONS),
    variant: oneOf("--variant", flags.variant, VARIANTS),
    platform: oneOf("--platform", flags.platform, PLATFORMS),
    release: oneOf("--release", flags.release, RELEASES),
    versionMajor,
    versionMinor,
    versionSub,
    imageType,
  };
}

export function imageTag(m: ImageMeta): string {
  return [m.branch, m.edition, m.flavor, m.platform, `${m.release}.${m.versionMajor}.${m.versionMinor}.${m.versionSub}`, m.arch, m.variant, m.imageType].join(":");
}

/** The metadata as the reference's ordered key/value strings (date as `YYYY-MM-DDT00:00:00`). */
export function metaKv(m: ImageMeta): [string, string][] {
  return [
    ["url", m.url],
    ["arch", m.arch],
    ["date", `${m.date}T00:00:00`],
    ["file", m.file],
    ["branch", m.branch],
    ["flavor", m.flavor],
    ["edition", m.edition],
    ["variant", m.variant],
    ["platform", m.platform],
    ["release", m.release],
    ["version_major", String(m.versionMajor)],
    ["version_minor", String(m.versionMinor)],
    ["version_sub", String(m.versionSub)],
    ["image_type", m.imageType],
  ];
}

/** Python's dict.update order: a key keeps its first position and takes the last value. */
export function mergeKv(...lists: [string, string][][]): [string, string][] {
  const m = new Map<string, string>();
  for (const l of lists) for (const [k, v] of l) m.set(k, v);
  return [...m];
}

/** ISO-8601 UTC with an explicit offset, whole seconds: 2022-02-10T10:11:12+00:00. */
export function isoUtc(epochSeconds: number): string {
  return new Date(Math.floor(epochSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}
