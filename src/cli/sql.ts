/** `altrepodb sql "<query>"`: run one query and print ClickHouse's own output; `-` reads it from stdin. */
import { defineCommand } from "citty";
import { cliDb } from "./context";
import { UsageError } from "./errors";

async function queryText(arg: string): Promise<string> {
  const text = arg === "-" ? await Bun.stdin.text() : arg;
  if (text.trim() === "") throw new UsageError(arg === "-" ? "the query read from stdin is empty" : "the query is empty");
  return text;
}

export default defineCommand({
  meta: {
    name: "sql",
    description: "Run one SQL statement against the configured database (- reads it from stdin)",
    examples: [`altrepodb sql "SELECT pkgset_name, count() FROM PackageSetName GROUP BY pkgset_name"`, "altrepodb sql -f JSONEachRow - < query.sql"],
  },
  args: {
    query: { type: "positional", description: "The statement, or - to read it from stdin", required: true },
    format: { type: "string", alias: "f", description: "Output format (TSV, TSVWithNames, JSONEachRow, Pretty, CSV, …)", default: "TSV" },
  },
  async run({ args }) {
    const query = await queryText(String(args.query));
    const db = await cliDb();
    const out = await db.queryRaw(query, String(args.format));
    process.stdout.write(out);
  },
});
