/** `altrepodb export rpm-md`: an rpm-md repository of stored package sets, from the database only. */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { exportAptrpm, exportRpmmd } from "../loaders/export";
import { MERGE_METHODS } from "../export/merge";
import { COMPRESSIONS, validKeyId } from "../export/rpmmd";
import { cliLoadContext, globalFlags } from "./context";
import { choiceArg } from "./_values";
import { UsageError } from "./errors";
import { progressReporter } from "./progress";
import { abortOnSignals } from "./signals";

const ARCH = /^[A-Za-z0-9][A-Za-z0-9_.+-]*$/;

const rpmmd = defineCommand({
  meta: {
    name: "rpm-md",
    description: "Write repodata/ (repomd.xml, primary, filelists, other) for the binaries of one arch (plus noarch) of stored package sets; several sets are merged, first match wins",
    examples: [
      "altrepodb export rpm-md p10 --arch x86_64 --out /srv/rpm-md/p10",
      "altrepodb export rpm-md sisyphus@2026-11-01 --arch aarch64 --out /srv/rpm-md/sisyphus --compress zstd --incremental",
      "altrepodb export rpm-md mytask sisyphus --arch x86_64 --out /tmp/overlay --method nvr --json",
      "altrepodb export rpm-md p10 --arch x86_64 --out /srv/rpm-md/p10 --sign repo@example.org",
    ],
    rest: "repeat",
  },
  args: {
    set: { type: "positional", description: "BRANCH or BRANCH@YYYY-MM-DD (the latest complete set without a date); several allowed", required: true },
    arch: { type: "string", description: "Binary arch to publish (noarch is added)", required: true },
    out: { type: "string", description: "Output directory (created when missing; an existing one must be a previous export)", required: true },
    method: { type: "string", description: "Merge of several sets: name (source package name, default) or nvr" },
    compress: { type: "string", description: "gz (default), zstd or xz" },
    incremental: { type: "boolean", description: "Reuse the fragments of packages already exported to --out (cached per package)" },
    sign: { type: "string", description: "Sign repodata/repomd.xml with this gpg key (repomd.xml.asc)" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const sets = (args._ as string[]).length ? (args._ as string[]) : [String(args.set)];
    const arch = String(args.arch);
    if (!ARCH.test(arch)) throw new UsageError(`--arch must be an arch name such as x86_64, not ${JSON.stringify(arch)}`);
    if (!String(args.out)) throw new UsageError("--out must not be empty");
    const method = choiceArg("--method", args.method, MERGE_METHODS);
    const compress = choiceArg("--compress", args.compress, COMPRESSIONS);
    if (args.sign !== undefined && !validKeyId(String(args.sign))) throw new UsageError(`--sign must be a gpg key id, fingerprint or user id, not ${JSON.stringify(args.sign)}`);
    const ctx = await cliLoadContext("export", abortOnSignals());
    ctx.progress = progressReporter(ctx.log, globalFlags.quiet || Boolean(args.json));
    const r = await exportRpmmd(ctx, { sets, arch, out: String(args.out), method, compress, incremental: Boolean(args.incremental), sign: args.sign === undefined ? undefined : String(args.sign) });
    if (args.json) console.log(jsonText(r));
    else {
      for (const f of r.files) console.log(`${f.type.padEnd(9)} ${f.href} (${f.size} bytes, ${f.openSize} open)`);
      console.error(
        `${r.packages} package(s) of ${r.sets.map((s) => `${s.set} (${s.date})`).join(" + ")} written to ${r.out}` +
          `${r.reused ? ` (${r.reused} reused, ${r.read} read)` : ""} in ${r.seconds.toFixed(2)} s`,
      );
    }
  },
});

const aptrpm = defineCommand({
  meta: {
    name: "apt-rpm",
    description: "Write the apt-rpm lists of one arch directory of stored package sets: <arch>/base/pkglist.<comp>, srclist.<comp> (plain, .bz2, .xz) and release files; several sets are merged, first match wins",
    examples: [
      "altrepodb export apt-rpm p10 --arch x86_64 --out /srv/apt/p10",
      "altrepodb export apt-rpm sisyphus@2026-11-01 --arch noarch --out /srv/apt/sisyphus --component classic --json",
      "altrepodb export apt-rpm mytask sisyphus --arch x86_64 --out /tmp/overlay --method nvr",
    ],
    rest: "repeat",
  },
  args: {
    set: { type: "positional", description: "BRANCH or BRANCH@YYYY-MM-DD (the latest complete set without a date); several allowed", required: true },
    arch: { type: "string", description: "Arch directory of the branch (x86_64, noarch, x86_64-i586 ...)", required: true },
    out: { type: "string", description: "Output directory (created when missing; an existing one must be a previous export)", required: true },
    component: { type: "string", description: "Only this component (default: every component of the arch directory)" },
    method: { type: "string", description: "Merge of several sets: name (source package name, default) or nvr" },
    json: { type: "boolean", description: "Print the report as JSON" },
  },
  async run({ args }) {
    const sets = (args._ as string[]).length ? (args._ as string[]) : [String(args.set)];
    const arch = String(args.arch);
    if (!ARCH.test(arch)) throw new UsageError(`--arch must be an arch directory name such as x86_64, not ${JSON.stringify(arch)}`);
    if (!String(args.out)) throw new UsageError("--out must not be empty");
    if (args.component !== undefined && !ARCH.test(String(args.component))) throw new UsageError(`--component must be a component name such as classic, not ${JSON.stringify(args.component)}`);
    const method = choiceArg("--method", args.method, MERGE_METHODS);
    const ctx = await cliLoadContext("export", abortOnSignals());
    const r = await exportAptrpm(ctx, { sets, arch, out: String(args.out), method, component: args.component === undefined ? undefined : String(args.component) });
    if (args.json) console.log(jsonText(r));
    else {
      for (const f of r.files) console.log(`${f.path} (${f.size} bytes)`);
      console.error(
        `${r.components.map((c) => `${c.component}: ${c.packages} package(s), ${c.sources} source(s)`).join("; ")} of ${r.sets.map((s) => `${s.set} (${s.date})`).join(" + ")} written to ${r.out} in ${r.seconds.toFixed(2)} s`,
      );
    }
  },
});

export default defineCommand({
  meta: { name: "export", description: "Publish stored package sets as repositories" },
  subCommands: { "rpm-md": rpmmd, "apt-rpm": aptrpm },
});
