// Markdown source of a report: the summary an admin reads first (grades,
// security verdict, what to fix first with hints, why not higher), then the
// per-URI table and the details. Split into sections so the HTML renderer can
// fold the details.
import type { Report, ReportCheck } from '../tester/report';
import { browserSection, browserSummaryLine } from './browser';
import { mdCell, mdEscape, mdHint } from './escape';
import { FAMILY_LABEL, STATUS_ICON, VERDICT_ICON, checkTitle, formatDuration, runChecks, sourceLabel, timingsLabel, topProblems, uriSections } from './view';

export interface MarkdownSection {
  /** Plain text title (renderers escape it). */
  title: string;
  body: string;
}

export interface MarkdownParts {
  summary: string;
  table: string;
  details: MarkdownSection[];
}

function checkLine(c: ReportCheck): string {
  const head = `${STATUS_ICON[c.status]} **${c.id}** ${mdEscape(checkTitle(c.id))}: ${mdEscape(c.summary)}`;
  return c.hint && (c.status === 'warn' || c.status === 'fail') ? `- ${head}  \n  → ${mdHint(c.hint)}` : `- ${head}`;
}

export function markdownSummary(r: Report): string {
  const lines: string[] = [];
  const g = r.grade;
  lines.push(`## VoIP check: ${mdEscape(g.overall)}`, '');
  const sec = r.security;
  const secIds = sec.findings.length ? ` (${sec.findings.map((id) => mdEscape(id)).join(', ')})` : '';
  lines.push(`**IPv4** ${mdEscape(g.ipv4)} · **IPv6** ${mdEscape(g.ipv6)} · **Security** ${VERDICT_ICON[sec.verdict]} ${sec.verdict}${secIds}  `);
  lines.push(`${mdEscape(sourceLabel(r))} · ${mdEscape(r.startedAt)} · ${mdEscape(formatDuration(r.durationMs))}`, '');
  const fromBrowser = browserSummaryLine(r); // the browser helper's "from your network" line, when present
  if (fromBrowser) lines.push(fromBrowser, '');
  const problems = topProblems(r);
  if (problems.length > 0) {
    lines.push('### Fix first', '');
    problems.forEach((p, i) => {
      const where = p.where.length ? ` (${p.where.map((w) => mdEscape(w)).join('; ')})` : '';
      lines.push(`${i + 1}. ${STATUS_ICON[p.status]} **${p.id}** ${mdEscape(p.title)}${where}: ${mdEscape(p.summary)}${p.hint ? '  ' : ''}`);
      if (p.hint) lines.push(`   → ${mdHint(p.hint)}`);
    });
    lines.push('');
  } else {
    lines.push('Everything tested works. ✅', '');
  }
  if (g.whyNotHigher.length > 0) {
    lines.push('### Why not higher', '');
    for (const w of g.whyNotHigher) lines.push(`- **${mdEscape(w.check)}** ${mdHint(w.text)}`);
    lines.push('');
  }
  return lines.join('\n');
}

export function markdownTable(r: Report): string {
  if (r.uris.length === 0) return '### Servers\n\nNo server address was tested.\n';
  const lines = ['### Servers', '', '| URI | Family | Address | Grade | First failure | Relayed address |', '|---|---|---|---|---|---|'];
  for (const u of r.uris) {
    const ff = u.firstFailure ? `${u.firstFailure} ${checkTitle(u.firstFailure)}` : null;
    lines.push(`| ${mdCell(u.uri)} | ${FAMILY_LABEL[u.family]} | ${mdCell(u.address)} | ${mdCell(u.grade)} | ${mdCell(ff)} | ${mdCell(u.relayedAddress)} |`);
  }
  return `${lines.join('\n')}\n`;
}

export function markdownDetails(r: Report): MarkdownSection[] {
  const out: MarkdownSection[] = [];
  const run = runChecks(r);
  if (run.length > 0) out.push({ title: 'Homeserver and run-wide checks', body: run.map(checkLine).join('\n') });
  for (const s of uriSections(r)) {
    const lines: string[] = [];
    for (const t of s.targets) {
      const timings = timingsLabel(t.timingsMs);
      lines.push(`**${FAMILY_LABEL[t.family]}** ${mdEscape(t.address ?? 'no address')}: ${mdEscape(t.grade)}${timings ? ` (${mdEscape(timings)})` : ''}  `);
    }
    if (lines.length) lines.push('');
    lines.push(...s.uriChecks.map(checkLine));
    for (const f of s.families) {
      if (lines.length) lines.push('');
      lines.push(`**${FAMILY_LABEL[f.family]}**`, '', ...f.checks.map(checkLine));
    }
    const worst = s.targets.map((t) => t.grade);
    const grade = worst.includes('Fail') ? 'Fail' : worst.includes('Poor') ? 'Poor' : worst.length ? 'Excellent' : null;
    out.push({ title: grade ? `${s.uri} (${s.targets.map((t) => `${FAMILY_LABEL[t.family]} ${t.grade}`).join(', ')})` : s.uri, body: lines.join('\n') });
  }
  if (r.quality.length > 0) {
    const q = ['| URI | Family | RTT p50 / p95 | Jitter | Loss up / down | Goodput |', '|---|---|---|---|---|---|'];
    for (const x of r.quality) {
      q.push(`| ${mdCell(x.uri)} | ${FAMILY_LABEL[x.family] ?? mdCell(x.family)} | ${mdCell(`${x.rttMs.p50} / ${x.rttMs.p95} ms`)} | ${mdCell(`${x.jitterMs} ms`)} | ${mdCell(`${x.lossPct.up} / ${x.lossPct.down} %`)} | ${mdCell(`${x.goodputKbps} kbit/s`)} |`);
    }
    out.push({ title: 'Path quality', body: q.join('\n') });
  }
  return out;
}

export function markdownParts(r: Report): MarkdownParts {
  // The browser helper's "from your network" section, when the report has one (additive).
  const section = browserSection(r);
  return {
    summary: markdownSummary(r),
    table: markdownTable(r),
    details: section ? [section, ...markdownDetails(r)] : markdownDetails(r),
  };
}

export function renderMarkdown(r: Report): string {
  const p = markdownParts(r);
  const details = p.details.map((d) => `#### ${mdEscape(d.title)}\n\n${d.body}\n`).join('\n');
  return `${p.summary}\n${p.table}\n### Details\n\n${details}\n_${mdEscape(`${r.tool.name} ${r.tool.version}`)}_\n`;
}
