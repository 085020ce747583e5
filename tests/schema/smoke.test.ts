/**
 * Behaviour of the server-side parts of the schema: the _insert fan-out tables, the materialized
 * views and the views the API reads, on small hand-made data. Hash vectors: RTL §6.1.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import type { Db } from "../../src/db";
import { migrate } from "../../src/db/migrations";
import { mmhash } from "../../src/hash";
import { testDb } from "../helpers/db";

let db: Db;
const q = <T = Record<string, unknown>>(sql: string) => db.query<T>(sql);
const run = (sql: string) => db.command(sql);

beforeAll(async () => {
  db = await testDb("smoke");
  await migrate(db);
});

describe("Files_insert fan-out (RTL §1.7 step 2)", () => {
  test("one row gives Files and FileNames rows with the reference hashes", async () => {
    await run(`INSERT INTO Files_insert (pkg_hash, file_name, file_linkto, file_md5, file_size, file_mode, file_rdev, file_mtime,
                 file_flag, file_username, file_groupname, file_verifyflag, file_device, file_lang, file_class)
               VALUES (42, '/usr/bin/bash', '', unhex('00112233445566778899aabbccddeeff'), 1234, 33261, 0, 1600000000,
                 0, 'root', 'root', 4294967295, 1, '', 'file')`);
    expect(await q(`SELECT pkg_hash, file_hashname, file_hashdir, file_size, file_mode, hex(file_md5) AS md5, file_class FROM Files`)).toEqual([
      {
        pkg_hash: 42n,
        file_hashname: 10649140527766535634n,
        file_hashdir: 18015308893723861606n,
        file_size: 1234,
        file_mode: 33261,
        md5: "00112233445566778899AABBCCDDEEFF",
        file_class: "file",
      },
    ]);
    expect(await q(`SELECT fn_name, fn_hash FROM FileNames ORDER BY fn_name`)).toEqual([
      { fn_name: "/usr/bin", fn_hash: 18015308893723861606n },
      { fn_name: "/usr/bin/bash", fn_hash: 10649140527766535634n },
    ]);
    // nothing stays in the Null table, nothing waits in a buffer
    expect(await q(`SELECT count() AS n FROM Files_insert`)).toEqual([{ n: 0n }]);
    expect(await q(`SELECT file_name, pkg_hash FROM Files_view`)).toEqual([{ file_name: "/usr/bin/bash", pkg_hash: 42n }]);
  });

  test("a name without a directory has file_hashdir 0 and an empty FileNames row (RTL §8.3)", async () => {
    await run(`INSERT INTO Files_insert (pkg_hash, file_name) VALUES (43, 'foo.spec')`);
    expect(await q(`SELECT file_hashname, file_hashdir FROM Files WHERE pkg_hash = 43`)).toEqual([
      { file_hashname: mmhash("foo.spec"), file_hashdir: 0n },
    ]);
    expect(await q(`SELECT fn_hash FROM FileNames WHERE fn_name = ''`)).toEqual([{ fn_hash: 0n }]);
  });
});

describe("other server-side derivations", () => {
  test("Specfiles_insert decodes base64 byte-exact into Specfiles (RTL §1.7.2)", async () => {
    await run(`INSERT INTO Specfiles_insert VALUES (7, 'foo', 0, '1.0', 'alt1', 'foo.spec', 1600000000, base64Encode(unhex('fffe610a')))`);
    expect(await q(`SELECT pkg_hash, specfile_name, hex(specfile_content) AS content FROM Specfiles`)).toEqual([
      { pkg_hash: 7n, specfile_name: "foo.spec", content: "FFFE610A" },
    ]);
  });

  test("TaskChroots.tch_hash is the server's murmurHash3_64 of the array", async () => {
    await run(`INSERT INTO TaskChroots (tch_chroot) VALUES ([13720803726858584048, 1, 2])`);
    const [row] = await q<{ ok: number }>(
      `SELECT tch_hash = murmurHash3_64([13720803726858584048, 1, 2]) AS ok FROM TaskChroots`,
    );
    expect(row.ok).toBe(1);
  });

  test("ErrataHistory version columns and the errata functions", async () => {
    await run(`INSERT INTO ErrataHistory (* EXCEPT (ts, eh_json)) VALUES
               ('ALT-PU-2023-1234-2', now(), now(), 1, 'task', 'changelog', ['vuln'], ['CVE-2023-0001'], 5, 'foo', '1.0', 'alt1', 'p10', 1, 100, 'DONE')`);
    expect(
      await q(`SELECT errata_id_noversion AS nv, errata_id_version AS v, extractErrataIdNoVersion(errata_id) AS f_nv,
                      extractErrataIdVersion(errata_id) AS f_v, eh_json FROM ErrataHistory`),
    ).toEqual([{ nv: "ALT-PU-2023-1234", v: 2, f_nv: "ALT-PU-2023-1234", f_v: 2, eh_json: "" }]);

    await run(`INSERT INTO ErrataChangeHistory (* EXCEPT ts) VALUES
               ('ALT-EC-2023-1-1', now(), now(), 'u', '127.0.0.1', '{}', 'discard', 'manual', 'parent', 'ALT-PU-2023-1234-3', generateUUIDv4())`);
    expect(await q(`SELECT errata_id FROM last_discarded_erratas`)).toEqual([{ errata_id: "ALT-PU-2023-1234-3" }]);
  });

  test("errata user functions resolve aliases", async () => {
    await run(`INSERT INTO ErrataUsersAliases (user, aliases) VALUES ('alice', ['al', 'alice.l'])`);
    expect(
      await q(`SELECT get_errata_user_original_name('al') AS a, get_errata_user_original_name('bob') AS b,
                      get_errata_user_aliases('al') AS c, get_errata_user_aliases('bob') AS d`),
    ).toEqual([{ a: "alice", b: "bob", c: ["alice", "al", "alice.l"], d: ["bob"] }]);
  });

  test("ACL views expand groups (FID §2.1, SNT §3.3)", async () => {
    await run(`INSERT INTO Acl VALUES ('2024-01-01 00:00:00', 'foo', 'sisyphus', ['@python', 'ivan']),
                                      ('2024-01-01 00:00:00', '@python', 'sisyphus', ['ns', 'ldv'])`);
    expect(await q(`SELECT acl_for, acl_list FROM last_acl ORDER BY acl_for`)).toEqual([
      { acl_for: "@python", acl_list: ["ns", "ldv"] },
      { acl_for: "foo", acl_list: ["@python", "ivan"] },
    ]);
    expect(await q(`SELECT acl_user, order_u, order_g FROM last_acl_with_groups WHERE pkgname = 'foo' ORDER BY order_u, order_g`)).toEqual([
      { acl_user: "ns", order_u: 1, order_g: 1 },
      { acl_user: "ldv", order_u: 1, order_g: 2 },
      { acl_user: "ivan", order_u: 2, order_g: 0 },
    ]);
  });
});

// ------------------------------------------------------------------ packages, snapshots, images, tasks

const U = (n: number) => `00000000-0000-0000-0000-${n.toString().padStart(12, "0")}`;
const ZERO = U(0);

function pkgRow(h: number, name: string, arch: string, src: number, srcrpm: string, srcHash: number, size: number, chlog: string) {
  return `(${h}, '${name}', '${arch}', '1.0', 'alt1', ${src}, '${srcrpm}', ${srcHash}, ${size}, 1700000000, ${chlog})`;
}
const PKG_COLS = `pkg_hash, pkg_name, pkg_arch, pkg_version, pkg_release, pkg_sourcepackage, pkg_sourcerpm, pkg_srcrpm_hash,
  pkg_filesize, pkg_buildtime, pkg_changelog.date, pkg_changelog.name, pkg_changelog.evr, pkg_changelog.hash`;
const FOO_CHLOG = `[1704153600, 1704067200], ['Ivan Ivanov <ivan@altlinux.org> 1.0-alt1', 'Ivan Ivanov <ivan at altlinux.org> 0.9-alt1'], ['1.0-alt1', '0.9-alt1'], [11, 12]`;
const NO_CHLOG = `[], [], [], []`;

function psn(uuid: string, puuid: string, ruuid: string, depth: number, name: string, date: string, tag: string, kv: Record<string, string>) {
  const k = Object.keys(kv).map((x) => `'${x}'`).join(", ");
  const v = Object.values(kv).map((x) => `'${x}'`).join(", ");
  return `INSERT INTO PackageSetName VALUES ('${uuid}', '${puuid}', '${ruuid}', ${depth}, '${name}', '${date}', '${tag}', 1, [${k}], [${v}])`;
}

/** A repository snapshot: srpm node, one arch with one component, root last (RTL §2.13). */
async function loadSnapshot(base: number, date: string, src: number[], bin: number[]) {
  const [root, srpm, arch, comp] = [U(base), U(base + 1), U(base + 2), U(base + 3)];
  await run(`INSERT INTO PackageSet VALUES ${src.map((h) => `('${srpm}', ${h})`).join(", ")}`);
  await run(psn(srpm, root, root, 1, "srpm", date, "", { depth: "1", type: "srpm", size: String(src.length), class: "repository", repo: "sisyphus" }));
  await run(psn(arch, root, root, 1, "x86_64", date, "", { depth: "1", type: "arch", size: "0", class: "repository", path: "x86_64", repo: "sisyphus" }));
  await run(`INSERT INTO PackageSet VALUES ${bin.map((h) => `('${comp}', ${h})`).join(", ")}`);
  await run(psn(comp, arch, root, 2, "classic", date, "", { depth: "2", type: "comp", size: String(bin.length), class: "repository", path: "x86_64/RPMS.classic", repo: "sisyphus" }));
  await run(psn(root, ZERO, root, 0, "sisyphus", date, "", { depth: "0", type: "repo", size: "3", class: "repository", task: "283337", archs: "x86_64", comps: "classic" }));
  return { root, srpm, comp };
}

describe("packages and the views over them", () => {
  let second: { root: string; srpm: string; comp: string };

  beforeAll(async () => {
    // Changelog before Packages (RTL §8.5)
    await run(`INSERT INTO Changelog VALUES (11, 'text one'), (12, 'text zero'), (21, 'bar text')`);
    await run(`INSERT INTO Packages (${PKG_COLS}) VALUES
      ${pkgRow(1001, "foo", "x86_64", 1, "foo-1.0-alt1.src.rpm", 1001, 5000, FOO_CHLOG)},
      ${pkgRow(1002, "foo", "x86_64", 0, "foo-1.0-alt1.src.rpm", 1001, 1000, FOO_CHLOG)},
      ${pkgRow(1003, "libfoo", "noarch", 0, "foo-1.0-alt1.src.rpm", 1001, 300, NO_CHLOG)},
      ${pkgRow(1005, "bar", "x86_64", 1, "bar-2-alt1.src.rpm", 1005, 700, `[1704067200], ['Joe <joe@altlinux.org> 2-alt1'], ['2-alt1'], [21]`)}`);
    await loadSnapshot(100, "2024-01-10 00:00:00", [1001, 1005], [1002, 1003]);
    second = await loadSnapshot(200, "2024-01-11 00:00:00", [1001], [1002]);
  });

  test("SrcPackagesLastChangelog gets the newest entry of source packages", async () => {
    expect(await q(`SELECT pkg_hash, chlog_nick, chlog_evr, chlog_text FROM SrcPackagesLastChangelog ORDER BY pkg_hash`)).toEqual([
      { pkg_hash: 1001n, chlog_nick: "ivan", chlog_evr: "1.0-alt1", chlog_text: "text one" },
      { pkg_hash: 1005n, chlog_nick: "joe", chlog_evr: "2-alt1", chlog_text: "bar text" },
    ]);
  });

  test("PackagesSourceAndBinaries pairs source and binary names", async () => {
    expect(await q(`SELECT src_pkg_name, bin_pkg_name, max(buildtime) AS t FROM PackagesSourceAndBinaries
                    GROUP BY src_pkg_name, bin_pkg_name ORDER BY src_pkg_name, bin_pkg_name`)).toEqual([
      { src_pkg_name: "bar", bin_pkg_name: "bar", t: 1700000000 },
      { src_pkg_name: "foo", bin_pkg_name: "foo", t: 1700000000 },
      { src_pkg_name: "foo", bin_pkg_name: "libfoo", t: 1700000000 },
    ]);
  });

  test("PackageChangelog_view lists the changelog newest first", async () => {
    expect(await q(`SELECT changelog FROM PackageChangelog_view WHERE pkg_hash = 1001`)).toEqual([
      {
        changelog: [
          ["2024-01-02", "Ivan Ivanov <ivan@altlinux.org> 1.0-alt1", "1.0-alt1", "text one"],
          ["2024-01-01", "Ivan Ivanov <ivan at altlinux.org> 0.9-alt1", "0.9-alt1", "text zero"],
        ],
      },
    ]);
  });

  test("a repository root fills StaticLastPackages with exactly its packages (RTL §2.11, §8.7)", async () => {
    expect(await q(`SELECT toString(pkgset_date) AS d, groupArray(pkg_hash) AS h FROM
                      (SELECT * FROM StaticLastPackages ORDER BY pkg_hash) GROUP BY d ORDER BY d`)).toEqual([
      { d: "2024-01-10 00:00:00", h: [1001n, 1002n, 1003n, 1005n] },
      { d: "2024-01-11 00:00:00", h: [1001n, 1002n] },
    ]);
    expect(await q(`SELECT pkgset_name, pkg_hash FROM static_last_packages ORDER BY pkg_hash`)).toEqual([
      { pkgset_name: "sisyphus", pkg_hash: 1001n },
      { pkgset_name: "sisyphus", pkg_hash: 1002n },
    ]);
  });

  test("last_packages, last_pkgset, lv_pkgset_stat and lv_repository_statistics show the newest snapshot", async () => {
    expect(await q(`SELECT pkg_hash, pkg_cs, pkgset_name FROM last_packages ORDER BY pkg_hash`)).toEqual([
      { pkg_hash: 1001n, pkg_cs: "0".repeat(40), pkgset_name: "sisyphus" },
      { pkg_hash: 1002n, pkg_cs: "0".repeat(40), pkgset_name: "sisyphus" },
    ]);
    expect(await q(`SELECT pkgset_nodename, pkgset_pname, pkg_hash FROM last_pkgset ORDER BY pkg_hash`)).toEqual([
      { pkgset_nodename: "srpm", pkgset_pname: "sisyphus", pkg_hash: 1001n },
      { pkgset_nodename: "classic", pkgset_pname: "x86_64", pkg_hash: 1002n },
    ]);
    expect(await q(`SELECT pkgset_name, toString(pkgset_date) AS d, pkg_arch, cnt FROM lv_pkgset_stat ORDER BY pkg_arch`)).toEqual([
      { pkgset_name: "sisyphus", d: "2024-01-11 00:00:00", pkg_arch: "srpm", cnt: 1n },
      { pkgset_name: "sisyphus", d: "2024-01-11 00:00:00", pkg_arch: "x86_64", cnt: 1n },
    ]);
    expect(await q(`SELECT branch, toString(branch_date) AS d, stats FROM lv_repository_statistics`)).toEqual([
      {
        branch: "sisyphus",
        d: "2024-01-11 00:00:00",
        stats: [
          ["srpm", "srpm", 1n, 5000n, second.srpm],
          ["x86_64", "classic", 1n, 1000n, second.comp],
        ],
      },
    ]);
    expect(await q(`SELECT pkg_hash, sourcepkgname, pkgset_name FROM last_packages_with_source`)).toEqual([
      { pkg_hash: 1002n, sourcepkgname: "foo", pkgset_name: "sisyphus" },
    ]);
  });

  test("an image root fills ImagePackageSetName, not StaticLastPackages (FID §1.6.3)", async () => {
    const [root, rpms] = [U(300), U(301)];
    const tag = "p10:alt-workstation:::release.10.0.0:x86_64:install:iso";
    await run(`INSERT INTO PackageSet VALUES ('${rpms}', 1002), ('${rpms}', 1003)`);
    await run(psn(rpms, root, root, 1, "rpms", "2024-02-01 00:00:00", tag, { type: "rpms", size: "2", class: "iso", branch: "p10" }));
    await run(
      psn(root, ZERO, root, 0, "alt-workstation", "2024-02-01 00:00:00", tag, {
        type: "iso", size: "123", class: "iso", branch: "p10", arch: "x86_64", date: "2024-02-01T00:00:00",
        url: "http://example.org/alt.iso", file: "alt.iso", flavor: "", edition: "alt-workstation", variant: "install",
        platform: "", release: "release", version_major: "10", version_minor: "0", version_sub: "0", image_type: "iso",
      }),
    );
    expect(await q(`SELECT img_tag, img_branch, img_edition, img_version_major, img_type, img_kv FROM ImagePackageSetName`)).toEqual([
      {
        img_tag: tag,
        img_branch: "p10",
        img_edition: "alt-workstation",
        img_version_major: 10,
        img_type: "iso",
        img_kv: { type: "iso", size: "123", class: "iso", date: "2024-02-01T00:00:00", url: "http://example.org/alt.iso", file: "alt.iso" },
      },
    ]);
    expect(await q(`SELECT count() AS n FROM StaticLastPackages WHERE pkgset_name = 'alt-workstation'`)).toEqual([{ n: 0n }]);
    expect(await q(`SELECT pkg_hash, pkg_name, img_file, img_edition, toString(pkgset_uuid) AS u FROM lv_all_image_packages ORDER BY pkg_hash`)).toEqual([
      { pkg_hash: 1002n, pkg_name: "foo", img_file: "alt.iso", img_edition: "alt-workstation", u: root },
      { pkg_hash: 1003n, pkg_name: "libfoo", img_file: "alt.iso", img_edition: "alt-workstation", u: root },
    ]);
    expect(await q(`SELECT img_branch FROM lv_image_packageset`)).toEqual([{ img_branch: "p10" }]);
  });

  test("a DONE task fills BranchPackageHistory; deleted sources show in lv_branch_deleted_packages", async () => {
    // task 283337 try 1 iter 1: plan hashes are RTL §6.1 vectors
    const X86 = 6677940499402230174n;
    const SRC = 15636151493847624852n;
    const sha = (c: string) => `unhex('${c.repeat(64)}')`;
    await run(`INSERT INTO Tasks (task_id, subtask_id, task_repo, task_owner, task_changed, subtask_changed, subtask_type)
               VALUES (283337, 100, 'sisyphus', 'ivan', '2024-01-20 10:00:00', '2024-01-20 09:00:00', 'gear')`);
    await run(`INSERT INTO TaskIterations (task_id, task_changed, subtask_id, subtask_arch, titer_ts, titer_status, task_try, task_iter)
               VALUES (283337, '2024-01-20 10:00:00', 100, 'x86_64', '2024-01-20 09:30:00', 'built', 1, 1)`);
    await run(`INSERT INTO PackageHash (pkgh_mmh, pkgh_sha256) VALUES (1001, ${sha("a")}), (1002, ${sha("b")}), (1005, ${sha("c")})`);
    await run(`INSERT INTO TaskPlanPkgHash VALUES (${SRC}, 'add', ${sha("a")}), (${X86}, 'add', ${sha("b")}), (${SRC}, 'delete', ${sha("c")})`);
    // before the task is DONE the view has nothing for it
    expect(await q(`SELECT count() AS n FROM task_plan_hashes`)).toEqual([{ n: 0n }]);
    await run(`INSERT INTO TaskStates (task_changed, task_id, task_state, task_try, task_message)
               VALUES ('2024-01-20 10:00:00', 283337, 'DONE', 1, 'done')`);

    const hashes = await q<{ tplan_hash: bigint; tplan_arch: string }>(`SELECT tplan_hash, tplan_arch FROM task_plan_hashes ORDER BY tplan_arch`);
    expect(hashes.find((h) => h.tplan_arch === "x86_64")?.tplan_hash).toBe(X86);
    expect(hashes.find((h) => h.tplan_arch === "src")?.tplan_hash).toBe(SRC);

    expect(await q(`SELECT pkgset_name, task_id, tplan_action, pkg_hash, pkg_name, pkg_sourcepackage, chlog_nick, chlog_text
                    FROM BranchPackageHistory ORDER BY pkg_hash`)).toEqual([
      { pkgset_name: "sisyphus", task_id: 283337, tplan_action: "add", pkg_hash: 1001n, pkg_name: "foo", pkg_sourcepackage: 1, chlog_nick: "ivan", chlog_text: "text one" },
      { pkgset_name: "sisyphus", task_id: 283337, tplan_action: "add", pkg_hash: 1002n, pkg_name: "foo", pkg_sourcepackage: 0, chlog_nick: "ivan", chlog_text: "text one" },
      { pkgset_name: "sisyphus", task_id: 283337, tplan_action: "delete", pkg_hash: 1005n, pkg_name: "bar", pkg_sourcepackage: 1, chlog_nick: "joe", chlog_text: "bar text" },
    ]);
    expect(await q(`SELECT pkgset_name, pkg_name, hash, task, toString(changed) AS changed FROM lv_branch_deleted_packages`)).toEqual([
      { pkgset_name: "sisyphus", pkg_name: "bar", hash: 1005n, task: 283337, changed: "2024-01-20 10:00:00" },
    ]);

    // a state other than DONE adds nothing
    await run(`INSERT INTO TaskStates (task_changed, task_id, task_state) VALUES ('2024-01-21 10:00:00', 283338, 'EPERM')`);
    expect(await q(`SELECT count() AS n FROM BranchPackageHistory`)).toEqual([{ n: 3n }]);
  });
});
