/**
 * Errata ids: `ALT-PU-2024-1234-1` = prefix, year, number, version. From the ErrataID service
 * over HTTP (routes `check`, `register?prefix&year`, `update?name`, `discard?name`, answers
 * `{id, created, updated}`; schema-newer-tables.md §2.13), or allocated locally in the ErrataID
 * table for installations without the service (`[errata] id_source = "local"`): the next number
 * is one past the largest ever stored for the prefix and year, so an id is never reused.
 */
import { insertRows, quoteString, type Db } from "../../db/index.ts";
import { httpGet, HttpError } from "../../http/index.ts";

export interface ErrataIdSource {
  /** Fails when ids cannot be had (service down), before anything is written. */
  check(): Promise<void>;
  /** A new id, version 1. */
  register(prefix: string, year: number): Promise<string>;
  /** The next version of an id (given without or with its version). */
  update(id: string): Promise<string>;
  /** The next version of an id, marked discarded by the service. */
  discard(id: string): Promise<string>;
}

const ID = /^([A-Z]+-[A-Z]+)-(\d{4})-(\d+)(?:-(\d+))?$/;

export function splitErrataId(id: string): { prefix: string; year: number; number: number; version: number } {
  const m = ID.exec(id);
  if (!m) throw new Error(`not an errata id: ${JSON.stringify(id)}`);
  return { prefix: m[1]!, year: Number(m[2]), number: Number(m[3]), version: Number(m[4] ?? 0) };
}

export function noVersion(id: string): string {
  const p = splitErrataId(id);
  return `${p.prefix}-${p.year}-${p.number}`;
}

export class ServiceIds implements ErrataIdSource {
  constructor(
    private readonly base: string,
    private readonly timeoutMs = 30_000,
  ) {}

  private async call(route: string, params: Record<string, string>): Promise<string> {
    const u = new URL(route, this.base.endsWith("/") ? this.base : `${this.base}/`);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    const res = await httpGet(u.toString(), { timeoutMs: this.timeoutMs, deadlineMs: this.timeoutMs * 2, retries: 2, backoffMs: 500 });
    let doc: { id?: unknown };
    try {
      doc = JSON.parse(new TextDecoder().decode(res.body));
    } catch {
      throw new HttpError("ErrataID service answered something that is not JSON", u.toString(), res.status);
    }
    if (route === "check") return "";
    if (typeof doc.id !== "string" || !ID.test(doc.id)) throw new HttpError(`ErrataID service answered no valid id: ${JSON.stringify(doc).slice(0, 200)}`, u.toString(), res.status);
    return doc.id;
  }

  async check(): Promise<void> {
    await this.call("check", {});
  }
  register(prefix: string, year: number): Promise<string> {
    return this.call("register", { prefix, year: String(year) });
  }
  update(id: string): Promise<string> {
    return this.call("update", { name: noVersion(id) });
  }
  discard(id: string): Promise<string> {
    return this.call("discard", { name: noVersion(id) });
  }
}

export class LocalIds implements ErrataIdSource {
  constructor(private readonly db: Db) {}

  async check(): Promise<void> {
    await this.db.query("SELECT 1 FROM ErrataID LIMIT 1");
  }

  private async store(prefix: string, year: number, number: number, version: number): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const id = `${prefix}-${year}-${number}-${version}`;
    await insertRows(this.db, "ErrataID", [{ errata_id: id, eid_prefix: prefix, eid_year: year, eid_number: number, eid_version: version, eid_created: now, eid_updated: now }], [
      "errata_id",
      "eid_prefix",
      "eid_year",
      "eid_number",
      "eid_version",
      "eid_created",
      "eid_updated",
    ]);
    return id;
  }

  async register(prefix: string, year: number): Promise<string> {
    const r = await this.db.query<{ n: number }>(`SELECT max(eid_number) AS n FROM ErrataID WHERE eid_prefix = ${quoteString(prefix)} AND eid_year = ${year}`);
    return this.store(prefix, year, Number(r[0]?.n ?? 0) + 1, 1);
  }

  async update(id: string): Promise<string> {
    const p = splitErrataId(id);
    const r = await this.db.query<{ v: number }>(
      `SELECT max(eid_version) AS v FROM ErrataID WHERE eid_prefix = ${quoteString(p.prefix)} AND eid_year = ${p.year} AND eid_number = ${p.number}`,
    );
    return this.store(p.prefix, p.year, p.number, Math.max(Number(r[0]?.v ?? 0), p.version) + 1);
  }

  discard(id: string): Promise<string> {
    return this.update(id);
  }
}
