// User text made safe to work on and to echo: HTML to plain text by one linear
// scan (no regular expression on a run of '<' can go quadratic), and an input
// shown back in an error reply printable, on one line and cut short.

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/** Tags become a space, the common entities their character; linear in the input. */
export function htmlToText(html: string): string {
  const out: string[] = [];
  // Next positions of each delimiter, looked up again only once passed: every
  // character is scanned a bounded number of times (indexOf from each '&' to a
  // ';' that never comes would be quadratic).
  const next = { '<': -2, '&': -2, '>': -2, ';': -2 };
  const find = (ch: keyof typeof next, from: number): number => {
    if (next[ch] !== -1 && next[ch] < from) next[ch] = html.indexOf(ch, from);
    return next[ch];
  };
  let i = 0;
  let text = 0; // start of the text not yet copied to out
  while (i < html.length) {
    const lt = find('<', i);
    const amp = find('&', i);
    const at = lt < 0 ? amp : amp < 0 ? lt : Math.min(lt, amp);
    if (at < 0) break;
    if (at === lt) {
      const gt = find('>', lt + 1);
      // No '>' anywhere after: no more tags can close; the rest is text.
      if (gt < 0) break;
      out.push(html.slice(text, lt), ' ');
      i = text = gt + 1;
    } else {
      const semi = find(';', amp + 1);
      const ch = semi > amp && semi - amp <= 6 ? ENTITIES[html.slice(amp + 1, semi)] : undefined;
      if (ch !== undefined) {
        out.push(html.slice(text, amp), ch);
        i = text = semi + 1;
      } else {
        i = amp + 1; // a plain '&': stays in the text
      }
    }
  }
  out.push(html.slice(text));
  return out.join('');
}

/** An input as an error reply names it: control characters shown as '?', whitespace folded, at most `max` characters. */
export function showInput(s: string, max = 60): string {
  let t = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    // C0/C1 controls, bidi overrides and isolates, zero-width characters.
    const hidden = c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c === 0xfeff;
    t += hidden ? (/\s/.test(ch) ? ' ' : '?') : ch;
    if (t.length > max * 2 + 8) break;
  }
  t = t.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}
