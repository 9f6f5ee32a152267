// What every renderer shows, computed once: the headline, the problems worth
// fixing first (grouped when one cause hits several URIs), and the checks
// grouped by URI and family. Renderers only format this.
import { CHECKS, type CheckId } from '../tester/checks';
import { rankProblems, type Report, type ReportCheck, type ReportUri } from '../tester/report';
import type { Family, Status } from '../tester/types';

export const FAMILY_LABEL: Record<Family, string> = { ipv4: 'IPv4', ipv6: 'IPv6' };
export const STATUS_LABEL: Record<Status, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP', info: 'INFO' };
export const STATUS_ICON: Record<Status, string> = { pass: '✅', warn: '⚠️', fail: '❌', skip: '⏭️', info: 'ℹ️' };
export const VERDICT_ICON = { ok: '✅', warn: '⚠️', unsafe: '⛔' } as const;

export function checkTitle(id: string): string {
  return (CHECKS as Record<string, { title: string }>)[id]?.title ?? id;
}

export interface Problem {
  id: CheckId;
  title: string;
  status: Status;
  severity: ReportCheck['severity'];
  summary: string;
  hint: string | null;
  /** "turn:... (IPv4)" scopes the same cause was seen on; empty for run-wide checks. */
  where: string[];
}

export function scopeLabel(c: { uri: string | null; family: Family | null }): string | null {
  if (c.uri === null) return null;
  return c.family ? `${c.uri} (${FAMILY_LABEL[c.family]})` : c.uri;
}

/** The problems to show first: ranked, one entry per (id, cause, hint), at most `limit`. */
export function topProblems(report: Report, limit = 5): Problem[] {
  const out: Problem[] = [];
  const byKey = new Map<string, Problem>();
  for (const c of rankProblems(report.checks)) {
    const key = `${c.id}\u0000${c.cause ?? ''}\u0000${c.hint ?? ''}\u0000${c.status}`;
    const where = scopeLabel(c);
    const seen = byKey.get(key);
    if (seen) {
      if (where && !seen.where.includes(where)) seen.where.push(where);
      continue;
    }
    const p: Problem = { id: c.id, title: checkTitle(c.id), status: c.status, severity: c.severity, summary: c.summary, hint: c.hint, where: where ? [where] : [] };
    byKey.set(key, p);
    out.push(p);
  }
  // A URI-wide entry (no family) already covers that URI's per-family entries.
  for (const p of out) p.where = p.where.filter((w) => !p.where.some((u) => u !== w && w.startsWith(`${u} (`)));
  return out.slice(0, limit);
}

export function countProblems(report: Report): { fail: number; warn: number } {
  return {
    fail: report.checks.filter((c) => c.status === 'fail').length,
    warn: report.checks.filter((c) => c.status === 'warn').length,
  };
}

export interface UriSection {
  uri: string;
  targets: ReportUri[];
  /** URI-scoped checks (family null), then one group per family. */
  uriChecks: ReportCheck[];
  families: { family: Family; checks: ReportCheck[] }[];
}

/** Checks grouped by URI (in the order the report lists URIs, then any URI only findings name). */
export function uriSections(report: Report): UriSection[] {
  const order: string[] = [];
  for (const u of report.uris) if (!order.includes(u.uri)) order.push(u.uri);
  for (const c of report.checks) if (c.uri !== null && !order.includes(c.uri)) order.push(c.uri);
  return order.map((uri) => {
    const checks = report.checks.filter((c) => c.uri === uri);
    const families = (['ipv4', 'ipv6'] as Family[])
      .map((family) => ({ family, checks: checks.filter((c) => c.family === family) }))
      .filter((g) => g.checks.length > 0);
    return { uri, targets: report.uris.filter((u) => u.uri === uri), uriChecks: checks.filter((c) => c.family === null), families };
  });
}

export function runChecks(report: Report): ReportCheck[] {
  return report.checks.filter((c) => c.uri === null);
}

export function formatDuration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function sourceLabel(report: Report): string {
  return report.source.homeserver ?? (report.source.xmpp ? `XMPP ${report.source.xmpp}` : `${report.source.kind} credentials`);
}

export function timingsLabel(t: ReportUri['timingsMs']): string {
  const parts = (['dns', 'connect', 'tls', 'allocate', 'data'] as const).filter((k) => typeof t[k] === 'number').map((k) => `${k} ${t[k]} ms`);
  return parts.join(', ');
}
