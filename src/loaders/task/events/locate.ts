/** Where a task's directory is: <tasks>/<id>, else the archive <archive>/_<id/1024>/<id>. */
import { statSync } from "node:fs";
import { join } from "node:path";

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

export function taskDirCandidates(dirs: { tasks: string; archive: string }, taskId: number): string[] {
  return [join(dirs.tasks, String(taskId)), join(dirs.archive, `_${Math.floor(taskId / 1024)}`, String(taskId))];
}

export function findTaskDir(dirs: { tasks: string; archive: string }, taskId: number): string | undefined {
  return taskDirCandidates(dirs, taskId).find(isDir);
}
