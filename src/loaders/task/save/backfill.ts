/**
 * The Depends file back-fill (reference _update_dependencies_table, §3.6 step 9): for every
 * required name that no package provides, is not `rpmlib(...)`, and is the path of a packaged
 * file, add a `provide` row (version "", flag 0) for each package shipping that file.
 *
 * The reference ran this over the WHOLE database after every task load (P-depends-global).
 * Modes:
 * - "task" (default): the same statement restricted to the names the task can change — the
 *   requirements of the task's packages and the files they ship. On a database that was
 *   back-filled before, it adds exactly the rows the full statement would add, and its cost
 *   follows the task's size (index lookups on Depends.dp_name and FileNames.fn_name; one read
 *   of Files.file_hashname only when a candidate name exists);
 * - "full": the reference's whole-database statement;
 * - "off": nothing (e.g. a bulk import that runs one "full" pass at the end).
 * Rows go straight to Depends, as in the reference. Running it twice adds nothing: a back-filled
 * name is provided, so it is no longer a candidate.
 */
import { quoteIntList, type Db } from "../../../db";

export type BackfillMode = "task" | "full" | "off";

const FULL = `
INSERT INTO Depends (pkg_hash, dp_name, dp_version, dp_flag, dp_type)
WITH
    unmet_file_depends AS
    (
        SELECT DISTINCT dp_name FROM Depends
        WHERE dp_type = 'require' AND dp_name NOT IN (SELECT dp_name FROM Depends WHERE dp_type = 'provide') AND dp_name NOT LIKE 'rpmlib%'
    ),
    file_names_hash AS
    (
        SELECT DISTINCT fn_hash, fn_name FROM FileNames WHERE fn_name IN (SELECT * FROM unmet_file_depends)
    )
SELECT pkg_hash, UDF.fn_name AS dp_name, '' AS dp_version, 0 AS dp_flag, 'provide' AS dp_type
FROM Files INNER JOIN (SELECT * FROM file_names_hash) AS UDF ON UDF.fn_hash = Files.file_hashname`;

/** Names the task's packages could have made unmet or met: their requirements and their files. */
function candidatesSql(pkgs: string): string {
  return `(
    SELECT dp_name FROM Depends WHERE pkg_hash IN ${pkgs} AND dp_type = 'require' AND dp_name NOT LIKE 'rpmlib%'
    UNION DISTINCT
    SELECT fn_name FROM FileNames WHERE fn_hash IN (SELECT file_hashname FROM Files WHERE pkg_hash IN ${pkgs})
  )`;
}

export async function backfillDepends(db: Db, mode: BackfillMode, pkgHashes: readonly bigint[]): Promise<void> {
  if (mode === "off") return;
  if (mode === "full") {
    await db.command(FULL);
    return;
  }
  const hashes = [...new Set(pkgHashes)].filter((h) => h !== 0n);
  if (hashes.length === 0) return;
  const pkgs = quoteIntList(hashes);
  const settings = { max_query_size: 64 * 1024 * 1024 };
  // unmet candidates that are file names; usually none, and then nothing else is read
  const unmet = await db.query<{ n: string; h: bigint }>(
    `WITH cand AS ${candidatesSql(pkgs)}
     SELECT DISTINCT fn_name AS n, fn_hash AS h FROM FileNames
     WHERE fn_name IN (
        SELECT DISTINCT dp_name FROM Depends
        WHERE dp_name IN cand AND dp_type = 'require' AND dp_name NOT LIKE 'rpmlib%'
          AND dp_name NOT IN (SELECT dp_name FROM Depends WHERE dp_name IN cand AND dp_type = 'provide')
     )`,
    { settings },
  );
  if (unmet.length === 0) return;
  await db.command(
    `INSERT INTO Depends (pkg_hash, dp_name, dp_version, dp_flag, dp_type)
     SELECT pkg_hash, UDF.fn_name, '', 0, 'provide'
     FROM Files INNER JOIN (SELECT DISTINCT fn_hash, fn_name FROM FileNames WHERE fn_hash IN ${quoteIntList(unmet.map((u) => u.h))}) AS UDF
       ON UDF.fn_hash = Files.file_hashname`,
    { settings },
  );
}
