/** `altrepodb feed load NAME` / `feed status`: QA and metadata feeds. */
import { defineCommand } from "citty";
import { FEEDS, feedStatus, loadFeed } from "../loaders/feeds/index.ts";
import { cliLoadContext, closeAll } from "./context";
import { RunFailed } from "./errors";
import { abortOnSignals } from "./signals";
import { fireTriggers } from "../triggers";
import { jsonText } from "../models/json.ts";

const load = defineCommand({
  meta: {
    name: "load",
    description: `Load one feed (${Object.keys(FEEDS).join(", ")})`,
    examples: ["altrepodb feed load watch", "altrepodb feed load bugzilla --source https://bugzilla.altlinux.org/buglist.cgi --json"],
  },
  args: {
    name: { type: "positional", description: "The feed", required: true },
    source: { type: "string", description: "Root URL or local directory/file instead of [feeds.<name>] url/path" },
    force: { type: "boolean", description: "Load even when unchanged, and past the sanity gates" },
    "dry-run": { type: "boolean", description: "Fetch, parse and gate; write nothing" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const ctx = await cliLoadContext("feed", abortOnSignals());
    const r = await loadFeed(ctx, { name: String(args.name), source: args.source ? String(args.source) : undefined, force: Boolean(args.force), dryRun: Boolean(args["dry-run"]) });
    if (args.json) console.log(jsonText(r));
    else {
      for (const f of r.rejected.slice(0, 20)) console.error(`rejected: ${f.path}: ${f.error}`);
      if (r.rejected.length > 20) console.error(`… and ${r.rejected.length - 20} more`);
      for (const n of r.notes) console.error(`note: ${n}`);
      const written = Object.entries(r.written).map(([t, n]) => `${n} ${t}`).join(", ") || "nothing";
      console.error(`feed ${r.feed} (${r.source}): ${r.result}${r.message ? ` — ${r.message}` : ""}; ${r.records} records, wrote ${written}, ${r.rejected.length} rejected, ${r.seconds.toFixed(2)} s`);
    }
    if (r.result !== "dry-run") await fireTriggers(ctx, "feed.load", r, { failed: r.result === "refused" || r.result === "failed" || r.rejected.length > 0, release: closeAll });
    if (r.rejected.length) throw new RunFailed(`${r.rejected.length} record(s) of feed ${r.feed} rejected (the others are loaded)`);
  },
});

const status = defineCommand({
  meta: {
    name: "status",
    description: "Last attempt, last success, age, rows and result per feed; exit 1 when one is stale or failed",
    examples: ["altrepodb feed status", "altrepodb feed status watch acl --json"],
    rest: "repeat",
  },
  args: {
    name: { type: "positional", description: "Only these feeds", required: false },
    json: { type: "boolean", description: "JSON" },
  },
  async run({ args }) {
    const ctx = await cliLoadContext("feed");
    const names = (args._ as string[]).length ? (args._ as string[]) : undefined;
    const st = await feedStatus(ctx, names);
    if (args.json) console.log(jsonText(st));
    else
      for (const s of st)
        console.log(
          [s.feed, s.last_result ?? "never", s.last_success ?? "-", s.age_seconds === null ? "-" : `${Math.round(s.age_seconds / 3600)}h`, String(s.rows), s.stale ? "STALE" : "fresh", s.last_message].join("\t"),
        );
    const bad = st.filter((s) => s.stale || s.failed);
    if (bad.length) throw new RunFailed(`${bad.map((s) => `${s.feed} ${s.failed ? s.last_result : "stale"}`).join(", ")}`);
  },
});

export default defineCommand({
  meta: { name: "feed", description: "QA and metadata feeds (ACL, Bugzilla, Repocop, Watch, SPDX, license aliases)" },
  subCommands: { load, status },
});
