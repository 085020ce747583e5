/**
 * build/<sub>/<arch>/ → iterations and their build/srpm logs (reference _parse_iterations,
 * §3.3.5). plan/add-src and plan/add-bin are read here without the freshness gate, as the
 * reference does. Directory entries are taken in name order (the reference used directory order).
 */
import { mmhash } from "../../../hash";
import { isSubtaskName, type TaskFs } from "../fs";
import type { TaskIteration, TaskLog, TaskState, TaskSubtask } from "../model";
import { nonEmptyLines, parseIntStrict, printable, strip } from "../text";
import { fromHexStrict } from "./hex";

/** mmhash of each SHA1HEADER (last tab field) of a chroot list, in file order. */
export function parseChroot(fs: TaskFs, rel: string): bigint[] {
  const out: bigint[] = [];
  for (const line of nonEmptyLines(fs.raw(rel))) {
    const fields = line.split("\t");
    const hex = strip(fields[fields.length - 1]);
    const bytes = fromHexStrict(hex);
    if (!bytes) {
      fs.problem(rel, `ignored line without a hex SHA1HEADER: ${JSON.stringify(printable(line).slice(0, 120))}`);
      continue;
    }
    out.push(mmhash(bytes));
  }
  return out;
}

/**
 * Package files of srpm/ or rpms/. The reference took every entry and crashed on anything that
 * was not an RPM; entries not named *.rpm are left out here, with a note.
 */
function rpmEntries(fs: TaskFs, rel: string): string[] {
  const all = fs.list(rel);
  for (const n of all) if (!n.endsWith(".rpm")) fs.warn(`${rel}/${n}`, "not an .rpm file; ignored");
  return all.filter((n) => n.endsWith(".rpm"));
}

export function logHash(kind: string, taskId: number, subtaskId: number, taskTry: number, taskIter: number, arch: string): bigint {
  return mmhash(Buffer.from(`${kind}${taskId}${subtaskId}${taskTry}${taskIter}${arch}`, "utf8"));
}

export function parseIterations(fs: TaskFs, state: TaskState, subtasks: TaskSubtask[]): { iterations: TaskIteration[]; logs: TaskLog[] } {
  const srcPkgs = new Map<number, string>();
  const binPkgs = new Map<number, Map<string, string[]>>();
  const addSrc = fs.text("plan/add-src");
  if (addSrc)
    for (const line of nonEmptyLines(addSrc)) {
      const s = line.split("\t");
      const n = s.length >= 2 ? parseIntStrict(s[s.length - 1]) : undefined;
      if (n === undefined) continue; // reported by the plan parser when the plan is loaded
      srcPkgs.set(n, s[s.length - 2]);
    }
  const addBin = fs.text("plan/add-bin");
  if (addBin)
    for (const line of nonEmptyLines(addBin)) {
      const s = line.split("\t");
      const n = s.length >= 6 ? parseIntStrict(s[5]) : undefined;
      if (n === undefined) continue;
      let byArch = binPkgs.get(n);
      if (!byArch) binPkgs.set(n, (byArch = new Map()));
      const list = byArch.get(s[2]) ?? [];
      list.push(s[4]);
      byArch.set(s[2], list);
    }

  const iterations: TaskIteration[] = [];
  const logs: TaskLog[] = [];
  for (const sub of fs.listDirs("build").filter(isSubtaskName)) {
    const subtaskId = parseIntStrict(sub);
    if (subtaskId === undefined) {
      fs.problem(`build/${sub}`, "build directory name is not a number; ignored");
      continue;
    }
    const present = fs.listDirs(`build/${sub}`);
    // x86_64 first, then i586: their srpm is preferred when there is no plan
    const archs = ["x86_64", "i586"].filter((a) => present.includes(a)).concat(present.filter((a) => a !== "x86_64" && a !== "i586"));
    for (const arch of archs) {
      const d = `build/${sub}/${arch}`;
      let status: string;
      let ts: number;
      if (fs.exists(`${d}/status`)) {
        ts = fs.mtime(`${d}/status`) ?? 0;
        status = fs.text(`${d}/status`) || "failed";
      } else {
        ts = fs.mtime(d) ?? 0;
        status = "failed";
      }
      const it: TaskIteration = {
        subtaskId,
        arch,
        ts,
        status,
        chrootBase: parseChroot(fs, `${d}/chroot_base`),
        chrootBr: parseChroot(fs, `${d}/chroot_BR`),
        srpm: "",
        rpms: [],
      };
      const srpms = rpmEntries(fs, `${d}/srpm`);
      if (srpms.length > 0) {
        it.status = "built";
        if (!srcPkgs.has(subtaskId)) srcPkgs.set(subtaskId, `${d}/srpm/${srpms[0]}`);
      }
      it.srpm = srcPkgs.get(subtaskId) ?? "";
      const rpms = rpmEntries(fs, `${d}/rpms`);
      if (rpms.length > 0) {
        it.status = "built";
        let byArch = binPkgs.get(subtaskId);
        if (!byArch) binPkgs.set(subtaskId, (byArch = new Map()));
        byArch.set(
          arch,
          rpms.map((r) => `${d}/rpms/${r}`),
        );
      }
      it.rpms = [...(binPkgs.get(subtaskId)?.get(arch) ?? [])];
      iterations.push(it);
      if (fs.nonEmptyFile(`${d}/log`))
        logs.push({ type: "build", path: `${d}/log`, hash: logHash("build", state.taskId, subtaskId, state.try, state.iter, arch), subtaskId, arch });
      if (fs.nonEmptyFile(`${d}/srpm.log`))
        logs.push({ type: "srpm", path: `${d}/srpm.log`, hash: logHash("srpm", state.taskId, subtaskId, state.try, state.iter, arch), subtaskId, arch });
    }
  }
  // delete subtasks get a synthetic iteration
  const built = new Set(iterations.map((i) => i.subtaskId));
  for (const sub of subtasks) {
    if (sub.deleted === 0 && sub.type === "delete" && !built.has(sub.subtaskId)) {
      iterations.push({
        subtaskId: sub.subtaskId,
        arch: "x86_64",
        ts: fs.mtime("build") ?? 0,
        status: "deleted",
        chrootBase: [],
        chrootBr: [],
        srpm: "",
        rpms: [],
      });
    }
  }
  return { iterations, logs };
}
