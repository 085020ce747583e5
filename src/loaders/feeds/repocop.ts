/**
 * Repocop (reference §2.4): `packages.altlinux-sisyphus.json.bz2`, a JSON array of test results
 * whose keys are PackagesRepocop's columns; every record gets rc_test_date = the file's
 * Last-Modified (a full snapshot per update). Fetched conditionally. A record that is not an
 * object of strings for the expected keys is rejected with its index.
 */
import { decodeBody } from "../../http/index.ts";
import { getPart, notHtml } from "./source.ts";
import type { FeedModule } from "./runner.ts";
import { partsHash, Rejects } from "./util.ts";

export const FILE = "packages.altlinux-sisyphus.json.bz2";
const KEYS = ["pkg_name", "pkg_version", "pkg_release", "pkg_arch", "pkgset_name", "rc_srcpkg_name", "rc_srcpkg_version", "rc_srcpkg_release", "rc_test_name", "rc_test_status", "rc_test_message"];

export const repocop: FeedModule = {
  name: "repocop",
  description: "Repocop QA results (PackagesRepocop)",
  defaultSource: "http://repocop.altlinux.org/pub/repocop/prometheus3",
  minRows: 1,
  async read(ctx) {
    const file = String(ctx.settings.options.file ?? FILE);
    const part = await getPart(ctx.src, file, ctx.force ? {} : { etag: ctx.last?.etag, lastModified: ctx.last?.lastModified });
    if (part === "not-modified") return { unchanged: `${file} not modified` };
    if (part === "missing") throw new Error(`${ctx.src.root}/${file}: not found`);
    const body = await decodeBody(part.body, file);
    notHtml(body, `${ctx.src.root}/${file}`);
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(body));
    } catch (e) {
      throw new Error(`${file}: not complete JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(doc)) throw new Error(`${file}: expected a JSON array of test results`);
    const date = part.modified ?? Math.floor(Date.now() / 1000);
    const rows: object[] = [];
    const rejects = new Rejects();
    doc.forEach((r, k) => {
      if (!r || typeof r !== "object" || Array.isArray(r)) return rejects.add(`${file}#${k}`, "not an object");
      const bad = KEYS.find((key) => typeof (r as Record<string, unknown>)[key] !== "string");
      if (bad) return rejects.add(`${file}#${k}`, `${bad} is missing or not a string`);
      const row: Record<string, unknown> = { rc_test_date: date };
      for (const key of KEYS) row[key] = (r as Record<string, unknown>)[key];
      rows.push(row);
    });
    return { records: rows.length, tables: [{ table: "PackagesRepocop", rows }], rejected: rejects.items, etag: part.etag, lastModified: part.lastModified, contentHash: partsHash([part]) };
  },
};
