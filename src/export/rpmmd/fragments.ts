/**
 * One package's entries of primary.xml, filelists.xml and other.xml, byte for byte as
 * createrepo_c 0.17 writes them (2-space indentation, libxml2 escaping). Pure functions.
 */
import { depsOf, isPrimaryPath, type OutDep } from "./deps";
import type { DepKind, RpmmdChangelog, RpmmdFile, RpmmdPackage } from "./types";
import { el, escAttr, escText } from "./xml";

/** createrepo_c's default --changelog-limit. */
export const CHANGELOG_LIMIT = 10;

/** Order of the dependency blocks in primary.xml. */
const BLOCKS: readonly [DepKind, string][] = [
  ["provide", "provides"],
  ["require", "requires"],
  ["conflict", "conflicts"],
  ["obsolete", "obsoletes"],
  ["suggest", "suggests"],
  ["enhance", "enhances"],
  ["recommend", "recommends"],
  ["supplement", "supplements"],
];

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const RPMFILE_GHOST = 1 << 6;

function fileType(f: RpmmdFile): string {
  if ((f.mode & S_IFMT) === S_IFDIR) return ' type="dir"';
  if (f.flags & RPMFILE_GHOST) return ' type="ghost"';
  return "";
}

function fileLine(indent: string, f: RpmmdFile): string {
  return `${indent}<file${fileType(f)}>${escText(f.name)}</file>\n`;
}

function versionEl(p: RpmmdPackage): string {
  return `<version epoch="${p.epoch}" ver="${escAttr(p.version)}" rel="${escAttr(p.release)}"/>`;
}

function entry(d: OutDep): string {
  let s = `      <rpm:entry name="${escAttr(d.name)}"`;
  if (d.flags) {
    s += ` flags="${d.flags}"`;
    if (d.evr) {
      s += ` epoch="${escAttr(d.evr.epoch)}" ver="${escAttr(d.evr.ver)}"`;
      if (d.evr.rel !== null) s += ` rel="${escAttr(d.evr.rel)}"`;
    }
  }
  if (d.pre) s += ` pre="1"`;
  return `${s}/>\n`;
}

export function primaryFragment(p: RpmmdPackage): string {
  const files = new Set(p.files.map((f) => f.name));
  let s =
    `<package type="rpm">\n` +
    `  ${el("name", p.name)}\n` +
    `  ${el("arch", p.arch)}\n` +
    `  ${versionEl(p)}\n` +
    `  <checksum type="sha256" pkgid="YES">${p.pkgid}</checksum>\n` +
    `  ${el("summary", p.summary)}\n` +
    `  ${el("description", p.description)}\n` +
    `  ${el("packager", p.packager)}\n` +
    `  ${el("url", p.url)}\n` +
    `  <time file="${p.timeFile}" build="${p.timeBuild}"/>\n` +
    `  <size package="${p.sizePackage}" installed="${p.sizeInstalled}" archive="${p.sizeArchive}"/>\n` +
    `  <location href="${escAttr(p.href)}"/>\n` +
    `  <format>\n` +
    `    ${el("rpm:license", p.license)}\n` +
    `    ${el("rpm:vendor", p.vendor)}\n` +
    `    ${el("rpm:group", p.group)}\n` +
    `    ${el("rpm:buildhost", p.buildhost)}\n` +
    `    ${el("rpm:sourcerpm", p.sourcerpm)}\n` +
    `    <rpm:header-range start="${p.headerStart}" end="${p.headerEnd}"/>\n`;
  for (const [kind, tag] of BLOCKS) {
    const deps = depsOf(p.deps, kind, files);
    if (deps.length === 0) continue;
    s += `    <rpm:${tag}>\n`;
    for (const d of deps) s += entry(d);
    s += `    </rpm:${tag}>\n`;
  }
  for (const f of p.files) if (isPrimaryPath(f.name)) s += fileLine("    ", f);
  return `${s}  </format>\n</package>\n`;
}

function head(p: RpmmdPackage): string {
  return `<package pkgid="${p.pkgid}" name="${escAttr(p.name)}" arch="${escAttr(p.arch)}">\n  ${versionEl(p)}\n`;
}

export function filelistsFragment(p: RpmmdPackage): string {
  let s = head(p);
  for (const f of p.files) s += fileLine("  ", f);
  return `${s}</package>\n`;
}

/**
 * The newest `limit` entries, oldest first; entries with equal times are moved apart by one
 * second each, the newer one later (createrepo_c's rule, so that they keep their order).
 */
export function newestChangelog(all: readonly RpmmdChangelog[], limit = CHANGELOG_LIMIT): RpmmdChangelog[] {
  const list: RpmmdChangelog[] = [];
  let last: number | null = null;
  for (let i = 0; i < all.length && i < limit; i++) {
    const t = all[i].date;
    list.unshift({ ...all[i] });
    if (last === t) {
      let tmp = t;
      for (let j = 1; j < list.length && list[j].date === tmp; j++, tmp++) list[j].date++;
    } else last = t;
  }
  return list;
}

export function otherFragment(p: RpmmdPackage): string {
  let s = head(p);
  for (const c of newestChangelog(p.changelog)) s += `  <changelog author="${escAttr(c.author)}" date="${c.date}">${escText(c.text)}</changelog>\n`;
  return `${s}</package>\n`;
}

export const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

export function primaryHead(n: number): string {
  return `${XML_DECL}<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${n}">\n`;
}
export function filelistsHead(n: number): string {
  return `${XML_DECL}<filelists xmlns="http://linux.duke.edu/metadata/filelists" packages="${n}">\n`;
}
export function otherHead(n: number): string {
  return `${XML_DECL}<otherdata xmlns="http://linux.duke.edu/metadata/other" packages="${n}">\n`;
}
export const PRIMARY_TAIL = "</metadata>";
export const FILELISTS_TAIL = "</filelists>";
export const OTHER_TAIL = "</otherdata>";
