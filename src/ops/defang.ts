// Server-supplied text made safe to show in chat: no client may turn it into a
// link (http(s):// becomes hxxp(s)://, "www." becomes "www[.]"), and STUN/TURN
// URIs are shown without credentials or query parameters (only ?transport=
// stays). One place for this; the renderers and the bot both call it.
import type { Report } from '../tester/report';

/** No scheme a client linkifies, no "www." host: the text reads the same, nothing is clickable. */
export function defang(s: string): string {
  return s
    // The host's dots too: clients also linkify a bare "evil.com/path".
    .replace(/\b(?:https?|ftp|wss?):\/\/([^\s/?#]*)/gi, (m: string, host: string) => m.slice(0, m.length - host.length).replace(/^h[t]tp/i, 'hxxp').replace('://', '[://]') + host.replace(/\./g, '[.]'))
    .replace(/\bwww\.([^\s/?#]*)/gi, (_m, host: string) => `www[.]${host.replace(/\./g, '[.]')}`)
    .replace(/\bmailto:/gi, 'mailto[:]');
}

const ICE_URI = /\b(stuns?|turns?):([^\s"'<>]+)/gi;

/** Every stun:/turn: URI in the text without userinfo, and without any query parameter but transport=udp|tcp. */
export function displayUris(s: string): string {
  return s.replace(ICE_URI, (_m, scheme: string, rest: string) => {
    const at = rest.lastIndexOf('@');
    let r = at >= 0 ? rest.slice(at + 1) : rest;
    const q = r.indexOf('?');
    if (q >= 0) {
      const transport = /(?:^|[?&;])transport=(udp|tcp)(?:$|[&;])/i.exec(r.slice(q))?.[1];
      r = r.slice(0, q) + (transport ? `?transport=${transport.toLowerCase()}` : '');
    }
    return `${scheme}:${r}`;
  });
}

/** Both, for one piece of text from outside. */
export function safeText(s: string): string {
  return defang(displayUris(s));
}

/** A copy of the report for display: every finding's text and every URI made safe. */
export function displayReport<R extends Report>(report: R): R {
  return {
    ...report,
    uris: report.uris.map((u) => ({ ...u, uri: displayUris(u.uri) })),
    checks: report.checks.map((c) => ({ ...c, uri: c.uri === null ? null : displayUris(c.uri), summary: safeText(c.summary), hint: c.hint === null ? null : displayUris(c.hint) })),
    quality: report.quality.map((q) => ({ ...q, uri: displayUris(q.uri) })),
  };
}
