import MarkdownIt from 'markdown-it';
import { renderHtml, renderJson, renderMarkdown, renderPlain, renderText, sanitizeMatrixHtml, MATRIX_ALLOWED } from '../../src/render';
import { cleanText, mdCell, mdEscape, mdHint, htmlEscape } from '../../src/render/escape';
import { buildReport } from '../../src/tester/report';
import { HOSTILE, hostileReport, sampleInput, sampleReport } from '../fixtures/report-sample';

const sample = sampleReport();
const hostile = hostileReport();
const all = (r = hostile) => [renderText(r, { color: false }), renderText(r, { color: true }), renderMarkdown(r), renderHtml(r), renderHtml(r, { matrix: true }), renderJson(r), renderPlain(r)];

describe('escaping helpers', () => {
  it('escapes Markdown specials and table pipes', () => {
    expect(mdEscape('a|b `c` *d* <e> [f](g)')).toBe('a\\|b \\`c\\` \\*d\\* \\<e\\> \\[f\\]\\(g\\)');
    expect(mdCell('')).toBe('\u2013');
    expect(mdCell('x\ny|z')).toBe('x y\\|z');
  });
  it('keeps code spans in hints but escapes the rest', () => {
    expect(mdHint('set `no-tcp-relay` in <b>x</b>')).toBe('set `no-tcp-relay` in \\<b\\>x\\</b\\>');
  });
  it('strips control characters (ANSI injection)', () => {
    expect(cleanText('a\u001b[2Jb\u0007c\r\nd\u202ee')).toBe('a [2Jb c d e');
  });
  it('escapes HTML', () => {
    expect(htmlEscape(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});

describe('markdown', () => {
  const md = renderMarkdown(sample);
  it('puts the summary first: grades, security, fixes, why not higher', () => {
    const order = ['## VoIP check: Great · security ⚠️ warn (ACL-3, SEC-1)', '**IPv4** Great', '**IPv6** Fail', '### Fix first', '### Why not higher', '### Servers', '### Details'];
    const idx = order.map((s) => md.indexOf(s));
    expect(idx.every((i) => i >= 0)).toBe(true);
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
  });
  it('names the top causes with their hints', () => {
    expect(md).toMatch(/1\. ❌ \*\*Port reachability\*\* \(NET-1\) on turn:turn\.example\.org\?transport=udp \\\(IPv6\\\)/);
    expect(md).toContain('49152-65535/udp');
    expect(md).toContain('`external-ip`');
  });
  it('has a compact server table: one row per server, grades per family, the problem that matters most', () => {
    const servers = md.slice(md.indexOf('### Servers'), md.indexOf('### Details'));
    const rows = servers.split('\n').filter((l) => l.startsWith('| turn'));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length).toBe(6);
    expect(rows[0]).toBe('| turn:turn.example.org?transport=udp | Poor | Fail | ❌ DATA-1 \\(fix 2\\) \\+4 more |');
    expect(rows[1]).toContain('| Excellent | – | ✅ none |');
  });
  it('hostile server text cannot break the table or inject markup', () => {
    const h = renderMarkdown(hostile);
    const evil = h.split('\n').filter((l) => l.startsWith('| turn:evil'));
    expect(evil).toHaveLength(1);
    for (const line of evil) expect(line.split(/(?<!\\)\|/).length).toBe(6);
    const html = new MarkdownIt({ html: true }).render(h);
    // Rendered even by a permissive Markdown renderer (raw HTML on), nothing becomes a tag or link.
    expect(html).not.toMatch(/<img|<b>|<a |href=/i);
  });
});

describe('html', () => {
  it('is a document with folded details', () => {
    const h = renderHtml(sample);
    expect(h).toMatch(/^<!doctype html>/);
    expect(h).toMatch(/<details><summary>turn:turn\.example\.org\?transport=udp: IPv4 Poor, IPv6 Fail<\/summary>/);
    expect(h).toContain('<table>');
    expect(h.indexOf('Fix first')).toBeLessThan(h.indexOf('<details>'));
  });
  it('escapes hostile SOFTWARE and reason phrases', () => {
    for (const h of [renderHtml(hostile), renderHtml(hostile, { matrix: true })]) {
      expect(h).not.toContain('<img');
      expect(h).not.toMatch(/<a[\s>]/);
      expect(h).not.toContain('<b>bold');
      expect(h).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });
  it('matrix variant uses only allowed tags and attributes, as a fragment', () => {
    const h = renderHtml(sample, { matrix: true });
    expect(h).not.toMatch(/<!doctype|<html|<style|<head/i);
    for (const m of h.matchAll(/<\/?([a-z0-9]+)([^>]*)>/gi)) {
      expect(Object.keys(MATRIX_ALLOWED)).toContain(m[1]!.toLowerCase());
      expect(m[2]!.trim()).toBe(m[1] === 'ol' ? m[2]!.trim() : '');
    }
    expect(h).toContain('<details><summary>');
  });
  it('sanitizer drops unknown tags and attributes', () => {
    expect(sanitizeMatrixHtml('<script>x</script><p style="a" class="b">t</p><td style="text-align:right">c</td><a href="h" onclick="e">l</a><br />')).toBe('x<p>t</p><td>c</td><a href="h">l</a><br />');
  });
});

describe('text', () => {
  it('has no ANSI codes unless colour is asked for', () => {
    expect(renderText(sample, { color: false })).not.toContain('\u001b[');
    expect(renderText(sample, { color: true })).toContain('\u001b[31mFAIL\u001b[0m');
  });
  it('shows grades, fixes, servers and every check', () => {
    const t = renderText(sample, { color: false });
    expect(t).toContain('Overall: Great   IPv4: Great   IPv6: Fail   Security: warn (ACL-3, SEC-1)');
    expect(t).toContain('fix: Packets to the relayed address never reach coturn');
    for (const c of sample.checks) expect(t).toContain(`${c.id} `);
  });
  it('hostile server text cannot inject terminal escapes', () => {
    const r = buildReport({ ...sampleInput(), findings: [...sampleInput().findings.slice(0, 2), { ...sampleInput().findings[0]!, summary: 'x\u001b[2J\u001b]0;pwned\u0007y' }] });
    const t = renderText(r, { color: false });
    expect(t).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
  });
});

describe('plain (Matrix body)', () => {
  const p = renderPlain(sample);
  it('reads like a message, not an HTML dump', () => {
    expect(p.split('\n')[0]).toBe('VoIP check of https://matrix.example.org: Great (IPv4 Great; IPv6 Fail). Security: warn (ACL-3, SEC-1).');
    expect(p).toContain('What to do: ');
    expect(p).not.toMatch(/<[a-z]|\|---|\*\*/);
  });
  it('says so when all is well', () => {
    const ok = buildReport({ ...sampleInput(), findings: sampleInput().findings.filter((f) => f.status === 'pass') });
    expect(renderPlain(ok)).toContain('Everything tested works.');
    expect(renderMarkdown(ok)).toContain('Everything tested works.');
  });
});

describe('json', () => {
  it('is the report model', () => {
    expect(JSON.parse(renderJson(sample))).toEqual(JSON.parse(JSON.stringify(sample)));
  });
});

describe('no secret from evidence is ever rendered', () => {
  it.each(all().map((s, i) => [i, s] as const))('renderer %i', (_i, out) => {
    expect(out).not.toContain(HOSTILE.password);
    expect(out).not.toContain(HOSTILE.token);
  });
});

describe('edge cases', () => {
  it('renders an empty run without crashing', () => {
    const r = buildReport({ startedAt: new Date(0), durationMs: 0, source: { kind: 'explicit' }, targets: [], findings: [], quality: [], toolVersion: '0' });
    for (const out of all(r)) expect(typeof out).toBe('string');
    expect(renderMarkdown(r)).toContain('No server address was tested.');
  });
});
