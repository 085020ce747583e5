/**
 * `verifyRepo`: the database against the files of a snapshot. Every package of the snapshot
 * must be in the package set of the load, and every file's size and digests must match what
 * was stored (PackageHash, Packages.pkg_filesize) and what the lists say.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { quoteString } from "../../db";
import { digestFile, toHex } from "../../hash";
import type { LoadContext } from "../context";
import { InputError } from "../errors";
import { checkFiles } from "./files";
import { readSnapshot } from "./layout";
import { binaryPaths, readListing, type Digests } from "./lists";

export interface VerifyInput {
  branch: string;
  path: string;
  /** Date of the load to check; default: the newest complete load of the branch. */
  date?: string;
}

export interface Difference {
  path: string;
  problem: string;
}

export interface VerifyReport {
  branch: string;
  date: string;
  checked: number;
  differences: Difference[];
}

interface Stored {
  mmh: bigint;
  md5: string;
  sha256: string;
  blake2b: string;
  filesize: bigint | null;
}

export async function verifyRepo(ctx: LoadContext, input: VerifyInput): Promise<VerifyReport> {
  const db = ctx.db;
  const branch = input.branch.toLowerCase();
  const snap = readSnapshot(input.path);
  const listing = await readListing(snap);
  await listing.loadBinarySha256();

  const dateCond = input.date ? `AND toDate(pkgset_date, 'UTC') = toDate(${quoteString(input.date)})` : "";
  const roots = await db.query<{ ruuid: string; date: string }>(
    `SELECT toString(pkgset_ruuid) AS ruuid, toString(toDate(pkgset_date, 'UTC')) AS date FROM PackageSetName
     WHERE pkgset_depth = 0 AND pkgset_nodename = ${quoteString(branch)} AND pkgset_complete = 1 ${dateCond}
     ORDER BY pkgset_date DESC LIMIT 1`,
  );
  if (!roots.length) throw new InputError(`no complete load of ${branch}${input.date ? ` on ${input.date}` : ""} in the database`);
  const { ruuid, date } = roots[0];
  const members = new Set(
    (
      await db.query<{ h: bigint }>(
        `SELECT DISTINCT pkg_hash AS h FROM PackageSet WHERE pkgset_uuid IN (SELECT pkgset_uuid FROM PackageSetName WHERE pkgset_ruuid = toUUID(${quoteString(ruuid)}))`,
      )
    ).map((r) => r.h),
  );

  const files: { path: string; listed: Digests }[] = [];
  for (const [name, d] of listing.sources) files.push({ path: join(snap.root, "files", "SRPMS", name), listed: d });
  for (const [name, path] of binaryPaths(snap.root, listing)) files.push({ path, listed: listing.binaries.get(name) ?? {} });

  const differences: Difference[] = listing.rejected.map((r) => ({ path: `${r.list}: ${r.entry}`, problem: r.error }));
  // a file that is missing, not regular, outside the root or of another size than listed is not opened
  const problems = checkFiles(snap.root, files.map((f) => ({ path: f.path, size: f.listed.size })));
  const computed: { path: string; md5: string; sha256: string; blake2b: string; size: number }[] = [];
  let next = 0;
  const work = async () => {
    while (next < files.length) {
      const f = files[next++];
      const problem = problems.get(f.path);
      if (problem) {
        differences.push({ path: f.path, problem });
        continue;
      }
      try {
        const size = statSync(f.path).size;
        const d = await digestFile(f.path, ["md5", "sha256", "blake2b"]);
        const c = { path: f.path, md5: toHex(d.md5), sha256: toHex(d.sha256), blake2b: toHex(d.blake2b), size };
        computed.push(c);
        for (const k of ["md5", "sha256", "blake2b"] as const) {
          const listed = f.listed[k];
          if (listed && toHex(listed) !== c[k]) differences.push({ path: f.path, problem: `${k} in the snapshot's lists is ${toHex(listed)}, the file has ${c[k]}` });
        }
      } catch (e) {
        differences.push({ path: f.path, problem: `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      }
      ctx.progress?.({ phase: "verify", done: computed.length, total: files.length });
    }
  };
  await Promise.all(Array.from({ length: 4 }, work));

  const stored = new Map<string, Stored>();
  for (let i = 0; i < computed.length; i += 10_000) {
    const part = computed.slice(i, i + 10_000).map((c) => `unhex('${c.md5}')`);
    const rows = await db.query<Stored>(
      `SELECT H.pkgh_mmh AS mmh, lower(hex(H.pkgh_md5)) AS md5, lower(hex(H.pkgh_sha256)) AS sha256, lower(hex(H.pkgh_blake2b)) AS blake2b,
              (SELECT max(pkg_filesize) FROM Packages WHERE pkg_hash = H.pkgh_mmh) AS filesize
       FROM PackageHash AS H WHERE H.pkgh_md5 IN (${part.join(", ")})`,
      { settings: { max_query_size: 64 * 1024 * 1024 } },
    ).catch(async () =>
      // older servers without correlated subqueries: sizes from a join
      db.query<Stored>(
        `SELECT H.pkgh_mmh AS mmh, lower(hex(H.pkgh_md5)) AS md5, lower(hex(H.pkgh_sha256)) AS sha256, lower(hex(H.pkgh_blake2b)) AS blake2b, P.s AS filesize
         FROM PackageHash AS H LEFT JOIN (SELECT pkg_hash, max(pkg_filesize) AS s FROM Packages GROUP BY pkg_hash) AS P ON P.pkg_hash = H.pkgh_mmh
         WHERE H.pkgh_md5 IN (${part.join(", ")})`,
        { settings: { max_query_size: 64 * 1024 * 1024 } },
      ),
    );
    for (const r of rows) stored.set(r.md5, r);
  }

  for (const c of computed) {
    const s = stored.get(c.md5);
    if (!s) {
      differences.push({ path: c.path, problem: "not in the database (no PackageHash row with this file's MD5)" });
      continue;
    }
    if (!members.has(s.mmh)) differences.push({ path: c.path, problem: `package ${s.mmh} is not in the package set of ${branch} ${date}` });
    if (s.sha256 !== c.sha256 && !/^0+$/.test(s.sha256)) differences.push({ path: c.path, problem: `sha256 stored ${s.sha256}, file has ${c.sha256}` });
    if (s.blake2b !== c.blake2b && !/^0+$/.test(s.blake2b)) differences.push({ path: c.path, problem: `blake2b stored ${s.blake2b}, file has ${c.blake2b}` });
    if (s.filesize !== null && s.filesize !== undefined && Number(s.filesize) !== 0 && Number(s.filesize) !== c.size) {
      differences.push({ path: c.path, problem: `size stored ${s.filesize}, file has ${c.size}` });
    }
  }
  differences.sort((a, b) => a.path.localeCompare(b.path));
  return { branch, date, checked: files.length, differences };
}
