/**
 * Files.file_class for every kind of file, librpm as the oracle: packages built with rpmbuild
 * holding a directory, regular files, symlinks, a hard link, a fifo, a socket, a character and a
 * block device; then the same package with its class dictionary removed (as ALT's rpm 4.0.4 and
 * rpm v6 packages have none) and with empty / out-of-range dictionary entries. librpm's FILECLASS
 * (python3-rpm) mapped by the reference's convert_file_class must equal our fileClasses().
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dumpPackage, fileClasses, readPackage } from "../../src/rpm/index.ts";
import { rewriteRpm } from "../fixtures/rpm-edit.ts";
import { rpmbuild, simpleSpec } from "../fixtures/rpmbuild.ts";
import { int32Entry, stringArrayEntry, Tag, type HeaderEntry } from "../fixtures/header-codec.ts";
import { scratchDir } from "./_corpus.ts";
import { diffPackage, expectedFileClass, oracleAvailable, runOracle } from "./compare.ts";

const CLASSDICT = 1142;
const FILECLASS = 1141;
const dir = scratchDir("fileclass");
const variants: Record<string, string> = {};

const withoutDict = (e: HeaderEntry[]) => e.filter((x) => x.tag !== CLASSDICT && x.tag !== FILECLASS);
/** Every file points at an empty dictionary entry, except one index past the end. */
const emptyDict = (e: HeaderEntry[]) => {
  const n = (e.find((x) => x.tag === FILECLASS)?.count ?? 0) as number;
  const idx = Array.from({ length: n }, (_, i) => (i === 1 ? 7 : 0));
  return [...withoutDict(e), stringArrayEntry(CLASSDICT, [""]), int32Entry(FILECLASS, idx)];
};

beforeAll(async () => {
  mkdirSync(dir, { recursive: true });
  const s = simpleSpec({
    name: "fileclass",
    install: [
      "mkdir -p %buildroot/srv/fc/sub",
      "printf 'text\\n' > %buildroot/srv/fc/text.txt",
      "ln %buildroot/srv/fc/text.txt %buildroot/srv/fc/hard.txt",
      ": > %buildroot/srv/fc/empty",
      "ln -s text.txt %buildroot/srv/fc/rel-link",
      "ln -s /srv/fc/sub %buildroot/srv/fc/abs-link",
      "mkfifo %buildroot/srv/fc/fifo",
      "/usr/bin/python3 -c \"import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])\" %buildroot/srv/fc/socket",
    ].join("\n"),
    files: ["/srv/fc", "%dev(c,1,3) %attr(0666,root,root) /dev/fc-null", "%dev(b,7,0) %attr(0660,root,root) /dev/fc-loop"].join("\n"),
  });
  const built = await rpmbuild({ spec: s.spec, sources: s.sources, specName: "fileclass.spec", mode: "-bb" }, dir);
  const bin = built.find((b) => !b.isSource)!.file;
  const bytes = new Uint8Array(readFileSync(bin));
  variants["class dictionary from rpmbuild"] = bin;
  for (const [name, edit] of [["no class dictionary", withoutDict], ["empty and out-of-range entries", emptyDict]] as const) {
    const f = join(dir, `${name.replaceAll(" ", "-")}.rpm`);
    writeFileSync(f, rewriteRpm(bytes, edit));
    variants[name] = f;
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!oracleAvailable())("file_class of every file kind, librpm FILECLASS as the oracle", () => {
  test("the package has every kind of file", () => {
    const kinds = new Set(Array.from(readPackage(variants["class dictionary from rpmbuild"]).files.modes, (m) => m & 0o170000));
    expect([...kinds].sort()).toEqual([0o010000, 0o020000, 0o040000, 0o060000, 0o100000, 0o120000, 0o140000].sort());
  });
  for (const name of ["class dictionary from rpmbuild", "no class dictionary", "empty and out-of-range entries"]) {
    test(name, () => {
      const file = variants[name];
      const lib = runOracle([file]).get(file)!;
      expect(lib.ok).toBe(true);
      const files = lib.files as { classes: string[]; modes: number[]; names: string[] };
      const pkg = readPackage(file);
      const want = files.classes.map((c, i) => `${files.names[i]}: ${expectedFileClass(c, files.modes[i])}`);
      const ours = fileClasses(pkg).map((c, i) => `${files.names[i]}: ${c}`);
      expect(ours).toEqual(want);
      expect(new Set(fileClasses(pkg))).toEqual(new Set(["file", "directory", "symlink", "fifo", "socket", "char", "block"]));
      expect(diffPackage(dumpPackage(pkg), lib)).toEqual([]);
    });
  }
});
