// The report as Matrix messages: the summary the room sees (verdict, fixes,
// why not higher, the server table) and the details as thread replies under
// it, one per section (run-wide checks, each server, the browser's results,
// path quality). Each part carries a plain `body` and a Matrix-safe HTML body.
// No client needs to fold anything: the room message is short by itself.
import type { Report } from '../tester/report';
import { htmlEscape } from './escape';
import { matrixHtml } from './html';
import { markdownDetails, markdownSummary, markdownTable } from './markdown';
import { markdownToPlain, renderPlain } from './plain';

export interface MessagePart {
  /** Plain text (Matrix `body`). */
  body: string;
  /** Matrix formatted_body (org.matrix.custom.html). */
  html: string;
}

export interface ThreadedReport {
  summary: MessagePart;
  threadParts: MessagePart[];
}

/** A thread reply bigger than this (bytes of HTML) is sent as its plain text, cut. */
export const MAX_PART_BYTES = 48_000;

const THREAD_POINTER = 'Each check, per server and family, is in the thread under this message.';

function cutPart(p: MessagePart): MessagePart {
  if (Buffer.byteLength(p.html, 'utf8') + Buffer.byteLength(p.body, 'utf8') <= MAX_PART_BYTES) return p;
  const budget = Math.floor(MAX_PART_BYTES / 3);
  const at = p.body.lastIndexOf('\n', budget);
  const body = `${p.body.slice(0, at > 0 ? at : budget)}\n… (cut: the full report is in the JSON)`;
  return { body, html: `<pre>${htmlEscape(body)}</pre>` };
}

export function threadedReport(r: Report): ThreadedReport {
  const details = markdownDetails(r);
  const pointer = details.length ? THREAD_POINTER : '';
  const summaryMd = `${markdownSummary(r)}\n${markdownTable(r)}`;
  const summary: MessagePart = {
    body: `${renderPlain(r)}${pointer ? `\n\n${pointer}` : ''}`,
    html: `${matrixHtml(summaryMd)}${pointer ? `<p><em>${htmlEscape(pointer)}</em></p>` : ''}`,
  };
  const n = details.length;
  const threadParts = details.map((d, i) =>
    cutPart({
      body: `${d.title} (${i + 1}/${n})\n\n${markdownToPlain(d.body)}`,
      html: `<h4>${htmlEscape(d.title)} (${i + 1}/${n})</h4>\n${matrixHtml(d.body)}`,
    }),
  );
  return { summary, threadParts };
}
