/** TaskPlanPackages and TaskPlanPkgHash rows (reference _save_task_plan, §3.6 step 5). */
import type { TaskPlan } from "../model";
import { toBytes } from "../text";

export interface PlanPackageRow {
  tplan_hash: bigint;
  tplan_action: "add" | "delete";
  tplan_pkg_name: Uint8Array;
  tplan_pkg_evr: Uint8Array;
  tplan_bin_file: Uint8Array;
  tplan_src_file: Uint8Array;
  tplan_arch: Uint8Array;
  tplan_comp: Uint8Array;
  tplan_subtask: number;
}

export interface PlanHashRow {
  tplan_hash: bigint;
  tplan_action: "add" | "delete";
  tplan_sha256: Uint8Array;
}

/** Adds first (every arch), then deletes, as the reference orders them. */
export function planPackageRows(plan: TaskPlan): PlanPackageRow[] {
  const rows: PlanPackageRow[] = [];
  for (const [action, byArch] of [
    ["add", plan.add],
    ["delete", plan.del],
  ] as const)
    for (const [arch, files] of byArch)
      for (const [file, p] of files)
        rows.push({
          tplan_hash: plan.hashes.get(arch)!,
          tplan_action: action,
          tplan_pkg_name: toBytes(p.name),
          tplan_pkg_evr: toBytes(p.evr),
          tplan_bin_file: toBytes(file),
          tplan_src_file: toBytes(p.srpm),
          tplan_arch: toBytes(p.arch),
          tplan_comp: toBytes(p.comp),
          tplan_subtask: p.subtask,
        });
  return rows;
}

/** Per arch: the added hashes, then the deleted ones. */
export function planHashRows(plan: TaskPlan): PlanHashRow[] {
  const rows: PlanHashRow[] = [];
  for (const [action, byArch] of [
    ["add", plan.hashAdd],
    ["delete", plan.hashDel],
  ] as const)
    for (const [arch, hashes] of byArch) for (const sha of hashes.values()) rows.push({ tplan_hash: plan.hashes.get(arch)!, tplan_action: action, tplan_sha256: sha });
  return rows;
}
