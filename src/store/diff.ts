// What changed between two runs of the same target: the daily report and the
// per-run "since last time" line are both written from this.
import type { Grade } from '../tester/types';
import type { FindingRow, RunRow } from './history';
import { isWorseGrade } from './report-shape';

export interface RunWithFindings {
  run: RunRow;
  findings: FindingRow[];
}

export interface GradeChange {
  scope: 'overall' | 'ipv4' | 'ipv6';
  from: Grade;
  to: Grade;
  worse: boolean;
}

export interface RunDiff {
  gradeChanges: GradeChange[];
  newFailures: FindingRow[];
  resolvedFailures: FindingRow[];
  newSecurityFindings: string[];
  /** Worse grade, a new failure, or a new security finding. */
  regression: boolean;
  changed: boolean;
}

const key = (f: FindingRow) => `${f.checkId}|${f.uri ?? ''}|${f.family ?? ''}`;

export function diffRuns(prev: RunWithFindings, cur: RunWithFindings): RunDiff {
  const gradeChanges: GradeChange[] = [];
  if (prev.run.grades && cur.run.grades) {
    for (const scope of ['overall', 'ipv4', 'ipv6'] as const) {
      const from = prev.run.grades[scope];
      const to = cur.run.grades[scope];
      if (from !== to) gradeChanges.push({ scope, from, to, worse: isWorseGrade(from, to) });
    }
  }
  const prevFails = new Map(prev.findings.filter((f) => f.status === 'fail').map((f) => [key(f), f]));
  const curFails = new Map(cur.findings.filter((f) => f.status === 'fail').map((f) => [key(f), f]));
  const newFailures = [...curFails].filter(([k]) => !prevFails.has(k)).map(([, f]) => f);
  const resolvedFailures = [...prevFails].filter(([k]) => !curFails.has(k)).map(([, f]) => f);
  const prevSec = new Set(prev.run.securityFindings);
  const newSecurityFindings = [...new Set(cur.run.securityFindings)].filter((id) => !prevSec.has(id));
  const regression = gradeChanges.some((g) => g.worse) || newFailures.length > 0 || newSecurityFindings.length > 0;
  const changed = gradeChanges.length > 0 || newFailures.length > 0 || resolvedFailures.length > 0 || newSecurityFindings.length > 0;
  return { gradeChanges, newFailures, resolvedFailures, newSecurityFindings, regression, changed };
}

/** One line per change, for people. Empty when nothing changed. */
export function describeDiff(d: RunDiff): string[] {
  const out: string[] = [];
  for (const g of d.gradeChanges) out.push(`${g.scope === 'overall' ? 'Overall' : g.scope === 'ipv4' ? 'IPv4' : 'IPv6'} grade ${g.worse ? 'dropped' : 'rose'}: ${g.from} → ${g.to}`);
  const where = (f: FindingRow) => [f.uri, f.family].filter(Boolean).join(' ');
  for (const f of d.newFailures) out.push(`New failure: ${f.checkId}${where(f) ? ` (${where(f)})` : ''}`);
  for (const f of d.resolvedFailures) out.push(`Fixed: ${f.checkId}${where(f) ? ` (${where(f)})` : ''}`);
  if (d.newSecurityFindings.length) out.push(`New security findings: ${d.newSecurityFindings.join(', ')}`);
  return out;
}
