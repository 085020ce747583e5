/** `altrepodb db init|migrate|status`: create and upgrade the schema. */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { migrate, migrationStatus } from "../db/migrations";
import { log } from "../log";
import { cliConfig, cliDb } from "./context";
import { RunFailed } from "./errors";

const cluster = { type: "string", description: "Create objects ON CLUSTER with Replicated engines", valueHint: "NAME" } as const;

async function apply(clusterName?: string): Promise<void> {
  const cfg = cliConfig();
  const db = await cliDb();
  const applied = await migrate(db, { cluster: clusterName });
  const where = cfg.database.driver === "embedded" ? `${cfg.database.path} (embedded)` : cfg.database.url;
  log.info(applied.length ? `applied ${applied.length} migration(s)` : "schema is up to date", { database: db.database, at: where, applied: applied.join(",") || undefined });
}

const init = defineCommand({
  meta: { name: "init", description: "Create the database and every table (idempotent)", examples: ["altrepodb db init", "altrepodb db init --cluster main"] },
  args: { cluster },
  run: ({ args }) => apply(args.cluster),
});

const migrateCmd = defineCommand({
  meta: { name: "migrate", description: "Apply pending migrations", examples: ["altrepodb -c /etc/altrepodb/config.toml db migrate"] },
  args: { cluster },
  run: ({ args }) => apply(args.cluster),
});

const status = defineCommand({
  meta: { name: "status", description: "Show applied and pending migrations", examples: ["altrepodb db status", "altrepodb db status --json"] },
  args: { json: { type: "boolean", description: "One JSON object per migration" } },
  async run({ args }) {
    const states = await migrationStatus(await cliDb());
    for (const s of states) {
      if (args.json) console.log(jsonText(s));
      else console.log([s.name.padEnd(32), s.state.padEnd(8), s.appliedAt ?? "", s.state === "failed" ? `step ${s.failedStep}: ${s.error}` : ""].join(" ").trimEnd());
    }
    const bad = states.filter((s) => s.state === "failed" || s.state === "changed");
    if (bad.length) throw new RunFailed(`${bad.length} migration(s) need attention: ${bad.map((s) => `${s.name} ${s.state}`).join(", ")}`);
  },
});

export default defineCommand({
  meta: { name: "db", description: "Create, upgrade and inspect the database schema" },
  subCommands: { init, migrate: migrateCmd, status },
});
