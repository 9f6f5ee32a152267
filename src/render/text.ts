// Terminal report. Colour (ANSI) only when asked: the CLI passes
// process.stdout.isTTY. Server text is stripped of control characters so a
// hostile SOFTWARE string cannot move the cursor or recolour the terminal.
import type { Report, ReportCheck } from '../tester/report';
import type { Grade, Status } from '../tester/types';
import { cleanText } from './escape';
import { FAMILY_LABEL, STATUS_LABEL, checkTitle, formatDuration, runChecks, sourceLabel, timingsLabel, topProblems, uriSections } from './view';

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
  out.push(`Overall: ${grade(r.grade.overall)}   IPv4: ${grade(r.grade.ipv4)}   IPv6: ${grade(r.grade.ipv6)}   Security: ${c(VERDICT_COLOUR[r.security.verdict], r.security.verdict)}${r.security.findings.length ? ` (${r.security.findings.join(', ')})` : ''}`);
  out.push('');

  const problems = topProblems(r);
  if (problems.length) {
    out.push(c('bold', 'Fix first:'));
    for (const p of problems) {
      out.push(`  ${status(p.status)} ${p.id} ${p.title}${p.where.length ? `  [${p.where.map(t).join('; ')}]` : ''}`);
      out.push(`       ${t(p.summary)}`);
      if (p.hint) out.push(`       ${c('cyan', 'fix:')} ${t(p.hint)}`);
    }
    out.push('');
  }
  if (r.grade.whyNotHigher.length) {
    out.push(c('bold', 'Why not higher:'));
    for (const w of r.grade.whyNotHigher) out.push(`  - ${t(w.text)} [${t(w.check)}]`);
    out.push('');
  }
  if (r.uris.length) {
    out.push(c('bold', 'Servers:'));
    for (const u of r.uris) {
      const extra = [u.firstFailure ? `first failure ${u.firstFailure}` : null, u.relayedAddress ? `relay ${t(u.relayedAddress)}` : null, timingsLabel(u.timingsMs) || null].filter(Boolean).join(', ');
      out.push(`  ${grade(u.grade).padEnd(opts.color ? 18 : 9)} ${t(u.uri)}  ${FAMILY_LABEL[u.family]}  ${t(u.address ?? 'no address')}${extra ? `  (${extra})` : ''}`);
    }
    out.push('');
  }
  const line = (x: ReportCheck, indent: string): string => `${indent}${status(x.status)} ${x.id} ${checkTitle(x.id)}: ${t(x.summary)}`;
  out.push(c('bold', 'Checks:'));
  const run = runChecks(r);
  if (run.length) {
    out.push('  run');
    for (const x of run) out.push(line(x, '    '));
  }
  for (const s of uriSections(r)) {
    out.push(`  ${t(s.uri)}`);
    for (const x of s.uriChecks) out.push(line(x, '    '));
    for (const f of s.families) {
      out.push(`    ${FAMILY_LABEL[f.family]}`);
      for (const x of f.checks) out.push(line(x, '      '));
    }
  }
  if (r.quality.length) {
    out.push('', c('bold', 'Path quality:'));
    for (const q of r.quality) {
      out.push(`  ${t(q.uri)} ${FAMILY_LABEL[q.family] ?? t(q.family)}: RTT p50 ${q.rttMs.p50} ms, p95 ${q.rttMs.p95} ms, jitter ${q.jitterMs} ms, loss ${q.lossPct.up}% up / ${q.lossPct.down}% down, goodput ${q.goodputKbps} kbit/s`);
    }
  }
  return `${out.join('\n')}\n`;
}
