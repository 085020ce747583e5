/**
 * dumpPackage decodes string columns (file names, users, digests, dependency names, class
 * dictionary entries) a whole run at a time; the strings must be exactly those of one text()
 * per string: ASCII, Cyrillic UTF-8, 4-byte UTF-8, KOI8-R bytes (shown as \xNN) and empty strings.
 */
import { expect, test } from "bun:test";
import { dumpPackage, packageFromHeader, parseHeader, TAG, text } from "../../src/rpm/index.ts";
import { encodeKoi8r } from "../fixtures/_util.ts";
import { encodeHeaderWithRegion, int32Entry, stringArrayEntry, stringEntry, Tag } from "../fixtures/header-codec.ts";

const u = (s: string) => new TextEncoder().encode(s);
const cat = (a: Uint8Array, b: Uint8Array) => {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
};

function pkg(dirs: Uint8Array[], bases: Uint8Array[], idx: number[], users: Uint8Array[], deps: Uint8Array[], dict: Uint8Array[], cls: number[]) {
  const n = bases.length;
  const blob = encodeHeaderWithRegion(
    [
      stringEntry(Tag.NAME, "cols"),
      stringEntry(Tag.VERSION, "1"),
      stringEntry(Tag.RELEASE, "1"),
      stringEntry(Tag.SOURCERPM, "cols-1-1.src.rpm"),
      stringArrayEntry(Tag.DIRNAMES, dirs),
      stringArrayEntry(Tag.BASENAMES, bases),
      int32Entry(Tag.DIRINDEXES, idx),
      stringArrayEntry(TAG.FILEUSERNAME, users),
      stringArrayEntry(TAG.FILEGROUPNAME, users.map(() => u("root"))),
      stringArrayEntry(TAG.FILELINKTOS, users.map((_, i) => (i % 2 ? u("") : u(`/цель/${i}`)))),
      stringArrayEntry(TAG.CLASSDICT, dict),
      int32Entry(TAG.FILECLASS, cls),
      int32Entry(TAG.FILEMODES, Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0o120777 : 0o100644))),
      stringArrayEntry(Tag.REQUIRENAME, deps),
      stringArrayEntry(Tag.REQUIREVERSION, deps.map((d, i) => (i % 2 ? d : u("")))),
      int32Entry(Tag.REQUIREFLAGS, deps.map(() => 0)),
    ],
    Tag.HEADERIMMUTABLE,
    false,
  );
  return packageFromHeader(parseHeader(blob, 0, { magic: false }));
}

const cases: Record<string, Uint8Array[]> = {
  ascii: [u("a"), u("bin"), u(""), u("long-name.txt")],
  utf8: [u("файл"), u("b"), u("😀.txt"), u("")],
  koi8: [encodeKoi8r("файл"), u("plain"), cat(u("x"), Uint8Array.of(0xff)), u("")],
};

for (const [name, strs] of Object.entries(cases)) {
  test(`string columns: ${name}`, () => {
    const dirs = [u("/usr/"), name === "koi8" ? cat(u("/д"), Uint8Array.of(0xc4, 0x2f)) : u("/опт/")];
    const idx = strs.map((_, i) => i % 2);
    const p = pkg(dirs, strs, idx, strs, strs, [u(""), u("ELF 64-bit"), strs[0]], strs.map((_, i) => i % 3));
    const d = dumpPackage(p);
    expect(d.files.map((f) => f.path)).toEqual(strs.map((b, i) => text(cat(dirs[idx[i]], b))));
    expect(d.files.map((f) => f.user)).toEqual(strs.map(text));
    expect(d.files.map((f) => f.linkto)).toEqual(strs.map((_, i) => (i % 2 ? "" : `/цель/${i}`)));
    // class 0 is the empty dictionary entry: librpm's string from the mode (symlink or nothing)
    const fromMode = (i: number) => (i % 3 === 0 ? `symbolic link to \`${i % 2 ? "" : `/цель/${i}`}'` : "");
    expect(d.files.map((f) => f.classinfo)).toEqual(strs.map((_, i) => [fromMode(i), "ELF 64-bit", text(strs[0]) || fromMode(i)][i % 3]));
    expect(d.requires.map((r) => r.name)).toEqual(strs.map(text));
    expect(d.requires.map((r) => r.version)).toEqual(strs.map((s, i) => (i % 2 ? text(s) : "")));
    if (name === "koi8") expect(d.files[0].user).toContain("\\x");
  });
}
