/** Reads a whole task directory into the Task model (reference TaskParser.read_task_structure). */
import type { Logger } from "../../../log";
import { TaskFs } from "../fs";
import type { Task } from "../model";
import { parseApprovals } from "./approvals";
import { parseDigests } from "./digests";
import { parseArepo, parseEventLogs } from "./events";
import { parseIterations } from "./iterations";
import { parsePlan } from "./plan";
import { parseState } from "./state";
import { parseSubtasks } from "./subtasks";

export async function parseTask(fs: TaskFs, log?: Logger): Promise<Task> {
  const state = parseState(fs);
  const plan = parsePlan(fs, state, log);
  const digests = await parseDigests(fs, plan);
  const approvals = parseApprovals(fs);
  const subtasks = parseSubtasks(fs);
  const { iterations, logs } = parseIterations(fs, state, subtasks);
  const events = parseEventLogs(fs, state.taskId);
  return { path: fs.root, state, plan, digests, approvals, subtasks, iterations, logs: [...logs, ...events], arepo: parseArepo(fs) };
}
