/**
 * Watch (reference §2.5): `watch-total.txt`, `<acl>\t<package>\t<old>\t<new>\t<url>` per line, a
 * full daily snapshot stamped with the file's Last-Modified (the API shows the rows of the newest
 * day only). Fetched conditionally: an unchanged file costs one request and writes nothing. A line
 * with fewer than five fields is rejected with its number; the others load.
 */
import { EncodedRows } from "../../db/index.ts";
import { decodeBody } from "../../http/index.ts";
import { getPart, notHtml } from "./source.ts";
import type { FeedModule } from "./runner.ts";
import { lines, partsHash, Rejects } from "./util.ts";

export const FILE = "watch-total.txt";

export const watch: FeedModule = {
  name: "watch",
  description: "Upstream versions found by watch files (PackagesWatch), full daily snapshots",
  defaultSource: "https://watch.altlinux.org/pub/watch",
  minRows: 1,
  async read(ctx) {
    const part = await getPart(ctx.src, FILE, ctx.force ? {} : { etag: ctx.last?.etag, lastModified: ctx.last?.lastModified });
    if (part === "not-modified") return { unchanged: `${FILE} not modified` };
    if (part === "missing") throw new Error(`${ctx.src.root}/${FILE}: not found`);
    const body = await decodeBody(part.body, FILE);
    notHtml(body, `${ctx.src.root}/${FILE}`);
    const date = part.modified ?? Math.floor(Date.now() / 1000);
    const rows = await EncodedRows.open(ctx.db, "PackagesWatch");
    const rejects = new Rejects();
    for (const [n, line] of lines(new TextDecoder().decode(body))) {
      const f = line.split("\t");
      if (f.length < 5) {
        rejects.add(`${FILE}:${n}`, `${f.length} fields, expected 5`);
        continue;
      }
      rows.add({ acl: f[0], pkg_name: f[1], old_version: f[2], new_version: f[3], url: f.slice(4).join("\t"), date_update: date });
    }
    return { records: rows.rows, tables: [rows], rejected: rejects.items, etag: part.etag, lastModified: part.lastModified, contentHash: partsHash([part]) };
  },
};
