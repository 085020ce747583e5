/**
 * Bugzilla (reference §2.3): one CSV export of every bug (`buglist.cgi` with the loader's query;
 * `--source` names the buglist.cgi URL, or a CSV file). A row is written only when a bug is new
 * or any field differs from its latest stored row. Logins are stored one way: trimmed and lower
 * case. `changeddate` is read in the feed's time zone (`timezone`, default UTC), never the
 * host's. A row without 13 fields or with a bad id or date is rejected with its line.
 */
import { EncodedRows } from "../../db/index.ts";
import { decodeBody, HttpError } from "../../http/index.ts";
import { getPart, isUrl, notHtml } from "./source.ts";
import type { FeedModule } from "./runner.ts";
import { csvBody } from "./csv.ts";
import { partsHash, Rejects } from "./util.ts";
import { zonedToEpoch } from "./time.ts";

const COLUMNS = "id,bug_status,resolution,bug_severity,priority,product,version,rep_platform,component,assigned_to,reporter,short_desc,changeddate";
const FIELDS = ["bz_status", "bz_resolution", "bz_severity", "bz_priority", "bz_product", "bz_version", "bz_platform", "bz_component", "bz_assignee", "bz_reporter", "bz_summary"] as const;

export function buglistUrl(base: string): string {
  const u = new URL(base);
  for (const [k, v] of Object.entries({ limit: "0", query_format: "advanced", ctype: "csv", human: "1", columnlist: COLUMNS })) if (!u.searchParams.has(k)) u.searchParams.set(k, v);
  return u.toString();
}

export const bugzilla: FeedModule = {
  name: "bugzilla",
  description: "Bugs of ALT's Bugzilla (Bugzilla), latest state per bug",
  defaultSource: "https://bugzilla.altlinux.org/buglist.cgi",
  minRows: 1,
  async read(ctx) {
    const src = isUrl(ctx.src.root) ? { ...ctx.src, root: buglistUrl(ctx.src.root) } : ctx.src;
    const part = await getPart(src, "", ctx.force ? {} : { etag: ctx.last?.etag, lastModified: ctx.last?.lastModified });
    if (part === "not-modified") return { unchanged: "bug list not modified" };
    if (part === "missing") throw new HttpError("not found", src.root, 404);
    const body = await decodeBody(part.body, "bug list");
    notHtml(body, src.root);
    // a 64-bit hash of each bug's latest fields: the key strings would keep the parsed text alive
    const latest = new Map<number, bigint>();
    for (const r of await ctx.db.query<{ id: number; k: string }>(
      `SELECT bz_id AS id, argMax(concat(${FIELDS.join(", '\\x1f', ")}, '\\x1f', toString(toUnixTimestamp(bz_last_changed))), ts) AS k FROM Bugzilla GROUP BY bz_id`,
    ))
      latest.set(Number(r.id), Bun.hash.wyhash(r.k));
    const rows = await EncodedRows.open(ctx.db, "Bugzilla", ["bz_id", ...FIELDS, "bz_last_changed"]);
    const rejects = new Rejects();
    let records = 0;
    let header = true;
    for (const { line, fields } of csvBody(body)) {
      if (header) {
        header = false;
        if (!/^(bug id|id|bug_id)$/i.test(fields[0]!.trim())) throw new Error(`bug list: the first line is not the CSV header (${fields.slice(0, 3).join(",")}…)`);
        continue;
      }
      if (fields.length !== 13) {
        rejects.add(`line ${line}`, `${fields.length} fields, expected 13`);
        continue;
      }
      const id = Number(fields[0]);
      const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(fields[12]!.trim());
      if (!Number.isInteger(id) || id <= 0 || id > 0xffffffff) {
        rejects.add(`line ${line}`, `bad bug id ${JSON.stringify(fields[0])}`);
        continue;
      }
      if (!m) {
        rejects.add(`line ${line}`, `bad changeddate ${JSON.stringify(fields[12])}`);
        continue;
      }
      records++;
      const row: Record<string, unknown> = { bz_id: id };
      let key = "";
      for (let k = 0; k < FIELDS.length; k++) {
        let v = fields[k + 1]!.trim();
        if (k === 1 && v === "---") v = "";
        else if (k === 8 || k === 9) v = v.toLowerCase(); // assignee, reporter
        row[FIELDS[k]!] = v;
        key += `${v}\x1f`;
      }
      row.bz_last_changed = zonedToEpoch(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +(m[6] ?? 0), ctx.src.tz);
      key += row.bz_last_changed;
      const h = Bun.hash.wyhash(key);
      if (latest.get(id) === h) continue;
      latest.set(id, h);
      rows.add(row);
    }
    return {
      records,
      tables: [rows],
      rejected: rejects.items,
      etag: part.etag,
      lastModified: part.lastModified,
      contentHash: partsHash([part]),
    };
  },
};
