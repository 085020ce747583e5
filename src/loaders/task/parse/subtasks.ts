/**
 * gears/<sub>/ → one Tasks row each (reference _parse_subtasks, §3.3.4).
 * Fixes: a subtask without `userid` takes the directory mtime (the reference compared a naive
 * and an aware datetime and crashed); a `sid` without ":" or with an unknown type prefix, and a
 * `nevr` without a tab, no longer abort the load.
 */
import { isSubtaskName, type TaskFs } from "../fs";
import type { SubtaskType, TaskSubtask } from "../model";
import { parseIntStrict, printable, strip } from "../text";

const TYPES: readonly SubtaskType[] = ["unknown", "srpm", "gear", "copy", "delete", "rebuild"];

export function parseSubtasks(fs: TaskFs): TaskSubtask[] {
  const out: TaskSubtask[] = [];
  for (const name of fs.listDirs("gears").filter(isSubtaskName)) {
    const subtaskId = parseIntStrict(name);
    if (subtaskId === undefined) {
      fs.problem(`gears/${name}`, "subtask directory name is not a number; ignored");
      continue;
    }
    const dir = `gears/${name}`;
    const f = (file: string) => `${dir}/${file}`;
    const files = new Set(fs.list(dir));
    const sidRaw = fs.raw(f("sid"));
    let type = "";
    let sid = "";
    if (sidRaw) {
      const colon = sidRaw.indexOf(":");
      if (colon < 0) {
        fs.warn(f("sid"), `no "<type>:" prefix: ${JSON.stringify(printable(sidRaw).slice(0, 80))}`);
        sid = strip(sidRaw);
      } else {
        type = sidRaw.slice(0, colon);
        // reference: sid.split(":")[1] — the text up to a second ":", if any
        sid = strip(sidRaw.slice(colon + 1).split(":")[0]);
      }
    }
    const dirTime = fs.mtime(dir) ?? 0;
    const useridTime = fs.mtime(f("userid"));
    const sub: TaskSubtask = {
      subtaskId,
      changed: useridTime !== undefined ? Math.max(useridTime, dirTime) : dirTime,
      deleted: 0,
      userid: fs.text(f("userid")),
      dir: "",
      package: "",
      type: "unknown",
      pkgFrom: "",
      sid,
      tagAuthor: "",
      tagId: "",
      tagName: "",
      srpm: "",
      srpmName: "",
      srpmEvr: "",
    };
    if (!files.has("dir") && !files.has("srpm") && !files.has("package")) {
      sub.deleted = 1;
      out.push(sub);
      continue;
    }
    // girar-task-run check_copy_del()
    if (fs.nonEmptyFile(f("package")) && !fs.nonEmptyFile(f("dir"))) {
      if (fs.nonEmptyFile(f("copy_repo"))) {
        type = "copy";
        sub.pkgFrom = fs.text(f("copy_repo"));
      } else type = "delete";
    }
    if (fs.exists(f("rebuild"))) {
      type = "rebuild";
      sub.pkgFrom = fs.text(f("rebuild"));
    }
    if (fs.exists(f("rebuild_from"))) {
      type = "rebuild";
      sub.pkgFrom = fs.text(f("rebuild_from"));
    }
    if (type === "") type = "unknown";
    if (!(TYPES as readonly string[]).includes(type)) {
      fs.warn(f("sid"), `unknown subtask type ${JSON.stringify(printable(type))}; stored as "unknown"`);
      type = "unknown";
    }
    sub.type = type as SubtaskType;
    sub.dir = fs.text(f("dir"));
    sub.package = fs.text(f("package"));
    sub.tagId = fs.text(f("tag_id"));
    sub.tagName = fs.text(f("tag_name"));
    sub.tagAuthor = fs.text(f("tag_author"));
    sub.srpm = fs.text(f("srpm"));
    const nevr = fs.raw(f("nevr"));
    if (nevr) {
      const parts = nevr.split("\t");
      if (parts.length < 2) fs.warn(f("nevr"), "no tab between name and EVR; subtask_srpm_evr left empty");
      sub.srpmName = strip(parts[0]);
      sub.srpmEvr = parts.length >= 2 ? strip(parts[1]) : "";
    }
    out.push(sub);
  }
  return out;
}
