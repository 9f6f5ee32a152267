// Escaping for every output format. Anything that came from a server (SOFTWARE,
// reason phrases, error bodies, host names, even URIs) goes through one of
// these before it is placed in Markdown, HTML or a terminal.

/** Control characters (incl. ESC for ANSI sequences, C1 controls, bidi overrides) removed; whitespace collapsed. */
export function cleanText(s: string | null | undefined): string {
  return String(s ?? '')
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]<>()#+!|~&"]/g, '\\$&');
}

/** Inline Markdown: every character that can start a construct is backslash-escaped. */
export function mdEscape(s: string | null | undefined): string {
  return escapeMd(cleanText(s));
}

/** A Markdown table cell: escaped, never empty (an empty cell can shift columns in some renderers). */
export function mdCell(s: string | null | undefined): string {
  const e = mdEscape(s);
  return e === '' ? '\u2013' : e;
}

/**
 * Hint text is ours (the hints table) but may carry values from evidence: keep
 * its `code` spans, escape everything else, so even a tampered hint cannot
 * produce links, images or HTML.
 */
export function mdHint(s: string | null | undefined): string {
  const text = cleanText(s);
  const parts = text.split(/(`[^`]+`)/);
  return parts.map((p, i) => (i % 2 === 1 ? p : escapeMd(p))).join('');
}

export function htmlEscape(s: string | null | undefined): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
