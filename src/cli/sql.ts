/** `altrepodb sql "<query>"`: run one query and print ClickHouse's own output. */
import { defineCommand } from "citty";
import { cliDb } from "./context";

export default defineCommand({
  meta: { name: "sql", description: "Run one SQL statement against the configured database" },
  args: {
    query: { type: "positional", description: "The statement", required: true },
    format: { type: "string", alias: "f", description: "Output format (TSV, TSVWithNames, JSONEachRow, Pretty, CSV, …)", default: "TSV" },
  },
  async run({ args }) {
    const db = await cliDb();
    const out = await db.queryRaw(String(args.query), String(args.format));
    process.stdout.write(out);
  },
});
