/** logs/events.<try>.<iter>.log (reference _parse_event_logs) and arepo packages (_parse_arepo_packages). */
import { mmhash } from "../../../hash";
import type { TaskFs } from "../fs";
import type { TaskLog } from "../model";

/** Event logs ordered by (try, iter) numerically; hash = mmhash("events<id><try><iter>"). */
export function parseEventLogs(fs: TaskFs, taskId: number): TaskLog[] {
  const logs: { log: TaskLog; key: number[] }[] = [];
  for (const name of fs.list("logs")) {
    if (!name.startsWith("events.") || !name.endsWith(".log") || !fs.isFile(`logs/${name}`)) continue;
    const parts = name.split(".");
    if (parts.length < 4) continue; // "events.log" does not match the reference's events.*.log
    logs.push({
      log: { type: "events", path: `logs/${name}`, hash: mmhash(Buffer.from(`events${taskId}${parts[1]}${parts[2]}`, "utf8")) },
      key: [Number(parts[1]) || 0, Number(parts[2]) || 0],
    });
  }
  logs.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || (a.log.path < b.log.path ? -1 : 1));
  return logs.map((l) => l.log);
}

export function parseArepo(fs: TaskFs): string[] {
  return fs
    .list("arepo/x86_64-i586/rpms")
    .filter((n) => n.endsWith(".rpm"))
    .map((n) => `arepo/x86_64-i586/rpms/${n}`);
}
