/** `altrepodb rpmdb dump PATH [--json]`: every package of an rpm database, as `rpm dump` shows a package. */
import { defineCommand } from "citty";
import { dumpPackage, formatDump, type RpmPackage } from "../rpm/index.ts";
import { openRpmdb, type RpmdbRecord } from "../rpmdb/index.ts";
import { RunFailed, UsageError } from "./errors";

const dump = defineCommand({
  meta: {
    name: "dump",
    description: "Print every package of an rpm database (Berkeley DB Packages, NDB Packages.db or rpmdb.sqlite; a file or its directory)",
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
  const out: string[] = [];
  let size = 0;
  // awaited: the process exits right after the last record (with code 1 too), and output still
  // buffered for a pipe would be lost
  const flush = async () => {
    if (out.length) await write(process.stdout, out.join(""));
    out.length = 0;
    size = 0;
  };
  try {
    for await (const r of db.records()) {
      if (!r.package) {
        failed++;
        if (json) out.push(`${JSON.stringify({ path: db.path, key: r.key, where: r.where, error: r.error?.message, code: r.error?.code })}\n`);
        await flush();
        await write(process.stderr, `${r.error?.message}\n`);
        continue;
      }
      const line = show(db.path, r as RpmdbRecord & { package: RpmPackage }, json, printed++ === 0);
      out.push(line);
      size += line.length;
      if (size > 1 << 20) await flush();
    }
  } finally {
    // what was read before a structural error is still printed
    await flush();
    db.close();
  }
  if (failed) throw new RunFailed(`${failed} of ${db.count} packages in ${db.path} could not be read`);
}

function write(stream: NodeJS.WriteStream, s: string): Promise<void> {
  return new Promise((res, rej) => stream.write(s, (e) => (e ? rej(e) : res())));
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
