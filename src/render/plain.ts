// Plain text for a Matrix `body`: what a person reads in a client without
// HTML, or in a notification. The summary, the fixes and one line per server;
// the full per-check detail lives in the formatted (HTML) body.
import type { Report } from '../tester/report';
import { browserPlainLine } from './browser';
import { cleanText } from './escape';
import { FAMILY_LABEL, checkTitle, sourceLabel, topProblems } from './view';

export function renderPlain(r: Report): string {
  const t = cleanText;
  const g = r.grade;
  const out: string[] = [];
  const sec = r.security;
  out.push(`VoIP check of ${t(sourceLabel(r))}: ${g.overall} (IPv4 ${g.ipv4}, IPv6 ${g.ipv6}). Security: ${sec.verdict}${sec.findings.length ? ` (${sec.findings.join(', ')})` : ''}.`);
  const problems = topProblems(r);
  if (problems.length) {
    out.push('', 'Fix first:');
    problems.forEach((p, i) => {
      const where = p.where.length ? ` on ${p.where.map(t).join('; ')}` : '';
      out.push(`${i + 1}. ${p.title} (${p.id}${p.status === 'warn' ? ', warning' : ''})${where}: ${t(p.summary)}`);
      if (p.hint) out.push(`   What to do: ${t(p.hint)}`);
    });
  } else {
    out.push('', 'Everything tested works.');
  }
  if (g.whyNotHigher.length) {
    out.push('', 'Why not higher:');
    for (const w of g.whyNotHigher) out.push(`- ${t(w.text)}`);
  }
  if (r.uris.length) {
    out.push('', 'Servers:');
    for (const u of r.uris) {
      const ff = u.firstFailure ? `, first failure: ${checkTitle(u.firstFailure)} (${u.firstFailure})` : '';
      out.push(`- ${t(u.uri)} over ${FAMILY_LABEL[u.family]}${u.address ? ` (${t(u.address)})` : ''}: ${u.grade}${ff}`);
    }
  }
  const browser = browserPlainLine(r);
  if (browser) out.push('', browser);
  out.push('', 'Each check in detail is in the formatted message.');
  return out.join('\n');
}
