/**
 * GlobalSearch row of a task (schema-newer-tables.md §2.3): lead = task id, type 'task',
 * search_string = '<repo>|<owner>|<?>|<STATE>|<components>', one new row per state change (the
 * API reads the latest row per lead). The same format as the daemon's rows from task.state
 * events (../events/rows.ts searchRow): field 3 is left empty, components are the subtasks'
 * package names (else the gear directory's or the source package's name), '|' and ',' dropped.
 */
import type { SearchRow } from "../events/rows";
import type { Task } from "../model";
import { printable } from "../text";

const clean = (s: string) => s.replace(/[|,]/g, "");

function component(s: Task["subtasks"][number]): string {
  const fromDir = printable(s.dir).split("/").pop()?.replace(/\.git$/, "") ?? "";
  const fromSrpm = printable(s.srpmName) || printable(s.srpm).split("/").pop()?.replace(/-[^-]+-[^-]+\.src\.rpm$/, "") || "";
  return printable(s.package) || fromDir || fromSrpm;
}

export function taskSearchRow(task: Task): SearchRow {
  const s = task.state;
  const comps = [...new Set(task.subtasks.filter((t) => !t.deleted).map(component).filter(Boolean).map(clean))];
  return { lead: String(s.taskId), type: "task", search_string: [clean(printable(s.repo)), clean(printable(s.owner)), "", clean(printable(s.state)).toUpperCase(), comps.join(",")].join("|") };
}
