/**
 * `errata build`: errata from changelogs (schema-newer-tables.md §3.3 "Errata generation").
 *
 * - ALT-PU, one per DONE task subtask whose source package's new changelog entries name
 *   vulnerability ids (`eh_type='task'`, `eh_source='changelog'`, references of type `vuln`).
 *   "New" = entries whose EVR is above the version of the same source package in the branch's
 *   last complete package set before the task; without one, the newest entry only.
 * - ALT-BU, one per branch snapshot (the latest complete one of each branch): references of type
 *   `errata` to the current ALT-PU ids of the source packages that snapshot added.
 * An errata whose content changes gets a new version and an ErrataChangeHistory `update` row; one
 * whose ids disappear is discarded (new version + `discard`); unchanged ones get nothing, so a
 * rerun writes nothing. Ids come from the ErrataID service (or the local allocator); when it is
 * down the run fails before anything is written.
 * - Taskless branches (p10_e2k, sisyphus_riscv64, …): one ALT-PU (`eh_type='branch'`, task 0) per source
 *   package their latest snapshot added whose new changelog entries name ids.
 * Not done yet: bulletins and branch errata of older snapshots (only the latest of each branch).
 */
import { mmhash } from "../../hash/index.ts";
import { insertRows, quoteString, type Db } from "../../db/index.ts";
import { compareEvr, isValidEvr } from "../../rpm/vercmp.ts";
import type { LoadContext } from "../context.ts";
import { chunks } from "../chunks.ts";
import { srpmHashesSql } from "../pkgset-sql.ts";
import { InputError, throwIfAborted } from "../errors.ts";
import { findVulnIds } from "./ids.ts";
import { LocalIds, noVersion, ServiceIds, type ErrataIdSource } from "./idsource.ts";

export { findVulnIds } from "./ids.ts";
export { LocalIds, ServiceIds, type ErrataIdSource } from "./idsource.ts";

export interface ErrataInput {
  branch?: string;
  task?: number;
  dryRun?: boolean;
  /** default: from the config's [errata] section */
  ids?: ErrataIdSource;
}

export interface ErrataReport {
  created: string[];
  updated: string[];
  discarded: string[];
  unchanged: number;
  /** id-like strings in changelogs that were not taken, with where */
  ignored: { where: string; text: string }[];
  seconds: number;
}

interface Wanted {
  key: string;
  type: "task" | "branch" | "bulletin";
  prefix: "ALT-PU" | "ALT-BU";
  created: number;
  refs: [string, string][];
  pkg: { hash: bigint; name: string; version: string; release: string };
  branch: string;
  task: number;
  subtask: number;
  state: string;
  /** bulletins: the source packages the snapshot added */
  added?: Set<bigint>;
}

interface Stored {
  errata_id: string;
  eh_hash: bigint;
  eh_created: number;
  discarded: boolean;
}

function identity(w: { type: string; branch: string; task: number; subtask: number; created: number; pkgHash?: bigint }): string {
  if (w.type === "task") return `task:${w.branch}:${w.task}:${w.subtask}`;
  if (w.type === "branch") return `branch:${w.branch}:${w.pkgHash}`;
  return `bulletin:${w.branch}:${w.created}`;
}

function contentHash(w: Wanted): bigint {
  return mmhash(JSON.stringify([w.type, w.branch, w.task, w.subtask, String(w.pkg.hash), w.refs]));
}

export function idSourceFromConfig(ctx: LoadContext): ErrataIdSource {
  const e = (ctx.config.file as { errata?: { id_source?: string; service_url?: string; timeout?: number } }).errata ?? {};
  if ((e.id_source ?? "service") === "local") return new LocalIds(ctx.db);
  if (!e.service_url) throw new InputError('[errata] service_url is not set (or set id_source = "local" to allocate ids in the database)');
  return new ServiceIds(e.service_url, (e.timeout ?? 30) * 1000);
}

export async function buildErrata(ctx: LoadContext, input: ErrataInput): Promise<ErrataReport> {
  const started = performance.now();
  const db = ctx.db;
  const ignored: ErrataReport["ignored"] = [];
  const examined = new Set<string>();
  const wanted = [...(await taskErrata(db, input, ignored, examined)), ...(await branchErrata(db, input, ignored, examined)), ...(await bulletins(db, input))];
  throwIfAborted(ctx.signal);
  const stored = await storedErrata(db);
  const report: ErrataReport = { created: [], updated: [], discarded: [], unchanged: 0, ignored, seconds: 0 };
  const ids = input.ids ?? idSourceFromConfig(ctx);
  if (!input.dryRun) await ids.check();
  const history: Record<string, unknown>[] = [];
  const changes: Record<string, unknown>[] = [];
  const transaction = crypto.randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const wantedKeys = new Set<string>();
  const currentPu = new Map<string, string>(); // task key → id after this run

  const change = async (errataId: string, type: "create" | "update" | "discard", message: string) => {
    const ec = input.dryRun ? "ALT-EC-0000-0-1" : await ids.register("ALT-EC", new Date(now * 1000).getUTCFullYear());
    changes.push({
      ec_id: ec,
      ec_created: now,
      ec_updated: now,
      ec_user: "altrepodb",
      ec_user_ip: "",
      ec_reason: JSON.stringify({ actor: "altrepodb", user: { name: "altrepodb", ip: "" }, message, details: {} }),
      ec_type: type,
      ec_source: "auto",
      ec_origin: "parent",
      errata_id: errataId,
      transaction_id: transaction,
    });
  };
  const row = (id: string, w: Wanted, created: number, hash: bigint) => ({
    errata_id: id,
    eh_created: created,
    eh_updated: now,
    eh_hash: hash,
    eh_type: w.type,
    eh_source: w.type === "bulletin" ? "branch" : "changelog",
    "eh_references.type": w.refs.map(([t]) => t),
    "eh_references.link": w.refs.map(([, l]) => l),
    pkg_hash: w.pkg.hash,
    pkg_name: w.pkg.name,
    pkg_version: w.pkg.version,
    pkg_release: w.pkg.release,
    pkgset_name: w.branch,
    task_id: w.task,
    subtask_id: w.subtask,
    task_state: w.state,
  });

  // bulletins refer to the ALT-PU ids current after this run: task errata are decided first
  for (const pass of ["updates", "bulletin"] as const) {
    for (const w of wanted.filter((x) => (pass === "bulletin") === (x.type === "bulletin"))) {
      if (pass === "bulletin") {
        const ids = wanted
          .filter((t) => t.type !== "bulletin" && t.branch === w.branch && w.added!.has(t.pkg.hash))
          .flatMap((t) => (currentPu.has(t.key) ? [currentPu.get(t.key)!] : []));
        w.refs = [...new Set(ids)].sort().map((l) => ["errata", l]);
        if (!w.refs.length) continue;
      }
      wantedKeys.add(w.key);
      const s = stored.get(w.key);
      const hash = contentHash(w);
      if (s && !s.discarded && s.eh_hash === hash) {
        report.unchanged++;
        if (pass === "updates") currentPu.set(w.key, s.errata_id);
        continue;
      }
      const id = input.dryRun ? `${w.prefix}-dry-run` : s ? await ids.update(s.errata_id) : await ids.register(w.prefix, new Date(w.created * 1000).getUTCFullYear());
      history.push(row(id, w, s?.eh_created ?? w.created, hash));
      await change(id, s ? "update" : "create", s ? "content changed" : "new errata");
      (s ? report.updated : report.created).push(id);
      if (pass === "updates") currentPu.set(w.key, id);
    }
  }
  // errata of subtasks whose changelog was read again and names no ids any more are discarded
  // (a subtask whose package is missing from the database is not examined, so never discarded)
  for (const [key, s] of stored) {
    if (s.discarded || wantedKeys.has(key) || !examined.has(key)) continue;
    const id = input.dryRun ? "discard-dry-run" : await ids.discard(s.errata_id);
    const prev = (await db.query<Record<string, unknown>>(`SELECT * EXCEPT (ts, eh_json) FROM ErrataHistory WHERE errata_id = ${quoteString(s.errata_id)} LIMIT 1`))[0];
    if (prev) history.push({ ...prev, errata_id: id, eh_updated: now, eh_created: s.eh_created });
    await change(id, "discard", "no vulnerability ids in the changelog any more");
    report.discarded.push(id);
  }
  if (!input.dryRun) {
    await insertRows(db, "ErrataHistory", history, [
      "errata_id",
      "eh_created",
      "eh_updated",
      "eh_hash",
      "eh_type",
      "eh_source",
      "eh_references.type",
      "eh_references.link",
      "pkg_hash",
      "pkg_name",
      "pkg_version",
      "pkg_release",
      "pkgset_name",
      "task_id",
      "subtask_id",
      "task_state",
    ]);
    await insertRows(db, "ErrataChangeHistory", changes, [
      "ec_id",
      "ec_created",
      "ec_updated",
      "ec_user",
      "ec_user_ip",
      "ec_reason",
      "ec_type",
      "ec_source",
      "ec_origin",
      "errata_id",
      "transaction_id",
    ]);
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/** Current version of every errata, by identity; discarded when its latest change says so. */
async function storedErrata(db: Db): Promise<Map<string, Stored>> {
  const rows = await db.query<{ errata_id: string; eh_hash: bigint; eh_type: string; pkgset_name: string; task_id: number; subtask_id: number; created: number; discarded: number; pkg_hash: bigint }>(
    `SELECT h.errata_id AS errata_id, h.eh_hash AS eh_hash, h.eh_type AS eh_type, h.pkgset_name AS pkgset_name, h.task_id AS task_id, h.pkg_hash AS pkg_hash,
            h.subtask_id AS subtask_id, toUnixTimestamp(h.eh_created) AS created,
            h.errata_id IN (SELECT argMax(errata_id, ts) FROM ErrataChangeHistory GROUP BY ec_id_noversion HAVING argMax(ec_type, ts) = 'discard') AS discarded
     FROM (SELECT * FROM ErrataHistory WHERE eh_type IN ('task', 'branch', 'bulletin') ORDER BY errata_id_version DESC LIMIT 1 BY errata_id_noversion) AS h`,
  );
  const out = new Map<string, Stored>();
  for (const r of rows) {
    const key = identity({ type: r.eh_type, branch: r.pkgset_name, task: Number(r.task_id), subtask: Number(r.subtask_id), created: Number(r.created), pkgHash: BigInt(r.pkg_hash) });
    out.set(key, { errata_id: r.errata_id, eh_hash: BigInt(r.eh_hash), eh_created: Number(r.created), discarded: Number(r.discarded) === 1 });
  }
  return out;
}

interface PkgRow {
  pkg_hash: bigint;
  pkg_name: string;
  pkg_epoch: number;
  pkg_version: string;
  pkg_release: string;
  dates: number[];
  evrs: string[];
  hashes: bigint[];
}

/** A source package update that may carry an errata: a DONE task subtask, or a taskless-branch update. */
interface Update {
  type: "task" | "branch";
  branch: string;
  /** the branch's version before this time is the baseline */
  before: number;
  created: number;
  hash: bigint;
  task: number;
  subtask: number;
  state: string;
  where: string;
}

/** Task errata wanted now; `examined` gets the identity of every subtask whose changelog was read. */
async function taskErrata(db: Db, input: ErrataInput, ignored: ErrataReport["ignored"], examined: Set<string>): Promise<Wanted[]> {
  const tasks = await db.query<{ task_id: number; changed: number; state: string }>(
    `SELECT task_id, argMax(task_state, task_changed) AS state, toUnixTimestamp(max(task_changed)) AS changed FROM TaskStates
     ${input.task !== undefined ? `WHERE task_id = ${Number(input.task)}` : ""} GROUP BY task_id HAVING state = 'DONE'`,
  );
  if (input.task !== undefined && !tasks.length) throw new InputError(`task ${input.task} is not in the database as DONE`);
  const changedOf = new Map(tasks.map((t) => [Number(t.task_id), Number(t.changed)]));
  const updates: Update[] = [];
  for (const part of chunks([...changedOf.keys()])) {
    const list = part.join(",");
    const rows = await db.query<{ task_id: number; subtask_id: number; repo: string; hash: bigint }>(
      `SELECT t.task_id AS task_id, t.subtask_id AS subtask_id, t.repo AS repo, i.hash AS hash
       FROM (SELECT task_id, subtask_id, argMax(task_repo, ts) AS repo, argMax(subtask_deleted, ts) AS del FROM Tasks WHERE task_id IN (${list})
             GROUP BY task_id, subtask_id HAVING del = 0) AS t
       INNER JOIN (SELECT task_id, subtask_id, argMax(titer_srcrpm_hash, (task_try, task_iter)) AS hash FROM TaskIterations
             WHERE task_id IN (${list}) AND titer_srcrpm_hash != 0 GROUP BY task_id, subtask_id) AS i
       ON t.task_id = i.task_id AND t.subtask_id = i.subtask_id`,
    );
    for (const r of rows) {
      if (input.branch && r.repo !== input.branch) continue;
      const changed = changedOf.get(Number(r.task_id))!;
      updates.push({
        type: "task",
        branch: r.repo,
        before: changed,
        created: changed,
        hash: BigInt(r.hash),
        task: Number(r.task_id),
        subtask: Number(r.subtask_id),
        state: "DONE",
        where: `task ${r.task_id} subtask ${r.subtask_id}`,
      });
    }
  }
  return updatesToErrata(db, updates, ignored, examined);
}

/** Branches updated without girar tasks (schema-newer-tables.md §3.3). */
export const TASKLESS_BRANCHES = ["p9_mipsel", "p9_e2k", "p10_e2k", "sisyphus_mipsel", "sisyphus_riscv64", "sisyphus_e2k", "sisyphus_loongarch64"];

/** Taskless-branch errata: the source packages each such branch's latest snapshot added. */
async function branchErrata(db: Db, input: ErrataInput, ignored: ErrataReport["ignored"], examined: Set<string>): Promise<Wanted[]> {
  if (input.task !== undefined) return [];
  const branches = TASKLESS_BRANCHES.filter((b) => !input.branch || b === input.branch);
  const updates: Update[] = [];
  for (const s of await addedBySnapshot(db, branches))
    for (const hash of s.added) updates.push({ type: "branch", branch: s.branch, before: s.date, created: s.date, hash, task: 0, subtask: 0, state: "", where: `${s.branch} snapshot` });
  return updatesToErrata(db, updates, ignored, examined);
}

/** For each branch, its latest complete snapshot's date and the source packages it added to the one before. */
async function addedBySnapshot(db: Db, branches: string[]): Promise<{ branch: string; date: number; added: bigint[] }[]> {
  if (!branches.length) return [];
  const sets = await db.query<{ b: string; ruuid: string; d: number }>(
    `SELECT pkgset_nodename AS b, toString(pkgset_ruuid) AS ruuid, toUnixTimestamp(pkgset_date) AS d FROM PackageSetName
     WHERE pkgset_depth = 0 AND pkgset_complete = 1 AND pkgset_nodename IN (${branches.map(quoteString).join(",")}) ORDER BY b, d`,
  );
  const byBranch = new Map<string, { ruuid: string; d: number }[]>();
  for (const s of sets) byBranch.set(s.b, [...(byBranch.get(s.b) ?? []), { ruuid: s.ruuid, d: Number(s.d) }]);
  const out: { branch: string; date: number; added: bigint[] }[] = [];
  for (const [branch, list] of byBranch) {
    const last = list.at(-1)!;
    const prev = list.at(-2);
    const added = await db.query<{ h: bigint }>(
      `SELECT DISTINCT pkg_hash AS h FROM (${srpmHashesSql(last.ruuid)}) ${prev ? `WHERE pkg_hash NOT IN (${srpmHashesSql(prev.ruuid)})` : ""}`,
    );
    out.push({ branch, date: last.d, added: added.map((a) => BigInt(a.h)) });
  }
  return out;
}

/** The ids each update's new changelog entries name → errata wanted; every update read is `examined`. */
async function updatesToErrata(db: Db, updates: Update[], ignored: ErrataReport["ignored"], examined: Set<string>): Promise<Wanted[]> {
  const pkgs = new Map<bigint, PkgRow>();
  for (const part of chunks([...new Set(updates.map((u) => u.hash))]))
    for (const p of await db.query<PkgRow>(
      `SELECT pkg_hash, any(pkg_name) AS pkg_name, any(pkg_epoch) AS pkg_epoch, any(pkg_version) AS pkg_version, any(pkg_release) AS pkg_release,
              any(arrayMap(d -> toUnixTimestamp(d), pkg_changelog.date)) AS dates, any(pkg_changelog.evr) AS evrs, any(pkg_changelog.hash) AS hashes
       FROM Packages WHERE pkg_hash IN (${part.join(",")}) AND pkg_sourcepackage = 1 GROUP BY pkg_hash`,
    ))
      pkgs.set(BigInt(p.pkg_hash), p);
  // the version each package had in its branch before the update
  const previous = await previousVersions(
    db,
    updates.flatMap((u) => {
      const p = pkgs.get(u.hash);
      return p ? [{ branch: u.branch, before: u.before, name: p.pkg_name }] : [];
    }),
  );
  const entries = new Map<Update, bigint[]>();
  for (const u of updates) {
    const p = pkgs.get(u.hash);
    if (!p) continue;
    const prev = previous.get(`${u.branch}\u0000${u.before}\u0000${p.pkg_name}`);
    const fresh: bigint[] = [];
    p.evrs.forEach((evr, k) => {
      if (!prev) {
        if (k === 0) fresh.push(BigInt(p.hashes[k]!));
      } else if (isValidEvr(evr) && compareEvr(evr, prev) > 0) fresh.push(BigInt(p.hashes[k]!));
    });
    entries.set(u, fresh);
  }
  const texts = new Map<bigint, string>();
  for (const part of chunks([...new Set([...entries.values()].flat())]))
    for (const r of await db.query<{ h: bigint; t: string }>(`SELECT chlog_hash AS h, any(chlog_text) AS t FROM Changelog WHERE chlog_hash IN (${part.join(",")}) GROUP BY chlog_hash`))
      texts.set(BigInt(r.h), r.t);
  const out: Wanted[] = [];
  for (const u of updates) {
    const p = pkgs.get(u.hash);
    if (!p) continue;
    const base = { type: u.type, branch: u.branch, task: u.task, subtask: u.subtask, created: u.created, pkgHash: u.hash };
    examined.add(identity(base));
    const ids = new Set<string>();
    for (const h of entries.get(u) ?? []) {
      const found = findVulnIds(texts.get(h) ?? "");
      found.ids.forEach((i) => ids.add(i));
      for (const t of found.ignored) ignored.push({ where: `${u.where} (${p.pkg_name})`, text: t });
    }
    if (!ids.size) continue;
    const w: Wanted = {
      key: identity(base),
      type: u.type,
      prefix: "ALT-PU",
      created: u.created,
      refs: [...ids].sort().map((i) => ["vuln", i] as [string, string]),
      pkg: { hash: u.hash, name: p.pkg_name, version: p.pkg_version, release: p.pkg_release },
      branch: u.branch,
      task: u.task,
      subtask: u.subtask,
      state: u.state,
    };
    out.push(w);
  }
  return out;
}

/** "branch\0before\0name" → "E:V-R" of that source package in the branch's last complete set before `before`. */
async function previousVersions(db: Db, wants: { branch: string; before: number; name: string }[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const branches = [...new Set(wants.map((w) => w.branch))];
  const roots = new Map<string, { ruuid: string; date: number }[]>();
  for (const part of chunks(branches))
    for (const r of await db.query<{ b: string; ruuid: string; d: number }>(
      `SELECT pkgset_nodename AS b, toString(pkgset_ruuid) AS ruuid, toUnixTimestamp(pkgset_date) AS d FROM PackageSetName
       WHERE pkgset_depth = 0 AND pkgset_complete = 1 AND pkgset_nodename IN (${part.map(quoteString).join(",")}) ORDER BY d`,
    )) {
      const l = roots.get(r.b) ?? [];
      l.push({ ruuid: r.ruuid, date: Number(r.d) });
      roots.set(r.b, l);
    }
  const byRoot = new Map<string, { key: string; name: string }[]>();
  for (const w of wants) {
    const root = (roots.get(w.branch) ?? []).filter((r) => r.date < w.before).at(-1);
    if (!root) continue;
    const l = byRoot.get(root.ruuid) ?? [];
    l.push({ key: `${w.branch}\u0000${w.before}\u0000${w.name}`, name: w.name });
    byRoot.set(root.ruuid, l);
  }
  for (const [ruuid, list] of byRoot)
    for (const part of chunks([...new Set(list.map((l) => l.name))])) {
      const rows = await db.query<{ n: string; e: number; v: string; r: string }>(
        `SELECT pkg_name AS n, any(pkg_epoch) AS e, any(pkg_version) AS v, any(pkg_release) AS r FROM Packages
         WHERE pkg_sourcepackage = 1 AND pkg_name IN (${part.map(quoteString).join(",")}) AND pkg_hash IN
           (${srpmHashesSql(ruuid)})
         GROUP BY pkg_name`,
      );
      const evr = new Map(rows.map((r) => [r.n, `${Number(r.e) ? `${r.e}:` : ""}${r.v}-${r.r}`]));
      for (const l of list) {
        const e = evr.get(l.name);
        if (e) out.set(l.key, e);
      }
    }
  return out;
}

/** One bulletin per branch for its latest complete snapshot: the errata of the packages it added. */
async function bulletins(db: Db, input: ErrataInput): Promise<Wanted[]> {
  if (input.task !== undefined) return [];
  const branches = input.branch
    ? [input.branch]
    : (await db.query<{ b: string }>("SELECT DISTINCT pkgset_nodename AS b FROM PackageSetName WHERE pkgset_depth = 0 AND pkgset_complete = 1")).map((r) => r.b);
  const out: Wanted[] = [];
  for (const s of await addedBySnapshot(db, branches)) {
    if (!s.added.length) continue;
    const w: Wanted = {
      key: "",
      type: "bulletin",
      prefix: "ALT-BU",
      created: s.date,
      refs: [],
      pkg: { hash: 0n, name: "", version: "", release: "" },
      branch: s.branch,
      task: 0,
      subtask: 0,
      state: "",
      added: new Set(s.added),
    };
    w.key = identity(w);
    out.push(w);
  }
  return out;
}

export { noVersion };
