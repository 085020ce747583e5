/**
 * acl/approved/<sub>/<user> and acl/disapproved/<sub>/<user> → approvals (reference
 * _parse_task_approvals, §3.3.3). File format: "<YYYY-Mon-DD HH:MM:SS> :: approved by <user>",
 * then message lines.
 * Fix of the reference bug P-approvals-bug: approvals are enumerated from acl/approved (the
 * reference listed the subtasks of acl/disapproved and missed approvals of subtasks without a
 * disapproved directory).
 */
import { isSubtaskName, type TaskFs } from "../fs";
import type { TaskApproval } from "../model";
import { nonEmptyLines, parseIntStrict, printable, strip } from "../text";
import { parseGirarDate } from "./dates";

/** The approval in a file; null for an empty file (ignored, as the reference does); a string says what is wrong. */
export function parseApprovalText(content: string): { name: string; date: number; message: string } | string | null {
  const lines = nonEmptyLines(content);
  if (lines.length === 0) return null;
  const parts = lines[0]
    .split("::")
    .filter((x) => x.length > 0)
    .map(strip);
  if (parts.length !== 2) return `first line is not "<date> :: <verb> by <user>": ${JSON.stringify(printable(lines[0]).slice(0, 120))}`;
  const date = parseGirarDate(parts[0]);
  if (date === undefined) return `bad date ${JSON.stringify(printable(parts[0]))}`;
  const words = parts[1].split(" ");
  return { name: words[words.length - 1], date, message: lines.slice(1).join("\n") };
}

export function parseApprovals(fs: TaskFs): TaskApproval[] {
  const out: TaskApproval[] = [];
  for (const [dir, type] of [
    ["acl/approved", "approve"],
    ["acl/disapproved", "disapprove"],
  ] as const) {
    for (const sub of fs.listDirs(dir).filter(isSubtaskName)) {
      const subtaskId = parseIntStrict(sub);
      if (subtaskId === undefined) {
        fs.problem(`${dir}/${sub}`, "subtask directory name is not a number; ignored");
        continue;
      }
      for (const user of fs.list(`${dir}/${sub}`)) {
        const rel = `${dir}/${sub}/${user}`;
        if (!fs.isFile(rel)) continue;
        const parsed = parseApprovalText(fs.raw(rel));
        if (parsed === null) continue;
        if (typeof parsed === "string") {
          fs.problem(rel, `approval file ignored: ${parsed}`);
          continue;
        }
        out.push({ subtaskId, type, ...parsed });
      }
    }
  }
  return out;
}
