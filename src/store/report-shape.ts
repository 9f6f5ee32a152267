// The part of the engine's report (src/tester/report.ts, JSON schema 1 in
// ARCHITECTURE.md) that history and the bot read. Structural, so the full
// Report is assignable to it without this module depending on the engine.
import { GRADE_RANK, type Family, type Grade, type Severity, type SourceKind, type Status } from '../tester/types';

export type SecurityVerdict = 'ok' | 'warn' | 'unsafe';

export interface ReportCheckLike {
  id: string;
  uri: string | null;
  family: Family | null;
  status: Status;
  severity: Severity | null;
  summary: string;
  hint: string | null;
  cause?: string;
}

export interface ReportLike {
  startedAt: string;
  durationMs: number;
  source: { kind: SourceKind; homeserver?: string; xmpp?: string };
  grade: { ipv4: Grade; ipv6: Grade; overall: Grade; whyNotHigher?: { check: string; text: string }[] };
  security: { verdict: SecurityVerdict; findings: string[] };
  uris: { uri: string }[];
  checks: ReportCheckLike[];
}

export function isWorseGrade(from: Grade | null, to: Grade | null): boolean {
  if (!from || !to) return false;
  return GRADE_RANK[to] < GRADE_RANK[from];
}
