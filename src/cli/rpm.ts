/** `altrepodb rpm dump FILE… [--json]`: show what the RPM library reads from packages and apt lists. */
import { defineCommand, runCommand } from "citty";
import { type DumpedPackage, type DumpError, dumpPath, formatDump, isDumpError } from "../rpm/index.ts";
import { RunFailed } from "./errors";

const dump = defineCommand({
  meta: {
    name: "dump",
    description: "Print every field of .rpm files and of pkglist/srclist headers (plain or compressed)",
  },
  args: {
    files: { type: "positional", description: "Package files or apt header lists", required: true },
    json: { type: "boolean", description: "One JSON object per package / list entry, one per line" },
  },
  async run({ args }) {
    // `altrepodb rpm dump … | head`: the reader went away, stop quietly
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
    try {
      const rest = args._ as string[];
      await dumpFiles(rest.length ? rest : [String(args.files)], Boolean(args.json));
    } catch (e) {
      // `altrepodb rpm dump … | head`: the reader went away, stop quietly
      if ((e as NodeJS.ErrnoException)?.code !== "EPIPE") throw e;
    }
  },
});

function print(d: DumpedPackage | DumpError, json: boolean, first: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify(d)}\n`);
  else if (isDumpError(d)) process.stderr.write(`${d.path}: ${d.error}${d.offset === undefined ? "" : ` (at byte ${d.offset})`}\n`);
  else process.stdout.write(`${first ? "" : "\n"}== ${d.path}${d.offset === undefined ? "" : ` @${d.offset}`}\n${formatDump(d)}\n`);
}

/** Dump every file; exit status 1 (RunFailed) when any of them could not be read completely. */
async function dumpFiles(files: string[], json: boolean): Promise<void> {
  let failed = 0;
  let printed = 0;
  for (const file of files) {
    let ok = true;
    for await (const d of dumpPath(file)) {
      if (isDumpError(d)) ok = false;
      print(d, json, printed++ === 0);
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

// Standalone use during development: `bun src/cli/rpm.ts dump FILE…` (the real entry is main.ts).
if (import.meta.main) {
  runCommand(rpm, { rawArgs: process.argv.slice(2) }).catch((e: unknown) => {
    process.stderr.write(`altrepodb rpm: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(e instanceof RunFailed ? e.code : 2);
  });
}
