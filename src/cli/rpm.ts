/** `altrepodb rpm dump FILE… [--json]`: show what the RPM library reads from packages and apt lists. */
import { statSync } from "node:fs";
import { basename } from "node:path";
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { type DumpedPackage, type DumpError, dumpPath, formatDump, isDumpError } from "../rpm/index.ts";
import { RunFailed } from "./errors";

const dump = defineCommand({
  meta: {
    name: "dump",
    description: "Print every field of .rpm files and of pkglist/srclist headers (plain or compressed)",
    examples: ["altrepodb rpm dump foo-1.0-alt1.x86_64.rpm", "altrepodb rpm dump --json x86_64/base/pkglist.classic.xz"],
    rest: "repeat",
  },
  args: {
    files: { type: "positional", description: "Package files or apt header lists", required: true },
    json: { type: "boolean", description: "One JSON object per package / list entry, one per line" },
  },
  async run({ args }) {
    const rest = args._ as string[];
    await dumpFiles(rest.length ? rest : [String(args.files)], Boolean(args.json));
  },
});

function print(d: DumpedPackage | DumpError, json: boolean, first: boolean): void {
  if (json) process.stdout.write(`${jsonText(d)}\n`);
  else if (isDumpError(d)) process.stderr.write(`${d.path}: ${d.error}${d.offset === undefined ? "" : ` (at byte ${d.offset})`}\n`);
  else process.stdout.write(`${first ? "" : "\n"}== ${d.path}${d.offset === undefined ? "" : ` @${d.offset}`}\n${formatDump(d)}\n`);
}

function emptyReason(file: string): string | undefined {
  try {
    return statSync(file).size === 0 && statSync(file).isFile() ? "empty file (0 bytes): not an RPM package or header list" : undefined;
  } catch {
    return undefined; // dumpPath names the error
  }
}

/** Dump every file; exit status 1 (RunFailed) when any of them could not be read completely. */
async function dumpFiles(files: string[], json: boolean): Promise<void> {
  let failed = 0;
  let printed = 0;
  for (const file of files) {
    let ok = true;
    let entries = 0;
    const empty = emptyReason(file);
    const items = empty ? [{ path: file, error: empty } as DumpError] : dumpPath(file);
    for await (const d of items) {
      entries++;
      if (isDumpError(d)) ok = false;
      print(d, json, printed++ === 0);
    }
    // an apt list may hold no header; anything else must hold a package
    if (entries === 0 && !/^(pkglist|srclist)\./.test(basename(file))) {
      ok = false;
      print({ path: file, error: "no RPM header in it: neither a package nor a pkglist/srclist" } as DumpError, json, printed++ === 0);
    }
    if (!ok) failed++;
  }
  if (failed) throw new RunFailed(`${failed} of ${files.length} files could not be read completely`);
}

const rpm = defineCommand({
  meta: { name: "rpm", description: "Inspect RPM packages and apt-rpm header lists" },
  subCommands: { dump, vercmp: () => import("./rpm-vercmp").then((m) => m.default) },
});

export default rpm;

// Standalone use during development: `bun src/cli/rpm.ts dump FILE…` is `altrepodb rpm dump FILE…`.
// (not a top-level await: main imports this module again to run the command)
if (import.meta.main) {
  void (async () => {
    const { run } = await import("./main");
    const { finishOutput, quietOnClosedPipe } = await import("./output");
    quietOnClosedPipe();
    const code = await run(["rpm", ...process.argv.slice(2)]);
    await finishOutput();
    process.exit(code);
  })();
}
