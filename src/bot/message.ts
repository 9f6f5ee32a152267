// The report as Matrix events: the summary (m.notice, a reply to the command
// when there is one) with the "since last time" lines under its verdict, and
// the details as m.thread replies under it (each also an in-reply-to the
// previous one, so clients without threads show them in order). Every event
// is kept under the 64 KiB limit by cutting its plain text as a last resort.
import { threadedReport } from '../render';
import { htmlEscape } from '../render/escape';
import type { Report } from '../tester/report';

/** The event limit is 65536 bytes including envelope; leave room for it. */
export const MAX_CONTENT_BYTES = 60_000;

export interface MessageContent {
  msgtype: 'm.notice';
  body: string;
  format?: 'org.matrix.custom.html';
  formatted_body?: string;
  'm.mentions'?: { user_ids: string[] };
  'm.relates_to'?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface Extras {
  /** Lines under the verdict (what changed since the previous run), plain text. */
  headline?: string[];
  /** Users to mention (pills) above the report. */
  mention?: string[];
  /** Lines after the summary (e.g. how to get the JSON). */
  footer?: string[];
}

export function contentBytes(c: object): number {
  return Buffer.byteLength(JSON.stringify(c), 'utf8');
}

/** A user pill (matrix.to link). */
export const pill = (u: string): string => `<a href="https://matrix.to/#/${encodeURIComponent(u)}">${htmlEscape(u)}</a>`;

/** A room link as clients turn it into a pill: matrix.to with a via server (room ids need not name one). */
export function roomLink(roomId: string, name: string, via: string): { html: string; text: string } {
  const url = `https://matrix.to/#/${encodeURIComponent(roomId)}?via=${encodeURIComponent(via)}`;
  return { html: `<a href="${htmlEscape(url)}">${htmlEscape(name)}</a>`, text: `"${name}" (${url})` };
}

/** Insert lines after the first line of a plain body and after the first heading of its HTML. */
function underVerdict(body: string, html: string, lines: string[]): { body: string; html: string } {
  if (!lines.length) return { body, html };
  const nl = body.indexOf('\n');
  const b = nl < 0 ? `${body}\n${lines.join('\n')}` : `${body.slice(0, nl)}\n${lines.join('\n')}${body.slice(nl)}`;
  const block = `<p><strong>${lines.map(htmlEscape).join('<br>')}</strong></p>`;
  const end = html.indexOf('</h2>');
  const h = end < 0 ? `${block}${html}` : `${html.slice(0, end + 5)}\n${block}${html.slice(end + 5)}`;
  return { body: b, html: h };
}

function fit(c: MessageContent, maxBytes: number): MessageContent {
  if (contentBytes(c) <= maxBytes) return c;
  const note = 'This message was too long for Matrix; the full report is in the JSON.';
  // The body appears twice (plain and <pre>), escaping can grow it: shrink until it fits.
  for (let budget = Math.floor(maxBytes / 3); ; budget = Math.floor(budget * 0.8)) {
    const at = c.body.lastIndexOf('\n', budget);
    const body = `${c.body.slice(0, at > 0 ? at : budget)}\n…\n\n${note}`;
    const cut: MessageContent = { ...c, body, formatted_body: `<pre>${htmlEscape(body)}</pre>` };
    if (contentBytes(cut) <= maxBytes || budget < 64) return cut;
  }
}

/** The summary message. */
export function reportContent(report: Report, extras: Extras = {}, maxBytes = MAX_CONTENT_BYTES): MessageContent {
  return reportMessages(report, extras, maxBytes).summary;
}

/** The summary and its thread replies (the thread's relations are added by threadContent once the summary's id is known). */
export function reportMessages(report: Report, extras: Extras = {}, maxBytes = MAX_CONTENT_BYTES): { summary: MessageContent; thread: MessageContent[] } {
  const t = threadedReport(report);
  const mention = extras.mention ?? [];
  const foot = extras.footer ?? [];
  const s = underVerdict(t.summary.body, t.summary.html, extras.headline ?? []);
  const summary: MessageContent = {
    msgtype: 'm.notice',
    body: [...(mention.length ? [mention.join(' '), ''] : []), s.body, ...(foot.length ? ['', ...foot] : [])].join('\n'),
    format: 'org.matrix.custom.html',
    formatted_body: `${mention.length ? `<p>${mention.map(pill).join(' ')}</p>` : ''}${s.html}${foot.length ? `<p>${foot.map(htmlEscape).join('<br>')}</p>` : ''}`,
    ...(mention.length ? { 'm.mentions': { user_ids: mention } } : {}),
  };
  const thread = t.threadParts.map((p): MessageContent => fit({ msgtype: 'm.notice', body: p.body, format: 'org.matrix.custom.html', formatted_body: p.html }, maxBytes));
  return { summary: fit(summary, maxBytes), thread };
}

/** A reply to `eventId` (m.in_reply_to). */
export function asReply<T extends MessageContent>(c: T, eventId: string): T {
  return { ...c, 'm.relates_to': { 'm.in_reply_to': { event_id: eventId } } };
}

/** A thread reply under `rootId`; `previousId` is what clients without threads show it as a reply to. */
export function inThread<T extends MessageContent>(c: T, rootId: string, previousId: string): T {
  return { ...c, 'm.relates_to': { rel_type: 'm.thread', event_id: rootId, is_falling_back: true, 'm.in_reply_to': { event_id: previousId } } };
}

/**
 * The final reaction on the command: "done" and the grade at a glance, so it
 * never reads as "your command failed"; ❌ only when the run could not be done.
 */
export function resultReaction(report: Report | null): string {
  if (!report) return '❌';
  const g = report.grade.overall;
  if (report.security.verdict === 'unsafe') return `⛔ done: ${g}, unsafe`;
  if (g === 'Fail') return `🔴 done: ${g}`;
  if (g === 'Poor' || report.security.verdict === 'warn') return `⚠️ done: ${g}`;
  return `✅ done: ${g}`;
}

export function notice(text: string, html?: string): MessageContent {
  return html ? { msgtype: 'm.notice', body: text, format: 'org.matrix.custom.html', formatted_body: html } : { msgtype: 'm.notice', body: text };
}
