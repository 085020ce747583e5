/**
 * NVD CPE products API 2.0 (`products[]`, each `{"cpe": {...}}`) → CpeDictionary rows, the
 * record kept as it is in cpe_json. Used to propose CPE candidates for packages.
 */
import { parseCpe } from "../../cpe/index.ts";
import { mmhash } from "../../hash/index.ts";
import { nvdTime, RecordError } from "./nvd.ts";
import type { CpeDictionaryRow } from "./rows.ts";

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

export function cpeProductRow(item: unknown): CpeDictionaryRow {
  const cpe = (item as { cpe?: Record<string, unknown> })?.cpe;
  if (!cpe || typeof cpe !== "object") throw new RecordError("no `cpe` object");
  const name = cpe.cpeName;
  const id = cpe.cpeNameId;
  if (typeof id !== "string" || !UUID.test(id)) throw new RecordError(`bad cpeNameId ${JSON.stringify(id)}`);
  if (typeof name !== "string") throw new RecordError(`${id}: no cpeName`);
  try {
    parseCpe(name);
  } catch (e) {
    throw new RecordError(`${id}: ${(e as Error).message}`);
  }
  const titles = Array.isArray(cpe.titles) ? (cpe.titles as { title?: string; lang?: string }[]) : [];
  const json = JSON.stringify({ cpe });
  return {
    cpe_name_id: id,
    cpe_name: name,
    cpe_hash: mmhash(name),
    cpe_version_hash: mmhash(json),
    cpe_title: String((titles.find((t) => t?.lang === "en") ?? titles[0])?.title ?? ""),
    cpe_deprecated: cpe.deprecated === true ? 1 : 0,
    cpe_created: nvdTime(cpe.created ?? cpe.lastModified, `${id}: created`),
    cpe_modified: nvdTime(cpe.lastModified, `${id}: lastModified`),
    cpe_json: json,
  };
}
