// Compare one report with a scenario's expectation: pure, no I/O.
//
// Every expectation becomes an item that is ok, wrong, or pending. Pending
// means it rests on a check listed in PENDING_CHECKS that the report does not
// hold at all (not in the engine yet); it is never counted as passed. A
// scenario is 'fail' if any item is wrong, else 'pending' if any is pending,
// else 'pass'.
import type { CheckId } from '../../src/tester/checks';
import type { Report, ReportCheck, ReportUri } from '../../src/tester/report';
import type { Family } from '../../src/tester/types';
import type { CauseExpectation, FindingMatch, HostForm, Scenario, UriKind } from './types';

export type Verdict = 'pass' | 'fail' | 'pending';

export interface Item {
  what: string;
  expected: string;
  actual: string;
  state: 'ok' | 'wrong' | 'pending';
}

export interface Judgement {
  verdict: Verdict;
  items: Item[];
  /** Compact "first cause" columns for the accuracy table. */
  expectedCause: string;
  actualCause: string;
  expectedGrade: string;
  actualGrade: string;
  /** Pending checks the report now holds: they have landed, un-pend them. */
  landed: CheckId[];
  /** Pending checks this scenario waits for. */
  waitingFor: CheckId[];
}

const asList = <T>(v: T | T[] | undefined): T[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

export function causeLabel(c: CauseExpectation | { id: string; cause?: string | string[] | null }): string {
  if (!c) return 'none';
  const causes = asList(c.cause ?? undefined);
  return causes && causes.length > 0 ? `${c.id} ${causes.join('|')}` : c.id;
}

/** The expectation for a target: 'kind/family', 'kind/*', '*' + '/family', '*' (most specific first). */
export function expectedCauseFor(map: Record<string, CauseExpectation>, kind: UriKind, family: Family): CauseExpectation | undefined {
  for (const key of [`${kind}/${family}`, `${kind}/*`, `*/${family}`, '*']) {
    if (Object.prototype.hasOwnProperty.call(map, key)) return map[key];
  }
  return undefined;
}

/** The failing finding behind a URI's firstFailure (its cause), or null. */
export function actualCauseOf(report: Report, u: ReportUri): { id: CheckId; cause?: string } | null {
  if (!u.firstFailure) return null;
  const f = report.checks.find((c) => c.id === u.firstFailure && c.status === 'fail' && (c.uri === u.uri || c.uri === null) && (c.family === null || c.family === u.family));
  return { id: u.firstFailure, ...(f?.cause ? { cause: f.cause } : {}) };
}

function matches(c: ReportCheck, m: FindingMatch, kindOf: (uri: string | null) => UriKind | undefined): boolean {
  if (m.id && c.id !== m.id) return false;
  const st = asList(m.status);
  if (st && !st.includes(c.status)) return false;
  const causes = asList(m.cause);
  if (causes && !(c.cause && causes.includes(c.cause))) return false;
  if (m.uri && kindOf(c.uri) !== m.uri) return false;
  if (m.family && c.family !== m.family) return false;
  if (m.evidence && !Object.entries(m.evidence).every(([k, v]) => c.evidence[k] === v)) return false;
  return true;
}

export function matchLabel(m: FindingMatch): string {
  const ev = m.evidence ? `{${Object.entries(m.evidence).map(([k, v]) => `${k}: ${String(v)}`).join(', ')}}` : undefined;
  const parts = [m.id ?? 'any', asList(m.status)?.join('|'), asList(m.cause)?.join('|'), m.uri, m.family, ev].filter(Boolean);
  return parts.join(' ');
}

function checkLabel(c: ReportCheck, kindOf: (uri: string | null) => UriKind | undefined): string {
  return [c.id, c.status, c.cause, kindOf(c.uri), c.family].filter(Boolean).join(' ');
}

/** Distinct labels with counts, e.g. "NET-1 refused x4, none x2". */
function summarise(labels: string[]): string {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  return [...counts].map(([l, n]) => (n > 1 ? `${l} x${n}` : l)).join(', ') || '-';
}

export function judge(s: Scenario, report: Report, kinds: ReadonlyMap<string, UriKind>, pendingChecks: readonly CheckId[], wallMs?: number): Judgement {
  const kindOf = (uri: string | null) => (uri === null ? undefined : kinds.get(uri));
  const present = new Set(report.checks.map((c) => c.id));
  const isPending = (id: CheckId | undefined) => id !== undefined && pendingChecks.includes(id) && !present.has(id);
  const waitingFor = [...new Set([...(s.needs ?? []), ...(s.expect.findings ?? []).map((m) => m.id), ...(s.expect.absent ?? []).map((m) => m.id)])].filter(
    (id): id is CheckId => isPending(id),
  );
  const needsPending = (s.needs ?? []).some(isPending);
  const items: Item[] = [];
  const add = (what: string, expected: string, actual: string, ok: boolean, pending: boolean) =>
    items.push({ what, expected, actual, state: pending ? 'pending' : ok ? 'ok' : 'wrong' });

  // First cause per target.
  const expLabels: string[] = [];
  const actLabels: string[] = [];
  for (const u of report.uris) {
    const kind = kindOf(u.uri);
    if (!kind) continue;
    const exp = expectedCauseFor(s.expect.firstCause, kind, u.family);
    if (exp === undefined) continue;
    const act = actualCauseOf(report, u);
    const ok = exp === null ? act === null : act !== null && act.id === exp.id && (exp.cause === undefined || (act.cause !== undefined && asList(exp.cause)!.includes(act.cause)));
    expLabels.push(causeLabel(exp));
    actLabels.push(causeLabel(act));
    add(`first cause ${kind}/${u.family}`, causeLabel(exp), causeLabel(act), ok, exp !== null && isPending(exp.id));
  }
  const expectedTargets = countExpectedTargets(s);
  if (report.uris.length !== expectedTargets) {
    add('targets tested', String(expectedTargets), String(report.uris.length), false, false);
  }

  // Grades.
  const g = s.expect.grade;
  add('grade overall', g.overall, report.grade.overall, report.grade.overall === g.overall, needsPending);
  for (const fam of ['ipv4', 'ipv6'] as const) {
    const want = g[fam];
    if (want) add(`grade ${fam}`, want, String(report.grade[fam]), report.grade[fam] === want, needsPending);
  }

  // Security.
  if (s.expect.security) add('security verdict', s.expect.security, report.security.verdict, report.security.verdict === s.expect.security, needsPending);
  if (s.expect.securityFindings) {
    const want = [...s.expect.securityFindings].sort().join(',') || 'none';
    const got = [...new Set(report.security.findings)].sort().join(',') || 'none';
    add('security findings', want, got, want === got, needsPending);
  }

  // Findings that must be there / must not.
  for (const m of s.expect.findings ?? []) {
    const hit = report.checks.find((c) => matches(c, m, kindOf));
    const sameId = report.checks.filter((c) => !m.id || c.id === m.id).map((c) => checkLabel(c, kindOf));
    add(`finding ${matchLabel(m)}`, 'present', hit ? 'present' : `missing (${summarise(sameId).slice(0, 160)})`, Boolean(hit), isPending(m.id));
  }
  for (const m of s.expect.absent ?? []) {
    const hits = report.checks.filter((c) => matches(c, m, kindOf));
    add(`no ${matchLabel(m)}`, 'absent', hits.length ? summarise(hits.map((c) => checkLabel(c, kindOf))).slice(0, 200) : 'absent', hits.length === 0, isPending(m.id));
  }

  const dur = wallMs ?? report.durationMs;
  if (s.expect.maxDurationMs !== undefined) add('duration', `< ${s.expect.maxDurationMs} ms`, `${Math.round(dur)} ms`, dur < s.expect.maxDurationMs, false);

  const verdict: Verdict = items.some((i) => i.state === 'wrong') ? 'fail' : items.some((i) => i.state === 'pending') || waitingFor.length > 0 ? 'pending' : 'pass';
  const gradeText = (o: string, v4?: string, v6?: string) => [o, v4 || v6 ? `(${v4 ?? '?'}/${v6 ?? '?'})` : ''].filter(Boolean).join(' ');
  return {
    verdict,
    items,
    expectedCause: summarise(expLabels),
    actualCause: summarise(actLabels),
    expectedGrade: gradeText(g.overall, g.ipv4, g.ipv6),
    actualGrade: gradeText(report.grade.overall, g.ipv4 ? report.grade.ipv4 : undefined, g.ipv6 ? report.grade.ipv6 : undefined),
    landed: pendingChecks.filter((id) => present.has(id)),
    waitingFor,
  };
}

/** How many (URI, family) targets the scenario's URIs and records make. */
export function countExpectedTargets(s: Scenario): number {
  const fams = s.family === 'ipv4' ? ['ipv4'] : s.family === 'ipv6' ? ['ipv6'] : ['ipv4', 'ipv6'];
  const dns = s.dns ?? { a: true, aaaa: true };
  const perUri = (host: HostForm) =>
    host === 'v4' ? (fams.includes('ipv4') ? 1 : 0) : host === 'v6' ? (fams.includes('ipv6') ? 1 : 0) : (dns.a && fams.includes('ipv4') ? 1 : 0) + (dns.aaaa && fams.includes('ipv6') ? 1 : 0);
  // Several host forms: every kind under each, turns: by name only (runner.ts buildUris).
  return (s.hosts ?? [s.host ?? 'name']).reduce((n, host) => n + s.uris.filter((k) => !(s.hosts && k === 'turns' && host !== 'name')).length * perUri(host), 0);
}
