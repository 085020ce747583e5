/** Rows the daemon's task service derives from girar events (not from a task directory). */
export * from "./schema";
export { approvalRow, deletedRow, eventTime, searchRow, splitSrpm, stageProgressRow, stateProgressRow, subtaskProgressRow, subtaskRows } from "./rows";
export type { ApprovalRow, ProgressRow, SearchRow, SubtaskProgressRow } from "./rows";
export { insertNew, mergeSearch, writeApproval, writeDeleted, writeProgress, writeSearch, writeSubtaskProgress } from "./write";
export { findTaskDir, taskDirCandidates } from "./locate";
