// Markdown source of a report, in the parts the Matrix message and the
// documents are made of: the summary an admin reads first (verdict line,
// "Fix first" with each distinct fix once, "Why not higher", a compact server
// table), then one details section per server (checks under the family they
// are about), the run-wide checks, the browser's and the path quality.
import type { Report, ReportCheck } from '../tester/report';
import { browserSection, browserSummaryLine } from './browser';
import { mdCell, mdEscape, mdHint } from './escape';
import { formatDuration, formatMs, formatTime } from './format';
import {
  FAMILY_LABEL, FIX_LIMIT, STATUS_ICON, VERDICT_ICON, allProblems, checkTitle, displaySummary, fixNumber, gradeParts, shownOverall, rtcSections, runChecks, serverRows, serverSections, sourceLabel, timingsLabel, whereText, whyNotHigher,
  type MarkdownSection, type Problem,
} from './view';

export type { MarkdownSection } from './view';

export interface MarkdownParts {
  summary: string;
  table: string;
  details: MarkdownSection[];
}

function checkLine(c: ReportCheck, problems: readonly Problem[]): string {
  const head = `${STATUS_ICON[c.status]} ${mdEscape(checkTitle(c.id))} (${c.id}): ${mdEscape(displaySummary(c))}`;
  if (!c.hint || (c.status !== 'warn' && c.status !== 'fail')) return `- ${head}`;
  const n = fixNumber(problems.slice(0, FIX_LIMIT), c);
  return `- ${head}  \n  → ${n ? `fix ${n} of the report` : mdHint(c.hint)}`;
}

export function markdownSummary(r: Report): string {
  const g = r.grade;
  const sec = r.security;
  const lines: string[] = [];
  const secIds = sec.findings.length ? ` (${sec.findings.map((id) => mdEscape(id)).join(', ')})` : '';
  lines.push(`## VoIP check: ${mdEscape(shownOverall(r))} · security ${VERDICT_ICON[sec.verdict]} ${sec.verdict}${secIds}`, '');
  lines.push(`${gradeParts(r).map((p) => `**${p.label}** ${mdEscape(p.grade)} · `).join('')}${mdEscape(sourceLabel(r))} · ${mdEscape(formatTime(r.startedAt))} · ${mdEscape(formatDuration(r.durationMs))}`, '');
  const fromBrowser = browserSummaryLine(r);
  if (fromBrowser) lines.push(fromBrowser, '');
  const problems = allProblems(r);
  if (problems.length > 0) {
    lines.push('### Fix first', '');
    problems.slice(0, FIX_LIMIT).forEach((p, i) => {
      const sev = p.severity === 'critical' ? ', critical' : p.status === 'warn' ? ', warning' : '';
      const where = whereText(p);
      lines.push(`${i + 1}. ${STATUS_ICON[p.status]} **${mdEscape(p.title)}** (${p.ids.join(', ')}${sev})${where ? ` on ${mdEscape(where)}` : ''}  `);
      lines.push(`   ${mdEscape(p.summary)}${p.count > 1 ? ` (${p.count} findings)` : ''}${p.hint ? '  ' : ''}`);
      if (p.hint) lines.push(`   → ${mdHint(p.hint)}`);
    });
    if (problems.length > FIX_LIMIT) lines.push('', `${problems.length - FIX_LIMIT} more in the thread.`);
    lines.push('');
  } else {
    lines.push('Everything tested works. ✅', '');
  }
  const why = whyNotHigher(r, problems.slice(0, FIX_LIMIT));
  if (why.length > 0) {
    lines.push('### Why not higher', '');
    for (const w of why) lines.push(`- ${mdHint(w)}`);
    lines.push('');
  }
  return lines.join('\n');
}

/** The compact server table: one row per server, grades per family, the problem that matters most there. */
export function markdownTable(r: Report): string {
  if (r.uris.length === 0 && !r.checks.some((c) => c.uri !== null) && !r.rtc?.length) return '### Servers\n\nNo server address was tested.\n';
  const problems = allProblems(r).slice(0, FIX_LIMIT);
  const rows = serverRows(r, problems);
  const lines = ['### Servers', ...(rows.length ? ['', '| Server | IPv4 | IPv6 | Problem |', '|---|---|---|---|'] : [])];
  for (const row of rows) {
    const p = row.problem;
    const problem = p
      ? `${p.critical ? VERDICT_ICON.unsafe : STATUS_ICON[p.status]} ${p.id}${p.fix ? ` (fix ${p.fix})` : ` ${checkTitle(p.id)}`}${p.more ? ` +${p.more} more` : ''}`
      : '✅ none';
    lines.push(`| ${mdCell(row.uri)} | ${mdCell(row.grade.ipv4)} | ${mdCell(row.grade.ipv6)} | ${mdCell(problem)} |`);
  }
  // MatrixRTC (Element Call, Element X): one row per LiveKit transport, its grade and the media paths that worked.
  if (r.rtc?.length) {
    lines.push('', '| MatrixRTC transport | Grade | Media paths |', '|---|---|---|');
    for (const t of r.rtc) {
      const paths = (['udp', 'tcp', 'relay'] as const).filter((p) => t.paths[p]).join(', ') || 'none';
      lines.push(`| ${mdCell(t.serviceUrl)} | ${mdCell(t.grade)} | ${mdCell(paths)} |`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The details, one section per thread reply: run-wide checks, each server, the browser's results, path quality. */
export function markdownDetails(r: Report): MarkdownSection[] {
  const out: MarkdownSection[] = [];
  const problems = allProblems(r);
  const browser = browserSection(r);
  if (browser) out.push(browser);
  const run = runChecks(r);
  if (run.length > 0) out.push({ title: 'Homeserver and run-wide checks', body: run.map((c) => checkLine(c, problems)).join('\n') });
  const rows = new Map(serverRows(r, problems.slice(0, FIX_LIMIT)).map((x) => [x.uri, x]));
  for (const s of serverSections(r)) {
    const lines: string[] = [];
    for (const g of s.groups) {
      const target = g.target;
      const timings = target ? timingsLabel(target.timingsMs) : '';
      const relayed = target?.relayedAddress ? `relay ${target.relayedAddress}` : '';
      const extra = [relayed, timings].filter(Boolean).join('; ');
      if (lines.length) lines.push('');
      lines.push(`**${mdEscape(g.heading)}**${extra ? ` (${mdEscape(extra)})` : ''}`, '', ...g.checks.map((c) => checkLine(c, problems)));
    }
    const row = rows.get(s.uri);
    const grades = row ? (['ipv4', 'ipv6'] as const).filter((f) => row.grade[f]).map((f) => `${FAMILY_LABEL[f]} ${row.grade[f]}`) : [];
    out.push({ title: grades.length ? `${s.uri}: ${grades.join(', ')}` : s.uri, body: lines.join('\n') });
  }
  for (const s of rtcSections(r)) {
    const body = s.checks.map((c) => (c.uri ? checkLine(c, problems).replace(/^- /, `- ${mdEscape(c.uri)}: `) : checkLine(c, problems))).join('\n');
    out.push({ title: s.grade ? `${s.title}: ${s.grade}` : s.title, body });
  }
  if (r.quality.length > 0) {
    const q = ['| Server | Family | RTT p50 / p95 | Jitter | Loss up / down | Goodput |', '|---|---|---|---|---|---|'];
    for (const x of r.quality) {
      q.push(
        `| ${mdCell(x.uri)} | ${FAMILY_LABEL[x.family] ?? mdCell(x.family)} | ${mdCell(`${formatMs(x.rttMs.p50)} / ${formatMs(x.rttMs.p95)}`)} | ${mdCell(formatMs(x.jitterMs))} | ${mdCell(`${x.lossPct.up} / ${x.lossPct.down} %`)} | ${mdCell(`${Math.round(x.goodputKbps)} kbit/s`)} |`,
      );
    }
    out.push({ title: 'Path quality', body: q.join('\n') });
  }
  return out;
}

export function markdownParts(r: Report): MarkdownParts {
  return { summary: markdownSummary(r), table: markdownTable(r), details: markdownDetails(r) };
}

export function renderMarkdown(r: Report): string {
  const p = markdownParts(r);
  const details = p.details.map((d) => `#### ${mdEscape(d.title)}\n\n${d.body}\n`).join('\n');
  return `${p.summary}\n${p.table}\n### Details\n\n${details}\n_${mdEscape(`${r.tool.name} ${r.tool.version}`)}_\n`;
}
