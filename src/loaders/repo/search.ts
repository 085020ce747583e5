/** FileSearch after a repository load: the branch's latest package set may have changed. */
import type { LoadContext } from "../context";
import { refreshFileSearch } from "../filesearch";
import type { RepoLoadInput, RepoLoadReport } from "./types";

/**
 * Refreshes FileSearch for the loaded branch (a no-op when the load was not of its latest set).
 * A failure does not undo the load: it is logged and reported in `fileSearchError`; the next
 * load of the branch or `altrepodb search rebuild` catches up.
 */
export async function indexFiles(ctx: LoadContext, report: RepoLoadReport, input: RepoLoadInput): Promise<void> {
  if (report.dryRun || input.noFileSearch) return;
  try {
    report.fileSearch = await refreshFileSearch(ctx, report.branch);
  } catch (e) {
    report.fileSearchError = (e as Error).message;
    ctx.log.error("FileSearch not refreshed (the package set is loaded; run `altrepodb search rebuild` later)", { branch: report.branch, error: report.fileSearchError });
  }
}
