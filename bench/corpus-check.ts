// Self-test of the scale corpus (bench/corpus.ts --self-test): librpm reads a sample of the
// generated packages, python3-rpm reads the pkglist, and the generated shapes are printed
// beside those of the real ALT material in ../shared/corpus-real.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { entryNumbers, getEntry, readHeaderList, readRpm, Tag } from "../tests/fixtures/header-codec.ts";
import type { CorpusManifest } from "./corpus.ts";
import { quantiles } from "./corpus.ts";

const REAL = resolve(import.meta.dir, "..", "..", "shared", "corpus-real");

function sh(argv: string[], stdin?: Uint8Array): { code: number; out: string; bytes: Uint8Array } {
  const r = Bun.spawnSync(argv, { stdin: stdin ?? "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, LC_ALL: "C.UTF-8" } });
  return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString(), bytes: new Uint8Array(r.stdout) };
}

/** Shapes of the real ALT headers (p10 pkglist + ALT-built RPMs), for comparison. */
function realShapes(): Record<string, ReturnType<typeof quantiles>> | undefined {
  try {
    const list = sh(["xz", "-dc", join(REAL, "aptrpm", "p10-x86_64-checkinstall", "base", "pkglist.classic.xz")]).bytes;
    const hs = readHeaderList(list);
    const alt = readdirSync(join(REAL, "rpm", "alt-squidfw")).map((f) => readRpm(new Uint8Array(readFileSync(join(REAL, "rpm", "alt-squidfw", f)))).header);
    const count = (h: { entries: { tag: number; count: number }[] }, t: number) => h.entries.find((e) => e.tag === t)?.count ?? 0;
    return {
      "changelog entries (p10 pkglist + ALT rpms)": quantiles([...hs, ...alt].map((h) => count(h, Tag.CHANGELOGTIME))),
      "requires (p10 pkglist + ALT rpms)": quantiles([...hs, ...alt].map((h) => count(h, Tag.REQUIRENAME))),
      "files (ALT rpms)": quantiles(alt.map((h) => count(h, Tag.BASENAMES))),
      "header bytes (p10 pkglist)": quantiles(hs.map((h) => h.end - h.start)),
    };
  } catch {
    return undefined;
  }
}

export function selfTest(m: CorpusManifest): boolean {
  let ok = true;
  const fail = (msg: string) => ((ok = false), console.log(`FAIL ${msg}`));
  const files = (arch: string) => readdirSync(arch === "src" ? join(m.day1, "files", "SRPMS") : join(m.day1, "files", arch, "RPMS")).map((f) => join(m.day1, "files", arch === "src" ? "SRPMS" : `${arch}/RPMS`, f));
  const all = [...files("src").slice(0, 6), ...files("x86_64").slice(0, 8), ...files("noarch").slice(0, 4)];
  const q = sh(["rpm", "-qp", "--nosignature", "--qf", "%{NAME}-%{VERSION}-%{RELEASE} %{FILENAMES:arraysize}\n", ...all]);
  if (q.code !== 0) fail(`rpm -qp exited ${q.code}: ${q.out.slice(0, 500)}`);
  const names = q.out.trim().split("\n");
  if (names.length !== all.length) fail(`rpm -qp printed ${names.length} lines for ${all.length} packages`);
  all.forEach((f, i) => {
    const base = f.slice(f.lastIndexOf("/") + 1);
    if (!names[i] || !base.startsWith(names[i].split(" ")[0])) fail(`rpm -qp read ${names[i]} from ${base}`);
  });
  const k = sh(["rpm", "-K", "--nosignature", ...all]);
  if (k.code !== 0 || k.out.split("\n").filter((l) => l.includes("digests OK")).length !== all.length) fail(`rpm -K: ${k.out.slice(0, 500)}`);
  const cpio = sh(["cpio", "-it", "--quiet"], sh(["rpm2cpio", all[0]]).bytes);
  if (!/\.spec$/m.test(cpio.out)) fail(`the first source package's payload has no spec: ${cpio.out}`);
  const raw = join(m.dir, "pkglist.selftest");
  writeFileSync(raw, sh(["xz", "-dc", join(m.day1, "x86_64", "base", "pkglist.classic.xz")]).bytes);
  const py = sh(["/usr/bin/python3", "-c", "import rpm,sys; print(len(rpm.readHeaderListFromFile(sys.argv[1])))", raw]);
  rmSync(raw, { force: true });
  const expect = files("x86_64").length;
  if (py.code !== 0) console.log(`python3-rpm not usable (${py.out.trim().split("\n").pop()}): pkglist not checked`);
  else if (Number(py.out.trim()) !== expect) fail(`python3-rpm read ${py.out.trim()} headers from the x86_64 pkglist, ${expect} packages`);
  const h = readRpm(new Uint8Array(readFileSync(all[0]))).header;
  if (entryNumbers(getEntry(h, Tag.SOURCEPACKAGE)!)[0] !== 1) fail("the first source package has no SOURCEPACKAGE");

  console.log(`librpm read ${all.length} sample packages (rpm -qp, rpm -K, rpm2cpio): ${ok ? "ok" : "FAILED"}`);
  const row = (k: string, v: ReturnType<typeof quantiles>) => console.log(`  ${k.padEnd(44)} p50 ${String(v.p50).padStart(6)}  p90 ${String(v.p90).padStart(7)}  p99 ${String(v.p99).padStart(7)}  max ${String(v.max).padStart(8)}  mean ${v.mean}`);
  console.log("generated shapes:");
  for (const [k, v] of Object.entries(m.shapes)) row(k, v);
  const real = realShapes();
  if (real) {
    console.log("real ALT material (small samples):");
    for (const [k, v] of Object.entries(real)) row(k, v);
  }
  console.log(`damaged in bad/: ${m.corrupt.length} (${[...new Set(m.corrupt.map((c) => c.kind))].join(", ")}); day2: ${m.changedSources} sources rebuilt, ${m.day2Packages} packages`);
  return ok;
}
