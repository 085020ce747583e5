/**
 * ACL (reference §2.1): `list.packages.<branch>` (`<package>\t<user or @group> …`) and
 * `list.groups.<branch>` (`@<group>\t<member> …`) from the ACL directory listing. Rows are written
 * only for entries whose list changed since the latest stored one (`Acl` keeps history,
 * argMax(acl_list, acl_date)); acl_date = the file's time. One listing request tells whether
 * anything changed at all (its names and times are the validator). A line without a TAB is
 * rejected with its file and line number; the rest of the file loads.
 */
import { EncodedRows } from "../../db/index.ts";
import { mmhash } from "../../hash/index.ts";
import { getPart, listDir, notHtml } from "./source.ts";
import type { FeedData, FeedModule } from "./runner.ts";
import { lines, PartsHash, Rejects } from "./util.ts";

export const acl: FeedModule = {
  name: "acl",
  description: "Package and group ACLs of every branch (Acl)",
  defaultSource: "http://git.altlinux.org/acl",
  minRows: 1,
  async read(ctx) {
    const listing = await listDir(ctx.src, "");
    if (listing === "missing") throw new Error(`${ctx.src.root}: no such directory`);
    const files = listing.filter((e) => /^list\.(packages|groups)\.[A-Za-z0-9_.+-]+$/.test(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
    if (!files.length) throw new Error(`${ctx.src.root}: no list.packages.* or list.groups.* files in the listing`);
    const etag = `listing:${mmhash(files.map((f) => `${f.name}\t${f.modified ?? ""}`).join("\n"))}`;
    if (!ctx.force && ctx.last?.etag === etag) return { unchanged: "the listing shows the same files and times" };
    const current = new Set(
      (await ctx.db.query<{ k: string }>("SELECT concat(acl_branch, '\\t', acl_for, '\\t', arrayStringConcat(argMax(acl_list, acl_date), ' ')) AS k FROM Acl GROUP BY acl_branch, acl_for")).map(
        (r) => r.k,
      ),
    );
    const rows = await EncodedRows.open(ctx.db, "Acl");
    const rejects = new Rejects();
    const hash = new PartsHash();
    let records = 0;
    for (const f of files) {
      const part = await getPart(ctx.src, f.name);
      if (part === "missing" || part === "not-modified") throw new Error(`${f.name}: listed but not there`);
      notHtml(part.body, `${ctx.src.root}/${f.name}`);
      hash.add(part);
      const branch = f.name.split(".").slice(2).join(".");
      const date = f.modified ?? part.modified ?? Math.floor(Date.now() / 1000);
      for (const [n, line] of lines(new TextDecoder("latin1").decode(part.body))) {
        const tab = line.indexOf("\t");
        if (tab <= 0) {
          rejects.add(`${f.name}:${n}`, "no TAB between the name and the list");
          continue;
        }
        records++;
        const who = line.slice(0, tab).trim();
        const list = line.slice(tab + 1).trim().split(/\s+/).filter(Boolean);
        if (current.has(`${branch}\t${who}\t${list.join(" ")}`)) continue;
        rows.add({ acl_date: date, acl_for: who, acl_branch: branch, acl_list: list });
      }
    }
    const data: FeedData = { records, tables: [rows], rejected: rejects.items, etag, lastModified: "", contentHash: hash.digest() };
    return data;
  },
};
