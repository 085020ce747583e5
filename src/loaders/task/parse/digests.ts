/**
 * Digests of the task's packages by file name (reference task.pkg_hashes, §3.5): sha256 from
 * the plan's `+` hash lines, md5 and blake2b from build/repo/<arch>/base/pkglist.task.xz. When
 * two pkglists disagree on a file's MD5 (noarch packages built on several archs), the MD5 is
 * recomputed from the first build/repo/<arch>/RPMS.task/<name> that exists.
 * Keys are file names as the file system gives them (see fsName).
 */
import { digestFile } from "../../../hash";
import { readHeaderList } from "../../../rpm/pkglist";
import type { TaskFs } from "../fs";
import type { KnownDigests, TaskPlan } from "../model";
import { byteString, fsName, type ByteString } from "../text";

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export async function parseDigests(fs: TaskFs, plan: TaskPlan): Promise<Map<ByteString, KnownDigests>> {
  const digests = new Map<ByteString, KnownDigests>();
  for (const add of plan.hashAdd.values()) for (const [name, sha256] of add) digests.set(fsName(name), { sha256 });

  const repoArchs = fs.listDirs("build/repo");
  for (const arch of repoArchs) {
    const rel = `build/repo/${arch}/base/pkglist.task.xz`;
    if (!fs.isFile(rel)) continue;
    try {
      for await (const entry of readHeaderList(fs.abs(rel))) {
        const name = fsName(byteString(entry.apt.filename));
        let d = digests.get(name);
        if (!d) digests.set(name, (d = {}));
        if (entry.apt.blake2b.length === 64) d.blake2b = entry.apt.blake2b;
        const md5 = entry.apt.md5;
        if (md5.length !== 16) continue;
        if (!d.md5) d.md5 = md5;
        else if (!equal(d.md5, md5)) {
          const file = repoArchs.map((a) => `build/repo/${a}/RPMS.task/${name}`).find((p) => fs.isFile(p));
          if (file) d.md5 = (await digestFile(fs.abs(file), ["md5"])).md5;
          else {
            // the reference kept the first MD5; we let the package path compute it from the file
            fs.warn(rel, `MD5 of ${name} differs between pkglists and no RPMS.task copy exists; computed from the build result`);
            d.md5 = undefined;
          }
        }
      }
    } catch (e) {
      fs.problem(rel, `cannot read the header list: ${(e as Error).message}`);
    }
  }
  return digests;
}
