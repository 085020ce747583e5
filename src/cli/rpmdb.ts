/** `altrepodb rpmdb dump PATH [--json]`: every package of an rpm database, as `rpm dump` shows a package. */
import { defineCommand } from "citty";
import { dumpPackage, formatDump, type RpmPackage } from "../rpm/index.ts";
import { openRpmdb, type RpmdbRecord } from "../rpmdb/index.ts";
import { RunFailed, UsageError } from "./errors";

const dump = defineCommand({
  meta: {
    name: "dump",
    description: "Print every package of an rpm database (Berkeley DB Packages, NDB Packages.db or rpmdb.sqlite; a file or its directory)",
    examples: ["altrepodb rpmdb dump /var/lib/rpm", "altrepodb rpmdb dump --json image-root/usr/lib/sysimage/rpm/rpmdb.sqlite"],
  },
  args: {
    path: { type: "positional", description: "The database file or the directory holding it (e.g. /var/lib/rpm)", required: true },
    json: { type: "boolean", description: "One JSON object per package, one per line" },
  },
  async run({ args }) {
    const rest = args._ as string[];
    if (rest.length > 1) throw new UsageError(`rpmdb dump takes one database, got ${rest.length} paths`);
    // `altrepodb rpmdb dump … | head`: the reader went away, stop quietly
    process.stdout.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(0);
      throw e;
    });
    await dumpRpmdb(String(args.path), Boolean(args.json));
  },
});

/** Print every record; RunFailed (exit 1) when a record could not be read. */
async function dumpRpmdb(path: string, json: boolean): Promise<void> {
  const db = openRpmdb(path);
  let failed = 0;
  let printed = 0;
  try {
    for await (const r of db.records()) {
      if (!r.package) {
        failed++;
        if (json) await print(process.stdout, `${JSON.stringify({ path: db.path, key: r.key, where: r.where, error: r.error?.message, code: r.error?.code })}\n`);
        await print(process.stderr, `${r.error?.message}\n`);
        continue;
      }
      await print(process.stdout, show(db.path, r as RpmdbRecord & { package: RpmPackage }, json, printed++ === 0));
    }
  } finally {
    // everything written so far reaches the reader (also before a structural error), before
    // the process exits
    await flushed(process.stdout);
    db.close();
  }
  if (failed) throw new RunFailed(`${failed} of ${db.count} packages in ${db.path} could not be read`);
}

/** Write, waiting only when the stream asks for it (a slow reader: bounded memory). */
function print(stream: NodeJS.WriteStream, s: string): Promise<void> | undefined {
  if (stream.write(s)) return undefined;
  return new Promise((res) => stream.once("drain", res));
}

/** Resolves when everything written before has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((res, rej) => stream.write("", (e) => (e ? rej(e) : res())));
}

/** The printed form of a package record. */
function show(path: string, r: RpmdbRecord & { package: RpmPackage }, json: boolean, first: boolean): string {
  const d = dumpPackage(r.package);
  d.path = path;
  d.key = r.key;
  if (json) return `${JSON.stringify(d)}\n`;
  return `${first ? "" : "\n"}== ${path} #${r.key}\n${formatDump(d)}\n`;
}

export default defineCommand({
  meta: { name: "rpmdb", description: "Inspect rpm databases (the installed-package lists of images)" },
  subCommands: { dump },
});
