/** `altrepodb image load`: distribution images (ISO, raw and QCOW2 disks, rootfs tar, OCI). */
import { defineCommand } from "citty";
import { jsonText } from "../models/json";
import { loadImage } from "../loaders/image";
import { ARCHS, EDITIONS, PLATFORMS, RELEASES, VARIANTS } from "../loaders/image/meta";
import { fireTriggers } from "../triggers";
import { cliLoadContext, closeAll } from "./context";
import { branchArg, choiceArg, dateArg } from "./_values";
import { RunFailed, UsageError } from "./errors";
import { abortOnSignals } from "./signals";

const TYPES = ["iso", "img", "qcow", "qcow2", "tar", "oci"] as const;
const OPEN_WITH = ["auto", "fuse", "guestfs", "userspace"] as const;

const show = (xs: readonly string[]) => xs.map((x) => (x === "" ? '""' : x)).join("|");

const load = defineCommand({
  meta: {
    name: "load",
    description: "Load a distribution image: its packages (which must already be in the database) as a package set, with checksums and metadata",
    examples: [
      'altrepodb image load alt-p10-cloud-x86_64.qcow2 --branch p10 --edition cloud --version 10.0 --release release --variant install --flavor opennebula --platform "" --arch x86_64 --date 2026-11-20 --url http://ftp.altlinux.org/pub/distributions/ALTLinux/p10/images/cloud/x86_64/alt-p10-cloud-x86_64.qcow2',
      'altrepodb image load alt-workstation-10.0-x86_64.iso --branch p10 --edition alt-workstation --version 10.0.0 --release release --variant install --flavor "" --platform "" --arch x86_64 --date 2026-11-20 --url http://ftp.altlinux.org/alt-workstation-10.0-x86_64.iso --open-with fuse --json',
    ],
  },
  args: {
    file: { type: "positional", description: "The image file (or an OCI layout directory)", required: true },
    branch: { type: "string", description: "Base branch, e.g. p10", required: true },
    edition: { type: "string", description: show(EDITIONS), valueHint: "EDITION", required: true },
    version: { type: "string", description: "MAJOR[.MINOR[.SUB]]", valueHint: "V", required: true },
    release: { type: "string", description: show(RELEASES), valueHint: "R", required: true },
    variant: { type: "string", description: show(VARIANTS), valueHint: "V", required: true },
    flavor: { type: "string", description: 'Free text, may be ""', valueHint: "F", required: true },
    platform: { type: "string", description: show(PLATFORMS), valueHint: "P", required: true },
    arch: { type: "string", description: show(ARCHS), valueHint: "A", required: true },
    date: { type: "string", description: "Image date", valueHint: "YYYY-MM-DD", required: true },
    url: { type: "string", description: "Where the image is published", valueHint: "U", required: true },
    type: { type: "string", description: "iso|img|qcow|tar|oci (qcow2 = qcow; default: detected from the content)", valueHint: "T" },
    "open-with": { type: "string", description: "auto (userspace readers first)|fuse (fuseiso, squashfuse, guestmount)|guestfs|userspace", valueHint: "HOW" },
    force: { type: "boolean", description: "Replace a load of the same tag and date; load even with packages missing from the database" },
    "dry-run": { type: "boolean", description: "Read everything and check it against the database, write nothing" },
    json: { type: "boolean", description: "Print the summary as JSON" },
  },
  async run({ args }) {
    const branch = branchArg("--branch", args.branch);
    const date = dateArg("--date", args.date);
    const pick = <const T extends string>(name: string, v: unknown, choices: readonly T[]): T => choiceArg(name, v, choices)!;
    const edition = pick("--edition", args.edition, EDITIONS);
    const release = pick("--release", args.release, RELEASES);
    const variant = pick("--variant", args.variant, VARIANTS);
    const platform = pick("--platform", args.platform, PLATFORMS);
    const arch = pick("--arch", args.arch, ARCHS);
    const type = choiceArg("--type", args.type, TYPES);
    const openWith = choiceArg("--open-with", args["open-with"], OPEN_WITH);
    const version = String(args.version);
    if (!/^\d+(?:\.\d+){0,2}$/.test(version)) throw new UsageError(`--version must be MAJOR[.MINOR[.SUB]] of integers, not ${JSON.stringify(version)}`);
    const ctx = await cliLoadContext("image", abortOnSignals());
    const report = await loadImage(ctx, {
      path: String(args.file),
      branch,
      edition,
      version,
      release,
      variant,
      flavor: String(args.flavor),
      platform,
      arch,
      date,
      url: String(args.url),
      type,
      openWith,
      force: args.force,
      dryRun: args["dry-run"],
    });
    if (args.json) console.log(jsonText(report));
    else {
      console.log(`${report.tag} ${report.date}: ${report.type} opened with ${report.openedWith}, ${report.packages} packages${report.dryRun ? " (dry run: nothing written)" : ""} in ${report.seconds.toFixed(2)} s`);
      for (const n of report.nodes) console.log(`  ${n.name}: ${n.packages} packages${n.source ? ` (${n.source})` : ""}`);
      console.log(`md5 ${report.checksums.md5}  sha256 ${report.checksums.sha256}  gost12 ${report.checksums.gost12}`);
      if (report.baseBranch) console.log(`base branch ${report.baseBranch.name} ${report.baseBranch.date} (${report.baseBranch.matched} packages in common)`);
      for (const m of report.missing.slice(0, 20)) console.log(`not in the database: ${m}`);
      for (const f of report.failures.slice(0, 20)) console.log(`failed: ${f.path}: ${f.error}`);
    }
    if (!report.dryRun) await fireTriggers(ctx, "image.load", report, { failed: report.failures.length > 0 || (report.missing.length > 0 && !args.force), release: closeAll });
    if (report.failures.length) throw new RunFailed(`image ${report.tag} ${report.date} is incomplete: ${report.failures.length} item(s) could not be read`);
    if (report.missing.length && !args.force) throw new RunFailed(`${report.missing.length} package(s) of the image are not in the database`);
  },
});

export default defineCommand({
  meta: { name: "image", description: "Distribution images" },
  subCommands: { load },
});
