// One way to make a finding: scope from the catalogue, hint from the hints table.
import type { CheckId } from '../checks';
import { hintFor } from '../hints';
import type { Family, Finding, Severity, Status } from '../types';

export interface FindingInput {
  status: Status;
  summary: string;
  severity?: Severity | null;
  cause?: string;
  evidence?: Record<string, unknown>;
  uri?: string | null;
  family?: Family | null;
}

export function finding(id: CheckId, f: FindingInput): Finding {
  const evidence = f.evidence ?? {};
  const needsHint = f.status === 'warn' || f.status === 'fail';
  return {
    id,
    uri: f.uri ?? null,
    family: f.family ?? null,
    status: f.status,
    severity: needsHint ? (f.severity ?? 'medium') : null,
    summary: f.summary,
    evidence,
    ...(f.cause ? { cause: f.cause } : {}),
    hint: needsHint ? hintFor(id, f.cause ?? 'default', evidence) : null,
  };
}

/** A dependent check that did not run because a gate before it failed. */
export function skipped(id: CheckId, reason: string, scope: { uri?: string | null; family?: Family | null } = {}): Finding {
  return finding(id, { status: 'skip', summary: reason, uri: scope.uri, family: scope.family, evidence: { reason } });
}

/** An address with its port, IPv6 in brackets (evidence and summaries). */
export function fmt(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Milliseconds to one decimal (evidence). */
export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
