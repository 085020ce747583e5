/** The configuration file's shape. Every key is optional; defaults live here. */
import * as v from "valibot";

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));

export const DatabaseSchema = v.strictObject({
  /** "embedded" runs ClickHouse in-process (libchdb); "http" talks to a ClickHouse server. */
  driver: v.optional(v.picklist(["embedded", "http"])),
  /** ClickHouse database holding every table. */
  name: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "a plain identifier")), "default"),
  embedded: v.optional(
    v.strictObject({
      path: v.optional(v.string()),
      libchdb: v.optional(v.string()),
    }),
    {},
  ),
  http: v.optional(
    v.strictObject({
      url: v.optional(v.pipe(v.string(), v.url()), "http://127.0.0.1:8123"),
      user: v.optional(v.string(), "default"),
      password: v.optional(v.string()),
      password_file: v.optional(v.string()),
      ca: v.optional(v.string()),
      compression: v.optional(v.boolean(), true),
      request_timeout: v.optional(positiveInt, 300),
      max_retries: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 3),
    }),
    {},
  ),
});

export const LogSchema = v.strictObject({
  level: v.optional(v.picklist(["error", "warn", "info", "debug", "trace"]), "info"),
  format: v.optional(v.picklist(["text", "json"]), "text"),
  file: v.optional(v.string()),
});

export const LoadSchema = v.strictObject({
  /** Parser threads; default: the number of CPUs. */
  workers: v.optional(positiveInt),
});

export const TaskDirsSchema = v.strictObject({
  /** Live girar tasks: <tasks>/<id>. */
  tasks: v.optional(v.string(), "/tasks"),
  /** Archived done tasks: <archive>/_<id/1024>/<id>. */
  archive: v.optional(v.string(), "/archive/tasks/done"),
});

export const FileSchema = v.strictObject({
  database: v.optional(DatabaseSchema, {}),
  log: v.optional(LogSchema, {}),
  load: v.optional(LoadSchema, {}),
  /** Branch name → snapshot directory (the repo.load message names a branch). */
  repo_dirs: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z0-9_.+-]+$/i)), v.string()), {}),
  task_dirs: v.optional(TaskDirsSchema, {}),
});

export type FileConfig = v.InferOutput<typeof FileSchema>;
