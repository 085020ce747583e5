/**
 * License aliases: ALT license names → SPDX ids (LicenseAliases), from a JSON array
 * `[{"alias": …, "spdx_id": …}]` (the reference's sql/license_aliases.json; also JSON lines).
 * `--source` is the file or its URL. Pairs already stored are not written again.
 */
import { getPart, isUrl, notHtml } from "./source.ts";
import type { FeedModule } from "./runner.ts";
import { partsHash, Rejects } from "./util.ts";

export const licenseAliases: FeedModule = {
  name: "license-aliases",
  description: "ALT license names → SPDX ids (LicenseAliases)",
  defaultSource: "/usr/share/altrepodb/license_aliases.json",
  minRows: 1,
  async read(ctx) {
    const src = ctx.src;
    const part = await getPart(isUrl(src.root) ? src : { ...src, root: src.root.replace(/[^/]+$/, "") || "." }, isUrl(src.root) ? "" : (src.root.split("/").pop() ?? ""));
    if (part === "missing" || part === "not-modified") throw new Error(`${src.root}: not found`);
    notHtml(part.body, src.root);
    const text = new TextDecoder().decode(part.body).trim();
    let items: unknown[];
    try {
      items = text.startsWith("[") ? JSON.parse(text) : text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
    } catch (e) {
      throw new Error(`${src.root}: not JSON (${(e as Error).message})`);
    }
    const have = new Set((await ctx.db.query<{ k: string }>("SELECT DISTINCT concat(alias, '\\t', spdx_id) AS k FROM LicenseAliases")).map((r) => r.k));
    const rows: object[] = [];
    const rejects = new Rejects();
    let records = 0;
    items.forEach((it, k) => {
      const a = (it as Record<string, unknown>)?.alias;
      const id = (it as Record<string, unknown>)?.spdx_id;
      if (typeof a !== "string" || !a || typeof id !== "string" || !id) return rejects.add(`${src.root}#${k}`, "alias and spdx_id must be non-empty strings");
      records++;
      if (have.has(`${a}\t${id}`)) return;
      have.add(`${a}\t${id}`);
      rows.push({ alias: a, spdx_id: id });
    });
    return { records, tables: [{ table: "LicenseAliases", rows }], rejected: rejects.items, etag: part.etag, lastModified: part.lastModified, contentHash: partsHash([part]) };
  },
};
