// User text made safe to work on and to echo: HTML to plain text by one linear
// scan (no regular expression on a run of '<' can go quadratic), and an input
// shown back in an error reply printable, on one line and cut short.

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/** Tags become a space, the common entities their character; linear in the input. */
export function htmlToText(html: string): string {
  const out: string[] = [];
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const amp = html.indexOf('&', i);
    const next = lt < 0 ? amp : amp < 0 ? lt : Math.min(lt, amp);
    if (next < 0) {
      out.push(html.slice(i));
      break;
    }
    out.push(html.slice(i, next));
    if (next === lt) {
      const gt = html.indexOf('>', lt + 1);
      // No '>' anywhere after: no more tags can close; the rest is text.
      if (gt < 0) {
        out.push(html.slice(lt));
        break;
      }
      out.push(' ');
      i = gt + 1;
    } else {
      const semi = html.indexOf(';', amp + 1);
      const name = semi > amp && semi - amp <= 6 ? html.slice(amp + 1, semi) : '';
      const ch = ENTITIES[name];
      if (ch !== undefined) {
        out.push(ch);
        i = semi + 1;
      } else {
        out.push('&');
        i = amp + 1;
      }
    }
  }
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
