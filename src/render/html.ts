// HTML from the Markdown parts via markdown-it with raw HTML off, so nothing a
// server said can become markup. In a document, details are folded in
// <details> (the Matrix message puts them in a thread instead: thread.ts). The Matrix
// variant keeps only the tags and attributes the Matrix spec allows in
// m.room.message formatted_body, and is a fragment, not a document.
import MarkdownIt from 'markdown-it';
import type { Report } from '../tester/report';
import { htmlEscape } from './escape';
import { markdownParts } from './markdown';
import { shownOverall } from './view';

const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
// Our Markdown never needs links, images or raw HTML; turning them off is a second fence.
md.disable(['link', 'image', 'autolink', 'html_inline', 'html_block', 'strikethrough']);

/** Tags (and their attributes) allowed in Matrix formatted_body (client-server spec, m.room.message). */
export const MATRIX_ALLOWED: Readonly<Record<string, readonly string[]>> = {
  font: ['data-mx-bg-color', 'data-mx-color', 'color'],
  del: [], h1: [], h2: [], h3: [], h4: [], h5: [], h6: [], blockquote: [], p: [],
  a: ['name', 'target', 'href'],
  ul: [], ol: ['start'], sup: [], sub: [], li: [], b: [], i: [], u: [], strong: [], em: [], strike: [],
  code: ['class'], hr: [], br: [], div: [], table: [], thead: [], tbody: [], tr: [], th: [], td: [], caption: [], pre: [],
  span: ['data-mx-bg-color', 'data-mx-color', 'data-mx-spoiler', 'data-mx-maths'],
  img: ['width', 'height', 'alt', 'title', 'src'],
  details: [], summary: [],
};

/**
 * Keep only allowed tags and attributes. Input is markdown-it output (text is
 * already escaped, so every '<' starts a real tag); unknown tags are dropped,
 * their text kept.
 */
export function sanitizeMatrixHtml(html: string): string {
  return html.replace(/<(\/?)([a-zA-Z][a-zA-Z0-9]*)([^>]*)>/g, (_m, close: string, name: string, attrs: string) => {
    const tag = name.toLowerCase();
    const allowed = MATRIX_ALLOWED[tag];
    if (!allowed) return '';
    if (close) return `</${tag}>`;
    const kept: string[] = [];
    for (const a of attrs.matchAll(/([a-zA-Z-]+)="([^"]*)"/g)) {
      if (allowed.includes(a[1]!.toLowerCase())) kept.push(`${a[1]!.toLowerCase()}="${a[2]}"`);
    }
    const selfClose = /\/\s*$/.test(attrs) ? ' /' : '';
    return `<${tag}${kept.length ? ` ${kept.join(' ')}` : ''}${selfClose}>`;
  });
}

/** Our Markdown (escaped at generation) as a Matrix-safe HTML fragment. */
export function matrixHtml(markdown: string): string {
  return sanitizeMatrixHtml(md.render(markdown));
}

function body(r: Report): string {
  const p = markdownParts(r);
  const folded = p.details.map((d) => `<details><summary>${htmlEscape(d.title)}</summary>\n${md.render(d.body)}</details>\n`).join('');
  return `${md.render(p.summary)}${md.render(p.table)}${folded}<p><em>${htmlEscape(`${r.tool.name} ${r.tool.version}`)}</em></p>\n`;
}

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}summary{cursor:pointer;font-weight:600;margin:.5rem 0}code{background:#f3f3f3;padding:0 .2rem}';

export function renderHtml(r: Report, opts: { matrix?: boolean } = {}): string {
  const inner = body(r);
  if (opts.matrix) return sanitizeMatrixHtml(inner);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${htmlEscape(`VoIP check: ${shownOverall(r)}`)}</title><style>${STYLE}</style></head><body>\n${inner}</body></html>\n`;
}
