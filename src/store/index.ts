export { HistoryStore, StoreError, redactedJson, type RunInput, type RunRow, type FindingRow, type Trigger } from './history';
export { diffRuns, describeDiff, type RunDiff, type GradeChange, type RunWithFindings } from './diff';
export { targetKey, reportTargetKey, sharedTargetKey } from './target';
export { isWorseGrade, type ReportLike, type ReportCheckLike, type SecurityVerdict } from './report-shape';
