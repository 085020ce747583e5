/**
 * The feed services (reference §3.7), each a whole feed load through loadFeed, the function
 * `altrepodb feed load` calls, from the source of [feeds.<name>]:
 *   beehive.load / repocop.load / watch.load / acl.load / bugzilla.load   {"force"?: true}
 * plus the two event streams:
 *   acl.<anything else>   a girar ACL change {"_timestamp", "repo", "target", "new_owners": [...]}
 *                         → one Acl row (acl_date = _timestamp, UTC)
 *   bugzilla.<key>        Bugzilla's push {"_meta": {"time"}, "payload": {...}}: comment.new takes
 *                         payload.comment.bug, bug.changed.* takes payload.bug, any other key is
 *                         acknowledged and ignored. The bug must already be stored (a full load
 *                         brings new bugs); a row is written only when a field changed.
 * A refused feed (below its gates) and a bad event are dead-lettered with the reason (InputError);
 * a network failure or a stalled transfer is retried. A scheduled pull:
 * `schedule = "daily at 04:00"` (the message is the service's first key, `<name>.load`).
 */
import * as v from "valibot";
import { insertRows } from "../../db";
import type { LoadContext } from "../../loaders/context";
import { InputError } from "../../loaders/errors";
import { FeedRefused, loadFeed } from "../../loaders/feeds";
import type { HandleResult, ServiceContext, ServiceModule } from "../types";
import { fireTriggers } from "../../triggers";

const LoadPayload = v.looseObject({ force: v.optional(v.boolean(), false) });
const Options = v.strictObject({});

function loadContext(ctx: ServiceContext): LoadContext {
  return { db: ctx.db, config: ctx.config, log: ctx.log, signal: ctx.signal };
}

/** One whole feed load; the report becomes the message's result. */
export async function feedLoad(ctx: ServiceContext, name: string, force = false): Promise<HandleResult> {
  let r;
  const lc = loadContext(ctx);
  try {
    r = await loadFeed(lc, { name, force });
  } catch (e) {
    // a stalled transfer is worth another try later; a refused feed is not
    if (e instanceof InputError && !(e instanceof FeedRefused) && /within the deadline/.test(e.message)) throw new Error(e.message);
    throw e;
  }
  if (r.rejected.length) ctx.log.warn(`feed ${name}: ${r.rejected.length} record(s) rejected`, { first: `${r.rejected[0]!.path}: ${r.rejected[0]!.error}` });
  const written = Object.values(r.written).reduce((a, b) => a + b, 0);
  const rows = Object.keys(r.written).length ? r.written : undefined;
  const summary = `feed ${name}: ${r.result}, ${r.records} records, ${written} rows written, ${r.rejected.length} rejected${r.message ? ` (${r.message})` : ""}${r.notes.length ? `; ${r.notes.join("; ")}` : ""}`;
  return { summary, rows, skipped: r.result === "unchanged" || written === 0, after: () => void fireTriggers(lc, "feed.load", r, { failed: r.rejected.length > 0 }) };
}

function loadVerb(name: string) {
  return {
    name: `${name}-load`,
    usage: "[force]",
    description: `Load the ${name} feed from its configured source ([feeds.${name}]); force loads it past the gates`,
    build(args: readonly string[]) {
      if (args.length > 1 || (args[0] !== undefined && args[0] !== "force")) throw new Error(`${name}-load takes [force]`);
      return { routingKey: `${name}.load`, payload: args[0] ? { force: true } : {} };
    },
  };
}

type LoadP = v.InferOutput<typeof LoadPayload>;

/** beehive, repocop, watch: one key, a whole load. */
function loadOnly(name: string, what: string): ServiceModule<LoadP, v.InferOutput<typeof Options>> {
  return {
    name,
    description: `${what} (${name}.load: a whole feed load)`,
    defaults: { queue: `altrepodb-${name}-q`, exchange: "repodb-ex", routingKeys: [`${name}.load`] },
    schema: (key) => (key === `${name}.load` ? LoadPayload : undefined),
    options: Options,
    handle: (ctx, msg) => feedLoad(ctx, name, msg.payload.force),
    fire: [loadVerb(name)],
  };
}

export const beehive = loadOnly("beehive", "Beehive rebuild results");
export const repocop = loadOnly("repocop", "Repocop QA results");
export const watch = loadOnly("watch", "Upstream versions of watch files");

// ------------------------------------------------------------------ acl

const nonEmpty = v.pipe(v.string(), v.trim(), v.minLength(1));
const AclEvent = v.looseObject({
  _timestamp: v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(/^\d+(\.\d+)?$/, "Unix seconds"))]),
    v.transform(Number),
    v.number(),
    v.minValue(0),
    v.maxValue(4294967295),
  ),
  repo: v.pipe(nonEmpty, v.regex(/^[A-Za-z0-9_.+-]+$/, "a branch name")),
  target: v.pipe(nonEmpty, v.regex(/^@?[^\s@][^\s]*$/, "a package name or @group")),
  new_owners: v.array(nonEmpty),
});
type AclP = v.InferOutput<typeof AclEvent>;

export const acl: ServiceModule<LoadP | AclP, v.InferOutput<typeof Options>> = {
  name: "acl",
  description: "ACLs: acl.load (a whole feed load) and girar ACL change events (acl.*) → Acl",
  defaults: { queue: "altrepodb-acl-q", exchange: "repodb-ex", routingKeys: ["acl.load", "acl.*"] },
  schema: (key) => (key === "acl.load" ? LoadPayload : /^acl\.[^.]+$/.test(key) ? AclEvent : undefined),
  options: Options,
  async handle(ctx, msg) {
    if (msg.routingKey === "acl.load") return feedLoad(ctx, "acl", (msg.payload as LoadP).force);
    const e = msg.payload as AclP;
    const row = { acl_date: Math.floor(e._timestamp), acl_for: e.target, acl_branch: e.repo, acl_list: e.new_owners };
    const n = await insertRows(ctx.db, "Acl", [row]);
    return { summary: `acl ${e.repo}/${e.target}: ${e.new_owners.join(" ") || "(no owners)"}`, rows: { Acl: n } };
  },
  fire: [
    loadVerb("acl"),
    {
      name: "acl-event",
      usage: "<branch> <package|@group> [owner…]",
      description: "A girar ACL change event (acl.change): the new owners of a package or group",
      build(args) {
        if (args.length < 2) throw new Error("acl-event takes <branch> <package|@group> [owner…]");
        return { routingKey: "acl.change", payload: { _timestamp: Math.floor(Date.now() / 1000), repo: args[0], target: args[1], new_owners: args.slice(2) } };
      },
    },
  ],
};

// ------------------------------------------------------------------ bugzilla

const Login = v.looseObject({ login: v.pipe(v.string(), v.trim(), v.minLength(1)) });
const Named = v.looseObject({ name: v.string() });
const Bug = v.looseObject({
  id: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4294967295)),
  status: v.looseObject({ label: v.string() }),
  resolution: v.optional(v.nullable(v.string()), ""),
  severity: v.string(),
  priority: v.string(),
  product: Named,
  component: Named,
  version: v.optional(v.nullable(v.string()), "all"),
  platform: v.optional(v.nullable(v.string()), ""),
  assigned_to: Login,
  reporter: Login,
  summary: v.string(),
});
const BugzillaEvent = v.looseObject({
  _meta: v.looseObject({ time: v.pipe(v.string(), v.isoTimestamp("an ISO-8601 time with seconds and an offset")) }),
  payload: v.looseObject({}),
});
type BugzillaP = v.InferOutput<typeof BugzillaEvent>;

const FIELDS = ["bz_status", "bz_resolution", "bz_severity", "bz_priority", "bz_product", "bz_version", "bz_platform", "bz_component", "bz_assignee", "bz_reporter", "bz_summary"] as const;

/** The Bugzilla row of an event, stored the way the CSV feed stores it (logins lower case). */
export function bugRow(key: string, p: BugzillaP): Record<string, unknown> | undefined {
  const k = key.replace(/^bugzilla\./, "");
  const raw = k === "comment.new" ? (p.payload as { comment?: { bug?: unknown } }).comment?.bug : k.startsWith("bug.changed.") || k === "bug.changed" ? (p.payload as { bug?: unknown }).bug : null;
  if (raw === null) return undefined;
  const r = v.safeParse(Bug, raw);
  if (!r.success) throw new InputError(`bugzilla ${k}: bad bug object: ${r.issues.map((i) => `${v.getDotPath(i) ?? "bug"}: ${i.message}`).join("; ")}`);
  const b = r.output;
  const changed = Date.parse(p._meta.time);
  if (!Number.isFinite(changed)) throw new InputError(`bugzilla ${k}: bad _meta.time ${JSON.stringify(p._meta.time)}`);
  return {
    bz_id: b.id,
    bz_status: b.status.label,
    bz_resolution: (b.resolution ?? "") === "---" ? "" : (b.resolution ?? ""),
    bz_severity: b.severity,
    bz_priority: b.priority,
    bz_product: b.product.name,
    bz_version: b.version ?? "all",
    bz_platform: b.platform ?? "",
    bz_component: b.component.name,
    bz_assignee: b.assigned_to.login.toLowerCase(),
    bz_reporter: b.reporter.login.toLowerCase(),
    bz_summary: b.summary,
    bz_last_changed: Math.floor(changed / 1000),
  };
}

export const bugzilla: ServiceModule<LoadP | BugzillaP, v.InferOutput<typeof Options>> = {
  name: "bugzilla",
  description: "Bugs: bugzilla.load (a whole feed load) and Bugzilla push events (bugzilla.*) → Bugzilla",
  defaults: { queue: "altrepodb-bugzilla-q", exchange: "repodb-ex", routingKeys: ["bugzilla.load", "bugzilla.#"] },
  schema: (key) => (key === "bugzilla.load" ? LoadPayload : key.startsWith("bugzilla.") ? BugzillaEvent : undefined),
  options: Options,
  async handle(ctx, msg) {
    if (msg.routingKey === "bugzilla.load") return feedLoad(ctx, "bugzilla", (msg.payload as LoadP).force);
    const row = bugRow(msg.routingKey, msg.payload as BugzillaP);
    if (!row) return { summary: `bugzilla: ${msg.routingKey} carries no bug change`, skipped: true };
    const stored = await ctx.db.query<{ k: string }>(
      `SELECT argMax(concat(${FIELDS.join(", '\\x1f', ")}, '\\x1f', toString(toUnixTimestamp(bz_last_changed))), ts) AS k FROM Bugzilla WHERE bz_id = ${Number(row.bz_id)} GROUP BY bz_id`,
    );
    if (!stored.length) throw new InputError(`bugzilla ${msg.routingKey}: bug ${row.bz_id} is not in the database (a bugzilla feed load brings new bugs)`);
    if (stored[0]!.k === `${FIELDS.map((f) => row[f]).join("\x1f")}\x1f${row.bz_last_changed}`) return { summary: `bug ${row.bz_id} unchanged`, skipped: true };
    const n = await insertRows(ctx.db, "Bugzilla", [row], ["bz_id", ...FIELDS, "bz_last_changed"]);
    return { summary: `bug ${row.bz_id}: ${row.bz_status}`, rows: { Bugzilla: n } };
  },
  fire: [loadVerb("bugzilla")],
};
