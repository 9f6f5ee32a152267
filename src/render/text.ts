// Terminal report. Colour (ANSI) only when asked: the CLI passes
// process.stdout.isTTY. Server text is stripped of control characters so a
// hostile SOFTWARE string cannot move the cursor or recolour the terminal.
import type { Report, ReportCheck } from '../tester/report';
import type { Grade, Status } from '../tester/types';
import { cleanText } from './escape';
import { formatDuration, formatMs } from './format';
import { FAMILY_LABEL, STATUS_LABEL, checkTitle, displaySummary, rtcSections, runChecks, serverRows, serverSections, sourceLabel, timingsLabel, topProblems, whereText, whyNotHigher, gradeParts, shownOverall } from './view';

const ANSI = { red: '31', yellow: '33', green: '32', cyan: '36', dim: '2', bold: '1' } as const;
type Colour = keyof typeof ANSI;

const STATUS_COLOUR: Record<Status, Colour> = { pass: 'green', warn: 'yellow', fail: 'red', skip: 'dim', info: 'cyan' };
const GRADE_COLOUR: Record<Grade, Colour> = { Excellent: 'green', Great: 'green', Good: 'cyan', Poor: 'yellow', Fail: 'red' };
const VERDICT_COLOUR = { ok: 'green', warn: 'yellow', unsafe: 'red' } as const;

export interface TextOptions {
  color: boolean;
}

export function renderText(r: Report, opts: TextOptions): string {
  const c = (colour: Colour, s: string): string => (opts.color ? `\u001b[${ANSI[colour]}m${s}\u001b[0m` : s);
  const grade = (g: Grade): string => c(GRADE_COLOUR[g], g);
  const status = (s: Status): string => c(STATUS_COLOUR[s], STATUS_LABEL[s]);
  const t = cleanText;
  const out: string[] = [];

  out.push(`${c('bold', 'VoIP check')} of ${t(sourceLabel(r))}  ${t(r.startedAt)}  ${formatDuration(r.durationMs)}`);
  const parts = gradeParts(r).map((p) => `   ${p.label}: ${c(GRADE_COLOUR[p.raw], p.grade)}`).join('');
  out.push(`Overall: ${grade(shownOverall(r))}${parts}   Security: ${c(VERDICT_COLOUR[r.security.verdict], r.security.verdict)}${r.security.findings.length ? ` (${r.security.findings.join(', ')})` : ''}`);
  out.push('');

  const problems = topProblems(r);
  if (problems.length) {
    out.push(c('bold', 'Fix first:'));
    for (const p of problems) {
      out.push(`  ${status(p.status)} ${p.ids.join(', ')} ${p.title}${p.where.length ? `  [${t(whereText(p, 99))}]` : ''}`);
      out.push(`       ${t(p.summary)}`);
      if (p.hint) out.push(`       ${c('cyan', 'fix:')} ${t(p.hint)}`);
    }
    out.push('');
  }
  const why = whyNotHigher(r, problems);
  if (why.length) {
    out.push(c('bold', 'Why not higher:'));
    for (const w of why) out.push(`  - ${t(w)}`);
    out.push('');
  }
  if (r.uris.length) {
    out.push(c('bold', 'Servers:'));
    const rows = new Map(serverRows(r).map((x) => [x.uri, x]));
    for (const u of r.uris) {
      const row = rows.get(u.uri);
      const shown = row?.grade[u.family] ?? u.grade;
      const problem = row?.problem ? `${row.problem.critical ? 'unsafe: ' : ''}${row.problem.id}` : null;
      const extra = [problem, u.relayedAddress ? `relay ${t(u.relayedAddress)}` : null, timingsLabel(u.timingsMs) || null].filter(Boolean).join(', ');
      out.push(`  ${grade(shown).padEnd(opts.color ? 18 : 9)} ${t(u.uri)}  ${FAMILY_LABEL[u.family]}  ${t(u.address ?? 'no address')}${extra ? `  (${extra})` : ''}`);
    }
    out.push('');
  }
  const line = (x: ReportCheck, indent: string): string => `${indent}${status(x.status)} ${x.id} ${checkTitle(x.id)}: ${t(displaySummary(x))}`;
  out.push(c('bold', 'Checks:'));
  const run = runChecks(r);
  if (run.length) {
    out.push('  run');
    for (const x of run) out.push(line(x, '    '));
  }
  for (const s of serverSections(r)) {
    out.push(`  ${t(s.uri)}`);
    for (const g of s.groups) {
      out.push(`    ${t(g.heading)}`);
      for (const x of g.checks) out.push(line(x, '      '));
    }
  }
  for (const s of rtcSections(r)) {
    out.push(`  ${t(s.title)}${s.grade ? `: ${grade(s.grade)}` : ''}`);
    for (const x of s.checks) out.push(line(x, `    ${x.uri ? `[${t(x.uri)}] ` : ''}`));
  }
  if (r.quality.length) {
    out.push('', c('bold', 'Path quality:'));
    for (const q of r.quality) {
      out.push(`  ${t(q.uri)} ${FAMILY_LABEL[q.family] ?? t(q.family)}: RTT p50 ${formatMs(q.rttMs.p50)}, p95 ${formatMs(q.rttMs.p95)}, jitter ${formatMs(q.jitterMs)}, loss ${q.lossPct.up}% up / ${q.lossPct.down}% down, goodput ${Math.round(q.goodputKbps)} kbit/s`);
    }
  }
  return `${out.join('\n')}\n`;
}
