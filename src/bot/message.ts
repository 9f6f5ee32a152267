// The one report message: m.notice, formatted_body from the Matrix HTML
// renderer, body from the plain renderer, a "since last time" block, and a
// pointer to the JSON. Kept under the 64 KiB event limit by folding away the
// per-URI details first and cutting the plain text last.
import { renderHtml, renderPlain } from '../render';
import type { Report } from '../tester/report';
import { escapeHtml } from '../commands/format';

/** The event limit is 65536 bytes including envelope; leave room for it. */
export const MAX_CONTENT_BYTES = 60_000;

export interface MessageContent {
  msgtype: 'm.notice';
  body: string;
  format?: 'org.matrix.custom.html';
  formatted_body?: string;
  'm.mentions'?: { user_ids: string[] };
  [k: string]: unknown;
}

export interface Extras {
  /** Lines before the report (regression / changes), plain text. */
  headline?: string[];
  /** Users to mention (pills) in the headline. */
  mention?: string[];
  /** Lines after the report (e.g. how to get the JSON). */
  footer?: string[];
}

export function contentBytes(c: object): number {
  return Buffer.byteLength(JSON.stringify(c), 'utf8');
}

const pill = (u: string) => `<a href="https://matrix.to/#/${encodeURIComponent(u)}">${escapeHtml(u)}</a>`;

export function reportContent(report: Report, extras: Extras = {}, maxBytes = MAX_CONTENT_BYTES): MessageContent {
  const mention = extras.mention ?? [];
  const headText = [...(mention.length ? [mention.join(' ')] : []), ...(extras.headline ?? [])];
  const headHtml = [
    ...(mention.length ? [`<p>${mention.map(pill).join(' ')}</p>`] : []),
    ...(extras.headline?.length ? [`<p><strong>${extras.headline.map(escapeHtml).join('<br>')}</strong></p>`] : []),
  ].join('');
  const foot = extras.footer ?? [];
  const build = (html: string, plain: string): MessageContent => ({
    msgtype: 'm.notice',
    body: [...headText, ...(headText.length ? [''] : []), plain, ...(foot.length ? ['', ...foot] : [])].join('\n'),
    format: 'org.matrix.custom.html',
    formatted_body: `${headHtml}${html}${foot.length ? `<p>${foot.map(escapeHtml).join('<br>')}</p>` : ''}`,
    ...(mention.length ? { 'm.mentions': { user_ids: mention } } : {}),
  });
  const plain = renderPlain(report);
  const html = renderHtml(report, { matrix: true });
  let c = build(html, plain);
  if (contentBytes(c) <= maxBytes) return c;
  const note = 'Details were too long for one Matrix message; the full report is in the JSON (see below).';
  // 1. drop folded details, largest first, until it fits.
  const blocks = [...html.matchAll(/<details>[\s\S]*?<\/details>\n?/g)].map((m) => m[0]).sort((a, b) => b.length - a.length);
  let h = html;
  for (const b of blocks) {
    h = h.replace(b, '');
    c = build(`${h}<p><em>${escapeHtml(note)}</em></p>`, `${plain}\n\n${note}`);
    if (contentBytes(c) <= maxBytes) return c;
  }
  // 2. still too big: cut both texts (on a line boundary) with the note.
  const budget = Math.floor(maxBytes / 3);
  const cut = (s: string) => (s.length > budget ? `${s.slice(0, s.lastIndexOf('\n', budget) > 0 ? s.lastIndexOf('\n', budget) : budget)}\n…` : s);
  const plainCut = cut(plain);
  return build(`<pre>${escapeHtml(plainCut)}</pre><p><em>${escapeHtml(note)}</em></p>`, `${plainCut}\n\n${note}`);
}

/** ✅ all good, ❌ fail or unsafe, ⚠️ in between. */
export function resultEmoji(report: Report | null): string {
  if (!report) return '❌';
  if (report.grade.overall === 'Fail' || report.security.verdict === 'unsafe') return '❌';
  if (report.grade.overall === 'Poor' || report.security.verdict === 'warn') return '⚠️';
  return '✅';
}

export function notice(text: string, html?: string): MessageContent {
  return html ? { msgtype: 'm.notice', body: text, format: 'org.matrix.custom.html', formatted_body: html } : { msgtype: 'm.notice', body: text };
}
