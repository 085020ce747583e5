/**
 * Every event a trigger may name in `on = [...]`, with the load that fires it. The one list:
 * a new loader adds its event here and calls fireTriggers once per successful load (CLI and
 * daemon alike). Imports nothing of the project (src/config validates against it).
 */
export const EVENTS = {
  "repo.load": "a repository snapshot was loaded (`repo load`, daemon repo.load)",
  "task.load": "a girar task was loaded completely (`task load`, daemon task.state/task.progress)",
  "task.clean": "tasks gone from disk were marked DELETED (`task clean`)",
  "package.load": "RPM files were loaded (`package load`)",
  "image.load": "a distribution image was loaded (`image load`)",
  "vuln.load": "vulnerability records were loaded (`vuln load`, daemon vuln.load)",
  "vuln.map": "a project→CPE map was loaded (`vuln map load`)",
  "vuln.match": "package sets were matched against CPE ranges (`vuln match`, daemon vuln.match)",
  "errata.build": "errata were built (`errata build`, daemon errata.build)",
  "feed.load": "a feed was loaded or found unchanged (`feed load`, daemon feed services)",
} as const;

export type TriggerEvent = keyof typeof EVENTS;

export const EVENT_NAMES = Object.keys(EVENTS) as TriggerEvent[];

/** Events whose summary names one branch and date: the only ones an `export` trigger can follow. */
export const BRANCH_EVENTS: readonly TriggerEvent[] = ["repo.load"];
