/**
 * One `[[triggers]]` table of the configuration (valibot). Imports nothing of the project but the
 * event list, so src/config can use it.
 *
 *   [[triggers]]
 *   name = "mirror"                       # unique; named in every log line
 *   on = ["repo.load"]                    # events (src/triggers/events.ts)
 *   run = ["/usr/local/bin/sync", "--quiet"]   # argument array, never a shell
 *   timeout = 60                          # seconds; then SIGTERM, SIGKILL 2 s later (process group)
 *   on_failure = false                    # also after a load that failed (summary with complete = false)
 *   export = { kind = "rpm-md", out = "/srv/export/{branch}", arch = "x86_64" }   # optional
 */
import * as v from "valibot";
import { EVENT_NAMES } from "./events";

/** Seconds a trigger may take: a tenth of a second to a day. */
export const MAX_TIMEOUT = 86400;

export const TriggerExportSchema = v.looseObject({
  /** The exporter by name (src/triggers/exporters.ts), e.g. "rpm-md", "apt-rpm". */
  kind: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]*$/, "an exporter name (rpm-md, apt-rpm, …)")),
});

export const TriggerSchema = v.strictObject({
  name: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.-]+$/, "a name of letters, digits and _ . -")),
  on: v.pipe(v.array(v.picklist(EVENT_NAMES, `an event name (${EVENT_NAMES.join(", ")})`)), v.minLength(1, "at least one event")),
  run: v.optional(v.pipe(v.array(v.pipe(v.string(), v.check((s) => !s.includes("\0"), "no NUL bytes"))), v.minLength(1, "a program and its arguments"))),
  timeout: v.optional(v.pipe(v.number(), v.minValue(0.1, "at least 0.1 s"), v.maxValue(MAX_TIMEOUT, `at most ${MAX_TIMEOUT} s`)), 60),
  on_failure: v.optional(v.boolean(), false),
  export: v.optional(TriggerExportSchema),
});

export const TriggersSchema = v.pipe(
  v.array(TriggerSchema),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Set<string>();
    dataset.value.forEach((t, i) => {
      if (seen.has(t.name)) addIssue({ message: `trigger name ${JSON.stringify(t.name)} is used twice`, path: [{ type: "array", origin: "value", input: dataset.value, key: i, value: t }, { type: "object", origin: "value", input: t, key: "name", value: t.name }] });
      seen.add(t.name);
      if (!t.run && !t.export) addIssue({ message: "needs run = [program, args…] or export = {…}", path: [{ type: "array", origin: "value", input: dataset.value, key: i, value: t }] });
    });
  }),
);

export type TriggerConfig = v.InferOutput<typeof TriggerSchema>;
