/** `altrepodb config check`: validate the configuration and print it with secrets masked. */
import { defineCommand } from "citty";
import { maskedConfig } from "../config";
import { cliConfig } from "./context";

const check = defineCommand({
  meta: { name: "check", description: "Validate the configuration and print the effective values (secrets masked)" },
  args: { json: { type: "boolean", description: "Print JSON" } },
  run({ args }) {
    const shown = maskedConfig(cliConfig());
    process.stdout.write(args.json ? JSON.stringify(shown, null, 2) + "\n" : toToml(shown));
  },
});

function toToml(obj: Record<string, unknown>, prefix = ""): string {
  const scalars: string[] = [];
  const tables: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined || v === null) continue;
    if (typeof v === "object" && !Array.isArray(v)) tables.push(toToml(v as Record<string, unknown>, prefix ? `${prefix}.${k}` : k));
    else scalars.push(`${/^[A-Za-z0-9_-]+$/.test(k) ? k : JSON.stringify(k)} = ${JSON.stringify(v)}`);
  }
  const head = prefix && scalars.length ? `[${prefix}]\n` : "";
  return head + scalars.map((s) => s + "\n").join("") + (scalars.length && tables.length ? "\n" : "") + tables.join("\n");
}

export default defineCommand({
  meta: { name: "config", description: "Inspect the configuration" },
  subCommands: { check },
});
