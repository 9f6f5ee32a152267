// Plain text for a Matrix `body`: what a person reads in a client without
// HTML, or in a notification. The summary's plain form (verdict, each distinct
// fix once with its servers, why not higher, one line per server), and the
// plain form of a details section (a thread reply).
import type { Report } from '../tester/report';
import { browserPlainLine } from './browser';
import { cleanText } from './escape';
import { formatDuration, formatTime } from './format';
import { FAMILY_LABEL, FIX_LIMIT, allProblems, checkTitle, gradeParts, serverRows, shownOverall, sourceLabel, whereText, whyNotHigher } from './view';

export function renderPlain(r: Report): string {
  const t = cleanText;
  const g = r.grade;
  const out: string[] = [];
  const sec = r.security;
  const parts = gradeParts(r).map((p) => `${p.label} ${p.grade}`).join('; ');
  out.push(`VoIP check of ${t(sourceLabel(r))}: ${shownOverall(r)}${parts ? ` (${parts})` : ''}. Security: ${sec.verdict}${sec.findings.length ? ` (${sec.findings.join(', ')})` : ''}.`);
  out.push(`${formatTime(r.startedAt)}, ${formatDuration(r.durationMs)}.`);
  const browser = browserPlainLine(r);
  if (browser) out.push('', browser);
  const problems = allProblems(r);
  if (problems.length) {
    out.push('', 'Fix first:');
    problems.slice(0, FIX_LIMIT).forEach((p, i) => {
      const where = whereText(p);
      out.push(`${i + 1}. ${p.title} (${p.ids.join(', ')}${p.severity === 'critical' ? ', critical' : p.status === 'warn' ? ', warning' : ''})${where ? ` on ${t(where)}` : ''}: ${t(p.summary)}`);
      if (p.hint) out.push(`   What to do: ${t(p.hint)}`);
    });
    if (problems.length > FIX_LIMIT) out.push(`${problems.length - FIX_LIMIT} more in the thread.`);
  } else {
    out.push('', 'Everything tested works.');
  }
  const why = whyNotHigher(r, problems.slice(0, FIX_LIMIT));
  if (why.length) {
    out.push('', 'Why not higher:');
    for (const w of why) out.push(`- ${t(w)}`);
  }
  const rows = serverRows(r, problems.slice(0, FIX_LIMIT));
  if (rows.length) {
    out.push('', 'Servers:');
    for (const row of rows) {
      const grades = (['ipv4', 'ipv6'] as const).filter((f) => row.grade[f]).map((f) => `${FAMILY_LABEL[f]} ${row.grade[f]}`).join(', ') || 'not tested';
      const p = row.problem;
      const problem = p ? `; ${p.id}${p.fix ? ` (fix ${p.fix})` : ` ${checkTitle(p.id)}`}${p.more ? ` +${p.more} more` : ''}` : '';
      out.push(`- ${t(row.uri)}: ${grades}${problem}`);
    }
  }
  return out.join('\n');
}

/**
 * A details section's Markdown as plain text: our Markdown is generated with
 * every special character escaped, so undoing the escapes and the few
 * constructs we emit (headings, bold, hard breaks, tables) is exact.
 */
export function markdownToPlain(md: string): string {
  return md
    .split('\n')
    .filter((l) => !/^\|?\s*-{3,}\s*\|/.test(l))
    .map((l) => {
      let x = l.replace(/^#{1,6} /, '').replace(/\*\*(.*?)\*\*/g, '$1').replace(/ {2}$/, '');
      if (x.startsWith('| ')) x = x.slice(2, -2).split(/(?<!\\) \| /).join(' · ');
      return x.replace(/\\(.)/g, '$1');
    })
    .join('\n');
}
