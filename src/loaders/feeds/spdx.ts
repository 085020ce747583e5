/**
 * SPDX (reference §2.6) from the official license-list-data JSON, pinned to a release tag: the
 * source root is its `json/` directory (a URL such as
 * https://raw.githubusercontent.com/spdx/license-list-data/v3.25.0/json, or a local copy).
 * `licenses.json` and `exceptions.json` name the entries; each is read from `details/<id>.json`
 * or `exceptions/<id>.json`. A row is written for an entry that no stored row of the same type
 * equals in id, name, text, header and URL list.
 */
import { getPart, notHtml } from "./source.ts";
import type { FeedModule } from "./runner.ts";
import { partsHash, Rejects } from "./util.ts";

const SPEC = {
  license: { index: "licenses.json", list: "licenses", idKey: "licenseId", dir: "details", text: "licenseText", header: "standardLicenseHeader" },
  exception: { index: "exceptions.json", list: "exceptions", idKey: "licenseExceptionId", dir: "exceptions", text: "licenseExceptionText", header: "licenseComments" },
} as const;

const ID = /^[A-Za-z0-9.+-]+$/;

export const spdx: FeedModule = {
  name: "spdx",
  description: "SPDX licenses and exceptions (SPDXLicenses)",
  defaultSource: "https://raw.githubusercontent.com/spdx/license-list-data/v3.25.0/json",
  minRows: 1,
  async read(ctx) {
    const parts: { name: string; body: Uint8Array }[] = [];
    const rows: object[] = [];
    const rejects = new Rejects();
    let records = 0;
    const have = new Set(
      (await ctx.db.query<{ k: string }>("SELECT concat(toString(spdx_type), '\\x1f', spdx_id, '\\x1f', spdx_name, '\\x1f', spdx_text, '\\x1f', spdx_header, '\\x1f', arrayStringConcat(spdx_urls, '\\x1e')) AS k FROM SPDXLicenses")).map(
        (r) => r.k,
      ),
    );
    let version = "";
    for (const [type, s] of Object.entries(SPEC)) {
      const index = await getPart(ctx.src, s.index);
      if (index === "missing" || index === "not-modified") throw new Error(`${ctx.src.root}/${s.index}: not found (is the source the json/ directory of license-list-data?)`);
      notHtml(index.body, `${ctx.src.root}/${s.index}`);
      parts.push(index);
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(new TextDecoder().decode(index.body));
      } catch (e) {
        throw new Error(`${s.index}: not complete JSON (${(e as Error).message})`);
      }
      version ||= String(doc.licenseListVersion ?? "");
      const list = doc[s.list];
      if (!Array.isArray(list)) throw new Error(`${s.index}: no "${s.list}" array`);
      for (const entry of list) {
        const id = (entry as Record<string, unknown>)?.[s.idKey];
        if (typeof id !== "string" || !ID.test(id)) {
          rejects.add(s.index, `entry with bad ${s.idKey} ${JSON.stringify(id)}`);
          continue;
        }
        const file = `${s.dir}/${id}.json`;
        const part = await getPart(ctx.src, file);
        if (part === "missing" || part === "not-modified") {
          rejects.add(file, "listed in the index but not found");
          continue;
        }
        parts.push(part);
        let d: Record<string, unknown>;
        try {
          d = JSON.parse(new TextDecoder().decode(part.body));
        } catch (e) {
          rejects.add(file, `not JSON: ${(e as Error).message}`);
          continue;
        }
        if (typeof d.name !== "string" || typeof d[s.text] !== "string") {
          rejects.add(file, `no name or ${s.text}`);
          continue;
        }
        records++;
        const urls = Array.isArray(d.seeAlso) ? d.seeAlso.filter((u): u is string => typeof u === "string") : [];
        const header = typeof d[s.header] === "string" ? (d[s.header] as string) : "";
        const row = { spdx_id: id, spdx_name: d.name, spdx_text: d[s.text], spdx_header: header, spdx_urls: urls, spdx_type: type };
        if (have.has([type, id, d.name, d[s.text], header, urls.join("\x1e")].join("\x1f"))) continue;
        rows.push(row);
      }
    }
    return {
      records,
      tables: [{ table: "SPDXLicenses", rows }],
      rejected: rejects.items,
      etag: version ? `spdx:${version}` : "",
      lastModified: "",
      contentHash: partsHash(parts),
      notes: version ? [`license list version ${version}`] : [],
    };
  },
};
