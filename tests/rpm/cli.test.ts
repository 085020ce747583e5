/** `altrepodb rpm dump` (src/cli/rpm.ts) run as a process. */
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { corpusFile, hasCorpus, P10_PKGLIST, REPO_ROOT } from "./_corpus.ts";

const BUN = process.execPath;
const CLI = join(REPO_ROOT, "src", "cli", "rpm.ts");

function run(...args: string[]) {
  const r = spawnSync(BUN, [CLI, "dump", ...args], { encoding: "utf8", cwd: REPO_ROOT, maxBuffer: 1 << 28 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function jsonLines(s: string): Record<string, unknown>[] {
  return s.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe.skipIf(!hasCorpus)("altrepodb rpm dump", () => {
  test("--json: one object per package with the documented fields", () => {
    const file = corpusFile("alt-squidfw/squid-helpers-6.10-alt1.x86_64.rpm");
    const r = run("--json", file);
    expect(r.code).toBe(0);
    const [d] = jsonLines(r.out);
    for (const k of [
      "name", "epoch", "version", "release", "arch", "sourcerpm", "buildtime", "buildhost", "packager", "vendor", "license",
      "group", "url", "summary", "description", "disttag", "sha1header", "sigmd5", "payloadcompressor", "size", "archivesize",
      "filesize", "pkg_hash", "files", "requires", "provides", "conflicts", "obsoletes", "changelog",
    ]) {
      expect(d).toHaveProperty(k);
    }
    expect(d.name).toBe("squid-helpers");
    expect(d.epoch).toBeNull();
    expect(d.payloadcompressor).toBe("lzma");
    expect(d.sha1header).toMatch(/^[0-9a-f]{40}$/);
    expect(d.sigmd5).toMatch(/^[0-9a-f]{32}$/);
    expect(typeof d.pkg_hash).toBe("string");
    expect(BigInt(d.pkg_hash as string) >> 32n).toBe(BigInt((d.buildtime as number) - 1e9));
    expect(d.filesize).toBe(377229);
    const f = (d.files as Record<string, unknown>[])[0];
    for (const k of ["path", "size", "mode", "mtime", "digest", "linkto", "flags", "user", "group", "verifyflags", "device", "rdev", "lang", "class"]) {
      expect(f).toHaveProperty(k);
    }
    const req = (d.requires as Record<string, unknown>[])[0];
    expect(Object.keys(req).sort()).toEqual(["flags", "name", "version"]);
    const c = (d.changelog as Record<string, unknown>[])[0];
    expect(c).toHaveProperty("time");
    expect(c).toHaveProperty("text");
  });

  test("a pkglist prints every header with its apt tags", () => {
    const r = run("--json", P10_PKGLIST);
    expect(r.code).toBe(0);
    const lines = jsonLines(r.out);
    expect(lines.length).toBe(14);
    expect((lines[0].apt as Record<string, unknown>).filename).toBe("control++-checkinstall-0.21.0-alt1.x86_64.rpm");
    expect((lines[0].apt as Record<string, unknown>).md5).toBe("5178f9c4636ac15a5bdf64403ef3676e");
  });

  test("an unreadable file prints {path, error}, the others are still dumped, exit status 1", () => {
    const good = corpusFile("rpm-org/SRPMS/foo-1.0-1.src.rpm");
    const r = run("--json", "/nonexistent/x.rpm", good);
    expect(r.code).toBe(1);
    const [bad, ok] = jsonLines(r.out);
    expect(bad.path).toBe("/nonexistent/x.rpm");
    expect(typeof bad.error).toBe("string");
    expect(bad.code).toBe("io");
    expect(ok.name).toBe("foo");
    expect(r.err).toContain("1 of 2 files");
  });

  test("readable form", () => {
    const r = run(corpusFile("rpm-org/RPMS/hello-2.0-1.x86_64.rpm"));
    expect(r.code).toBe(0);
    expect(r.out).toContain("== ");
    expect(r.out).toMatch(/^name:\s+hello$/m);
    expect(r.out).toMatch(/^files \(\d+\):$/m);
    expect(r.out).toMatch(/^changelog \(\d+\):$/m);
  });
});
