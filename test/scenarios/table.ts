// The accuracy table: per scenario, expected vs actual first cause and grade,
// a mark (✓ pass, ✗ wrong, … pending), then "N/M diagnosed correctly". Also
// the machine-readable form for --json.
import type { CheckId } from '../../src/tester/checks';
import type { Outcome } from './runner';

const MARK = { pass: '✓', fail: '✗', pending: '…' } as const;

export interface Totals {
  total: number;
  passed: number;
  failed: number;
  pending: number;
  landed: CheckId[];
}

export function totals(outcomes: readonly Outcome[]): Totals {
  const verdicts = outcomes.map(verdictOf);
  return {
    total: outcomes.length,
    passed: verdicts.filter((v) => v === 'pass').length,
    failed: verdicts.filter((v) => v === 'fail').length,
    pending: verdicts.filter((v) => v === 'pending').length,
    landed: [...new Set(outcomes.flatMap((o) => o.judgement?.landed ?? []))].sort(),
  };
}

export function verdictOf(o: Outcome): 'pass' | 'fail' | 'pending' {
  return o.error ? 'fail' : (o.judgement?.verdict ?? 'fail');
}

function pad(s: string, n: number): string {
  const len = [...s].length;
  return len >= n ? s : s + ' '.repeat(n - len);
}

function clip(s: string, n: number): string {
  return [...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s;
}

export function renderTable(outcomes: readonly Outcome[], totalMs: number, opts: { details?: 'failures' | 'all' } = {}): string {
  const rows = outcomes.map((o) => {
    const j = o.judgement;
    return [
      MARK[verdictOf(o)],
      o.scenario.name,
      j ? j.expectedCause : '-',
      o.error ? 'ERROR' : j!.actualCause,
      j ? j.expectedGrade : o.scenario.expect.grade.overall,
      j ? j.actualGrade : '-',
      o.error ? '' : o.wallMs < 1000 ? `${Math.round(o.wallMs)}ms` : `${(o.wallMs / 1000).toFixed(1)}s`,
    ];
  });
  const head = ['', 'scenario', 'expected first cause', 'actual first cause', 'expected grade', 'actual grade', 'time'];
  const widths = [1, 20, 36, 36, 18, 18, 6];
  const line = (cells: string[]) => cells.map((c, i) => pad(clip(c, widths[i]!), widths[i]!)).join('  ').trimEnd();
  const out = [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];

  const details = opts.details ?? 'failures';
  for (const o of outcomes) {
    const v = verdictOf(o);
    if (details === 'failures' && v === 'pass') continue;
    out.push('', `${MARK[v]} ${o.scenario.name}: ${o.scenario.title}`);
    if (o.error) out.push(`    error: ${o.error.split('\n').slice(0, 8).join('\n           ')}`);
    for (const i of o.judgement?.items ?? []) {
      if (details === 'failures' && i.state === 'ok') continue;
      out.push(`    ${i.state === 'ok' ? '✓' : i.state === 'wrong' ? '✗' : '…'} ${i.what}: expected ${i.expected}, got ${i.actual}`);
    }
    if (o.judgement?.waitingFor.length) out.push(`    pending: waits for ${o.judgement.waitingFor.join(', ')} (not in the engine yet)`);
  }

  const t = totals(outcomes);
  out.push('', `${t.passed}/${t.total} diagnosed correctly${t.failed ? `, ${t.failed} wrong` : ''}${t.pending ? `, ${t.pending} pending (checks not in the engine yet)` : ''}; lab ${(totalMs / 1000).toFixed(1)} s`);
  if (t.landed.length) out.push(`landed (remove from test/scenarios/pending.ts): ${t.landed.join(', ')}`);
  return out.join('\n');
}

export function toJsonSummary(outcomes: readonly Outcome[], totalMs: number): Record<string, unknown> {
  return {
    ...totals(outcomes),
    durationMs: Math.round(totalMs),
    scenarios: outcomes.map((o) => ({
      name: o.scenario.name,
      title: o.scenario.title,
      verdict: verdictOf(o),
      error: o.error ?? null,
      wallMs: Math.round(o.wallMs),
      setupMs: Math.round(o.setupMs),
      expectedFirstCause: o.judgement?.expectedCause ?? null,
      actualFirstCause: o.judgement?.actualCause ?? null,
      expectedGrade: o.judgement?.expectedGrade ?? null,
      actualGrade: o.judgement?.actualGrade ?? null,
      waitingFor: o.judgement?.waitingFor ?? [],
      items: o.judgement?.items ?? [],
    })),
  };
}
