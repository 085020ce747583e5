/** The configuration file's shape. Every key is optional; defaults live here. */
import * as v from "valibot";
import { BotSchema } from "../bot/schema";
import { TriggersSchema } from "../triggers/schema";

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
  /** Parser threads; default: half the number of CPUs. */
  workers: v.optional(positiveInt),
});

export const TaskDirsSchema = v.strictObject({
  /** Live girar tasks: <tasks>/<id>. */
  tasks: v.optional(v.string(), "/tasks"),
  /** Archived done tasks: <archive>/_<id/1024>/<id>. */
  archive: v.optional(v.string(), "/archive/tasks/done"),
});

const seconds = v.pipe(v.number(), v.minValue(0));
const positiveSeconds = v.pipe(v.number(), v.minValue(0.001));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const amqpName = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_.:@-]*$/, "letters, digits and _ . : @ -"));

/** The broker every daemon service, the notifier and amqpfire connect to. */
export const AmqpSchema = v.strictObject({
  host: v.optional(v.string(), "localhost"),
  /** 5672, or 5671 for TLS. */
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)), 5672),
  vhost: v.optional(v.string(), "/"),
  username: v.optional(v.string(), "guest"),
  /** Never logged; better: $ALTREPODB_AMQP_PASSWORD or password_file. */
  password: v.optional(v.string()),
  password_file: v.optional(v.string()),
  /** amqps:// (TLS); on when cacert, cert or key is set. */
  tls: v.optional(v.boolean(), false),
  cacert: v.optional(v.string(), ""),
  cert: v.optional(v.string(), ""),
  key: v.optional(v.string(), ""),
  /** Seconds; 0 is refused (heartbeats stay on). */
  heartbeat: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 60),
  connect_timeout: v.optional(positiveSeconds, 15),
  reconnect_delay: v.optional(positiveSeconds, 1),
  reconnect_delay_max: v.optional(positiveSeconds, 60),
  /** Dead letters of every service go here (direct exchange), routed to "<queue>.dead". */
  dead_letter_exchange: v.optional(v.pipe(amqpName, v.minLength(1)), "altrepodb.dlx"),
});

/** Failure (and optionally success) notifications published by the daemon. */
export const NotifierSchema = v.strictObject({
  enabled: v.optional(v.boolean(), true),
  exchange: v.optional(v.pipe(amqpName, v.minLength(1)), "altrepodb.notify"),
  on_done: v.optional(v.boolean(), false),
  on_retry: v.optional(v.boolean(), false),
  /** Notifications wait here while the broker is down (default: <state_dir>/notifier). */
  spool_dir: v.optional(v.string(), ""),
  spool_max_files: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10000),
  spool_max_bytes: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1024)), 64 * 1024 * 1024),
});

/** The daemon process itself. */
export const DaemonSchema = v.strictObject({
  /** Default: $STATE_DIRECTORY, else ~/.local/state/altrepodb. */
  state_dir: v.optional(v.string(), ""),
  /** Default: $RUNTIME_DIRECTORY/status.json, else <state_dir>/status.json. */
  status_file: v.optional(v.string(), ""),
  status_interval: v.optional(positiveSeconds, 5),
  shutdown_grace: v.optional(seconds, 30),
  restart_delay: v.optional(positiveSeconds, 1),
  restart_delay_max: v.optional(positiveSeconds, 300),
  flush_buffers: v.optional(v.boolean(), true),
  /** Serve Prometheus metrics on HOST:PORT ("127.0.0.1:9469"); empty: off. */
  metrics_listen: v.optional(v.string(), ""),
  /** Allow a metrics_listen address that is not loopback (the endpoint has no authentication). */
  metrics_allow_remote: v.optional(v.boolean(), false),
});

/** One [services.<name>] table: the name picks the service module (repo, task, …). */
export const ServiceSchema = v.strictObject({
  enabled: v.optional(v.boolean(), true),
  /** Defaults come from the service module. */
  queue: v.optional(v.pipe(amqpName, v.minLength(1))),
  exchange: v.optional(v.pipe(amqpName, v.minLength(1))),
  declare_exchange: v.optional(v.boolean(), true),
  routing_keys: v.optional(v.array(v.pipe(v.string(), v.minLength(1)))),
  queue_type: v.optional(v.picklist(["quorum", "classic"]), "quorum"),
  workers: v.optional(positiveInt, 1),
  max_attempts: v.optional(positiveInt, 5),
  retry_delay: v.optional(positiveSeconds, 30),
  retry_delay_max: v.optional(positiveSeconds, 3600),
  delivery_limit: v.optional(positiveInt, 20),
  timeout: v.optional(seconds, 0),
  publish_on_done: v.optional(v.boolean(), false),
  done_exchange: v.optional(v.pipe(amqpName, v.minLength(1)), "uploaded-ex"),
  schedule: v.optional(v.string(), ""),
  schedule_message: v.optional(v.record(v.string(), v.unknown()), {}),
  /** Service-specific keys, checked by the service module. */
  options: v.optional(v.record(v.string(), v.unknown()), {}),
});

/** Vulnerability sources (`vuln load`). */
export const VulnSchema = v.strictObject({
  /** NVD CVE API 2.0 (default https://services.nvd.nist.gov/rest/json/cves/2.0). */
  nvd_url: v.optional(v.pipe(v.string(), v.url())),
  /** NVD CPE products API 2.0 (default https://services.nvd.nist.gov/rest/json/cpes/2.0). */
  cpe_url: v.optional(v.pipe(v.string(), v.url())),
  /** A file whose first line is the NVD API key (or $ALTREPODB_NVD_API_KEY); never logged. */
  nvd_api_key_file: v.optional(v.string()),
});

/** Errata ids (`errata build`). */
export const ErrataSchema = v.strictObject({
  /** "service": the ErrataID service at service_url; "local": allocated in the ErrataID table. */
  id_source: v.optional(v.picklist(["service", "local"]), "service"),
  service_url: v.optional(v.pipe(v.string(), v.url())),
  timeout: v.optional(positiveSeconds, 30),
});

/** One [feeds.<name>] table (`feed load`): where the feed comes from and its sanity gates. */
export const FeedSchema = v.strictObject({
  /** http(s) root of the feed (default: the reference's). */
  url: v.optional(v.pipe(v.string(), v.url())),
  /** A local mirror directory (or file) instead of url. */
  path: v.optional(v.string()),
  /** Refuse a load that parsed to fewer records. */
  min_rows: v.optional(nonNegativeInt),
  /** Refuse a load below this fraction of the last good load's records. */
  min_fraction: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(1)), 0.5),
  /** Seconds for the whole fetch, retries included. */
  deadline: v.optional(positiveSeconds, 60),
  /** Seconds for one request. */
  timeout: v.optional(positiveSeconds, 30),
  /** Time zone of the times in listings and Bugzilla (IANA name). */
  timezone: v.optional(v.string(), "UTC"),
  /** `feed status` calls the feed stale this many seconds after its last success. */
  stale_after: v.optional(positiveSeconds, 2 * 86400),
  /** Feed-specific keys. */
  options: v.optional(v.record(v.string(), v.unknown()), {}),
});

export const FileSchema = v.strictObject({
  database: v.optional(DatabaseSchema, {}),
  log: v.optional(LogSchema, {}),
  load: v.optional(LoadSchema, {}),
  /** Branch name → snapshot directory (the repo.load message names a branch). */
  repo_dirs: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z0-9_.+-]+$/i)), v.string()), {}),
  task_dirs: v.optional(TaskDirsSchema, {}),
  amqp: v.optional(AmqpSchema, {}),
  notifier: v.optional(NotifierSchema, {}),
  daemon: v.optional(DaemonSchema, {}),
  vuln: v.optional(VulnSchema, {}),
  feeds: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]*$/, "a feed name")), FeedSchema), {}),
  errata: v.optional(ErrataSchema, {}),
  /** Daemon services by name; unknown names are refused when the daemon starts. */
  services: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_-]*$/, "a lower-case service name")), ServiceSchema), {}),
  /** [[triggers]]: programs and exports run after loads (src/triggers). */
  triggers: v.optional(TriggersSchema, []),
  /** The notification relay (src/bot). */
  bot: v.optional(BotSchema, {}),
});

export type FileConfig = v.InferOutput<typeof FileSchema>;
