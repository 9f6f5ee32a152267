// The "from your network" section: what the browser helper measured from the
// user's network (the report's `browser` part), shown when present.
// Everything in it came from a browser, so it is escaped like server text.
import type { BrowserResults, BrowserUriResult, PairEnd, Report } from '../tester/report';
import { cleanText, mdCell, mdEscape } from './escape';
import { formatMs } from './format';
import type { MarkdownSection } from './view';

export function browserOf(r: Report): BrowserResults | null {
  const b = r.browser;
  return b && Array.isArray(b.perUri) ? b : null;
}

/** "Chrome 156" from a user agent, else a short cleaned prefix. */
export function browserName(ua: string): string {
  const m = /(Firefox|Edg|OPR|Chrome|Chromium|Version)\/(\d+)/.exec(ua);
  if (!m) return cleanText(ua).slice(0, 40) || 'your browser';
  const name = { Edg: 'Edge', OPR: 'Opera', Version: /Safari/.test(ua) ? 'Safari' : 'Browser' }[m[1]!] ?? m[1]!;
  return `${name} ${m[2]}`;
}

const end = (e: PairEnd): string => (e.type === 'relay' && e.relayProtocol ? `relay/${e.relayProtocol}` : `${e.type}/${e.protocol}`);

function tally(b: BrowserResults): { turn: BrowserUriResult[]; open: number; errors: number } {
  const turn = b.perUri.filter((u) => u.dataChannel !== null);
  return { turn, open: turn.filter((u) => u.dataChannel?.ok).length, errors: b.perUri.reduce((n, u) => n + u.errors.length, 0) };
}

/** One summary line (Markdown), or null when the report has no browser section. */
export function browserSummaryLine(r: Report): string | null {
  const b = browserOf(r);
  if (!b) return null;
  const t = tally(b);
  const dc = t.turn.length ? `data channel through ${t.open} of ${t.turn.length} relays` : 'no relay tested';
  return `**From your network** (${mdEscape(browserName(b.userAgent))}): ${t.open === t.turn.length && t.turn.length > 0 ? '✅' : '❌'} ${dc}; ${t.errors} ICE error(s)`;
}

export function browserPlainLine(r: Report): string | null {
  const b = browserOf(r);
  if (!b) return null;
  const t = tally(b);
  return `From your network (${browserName(b.userAgent)}): a data channel opened through ${t.open} of ${t.turn.length} relays; ${t.errors} ICE error(s).`;
}

export function browserSection(r: Report): MarkdownSection | null {
  const b = browserOf(r);
  if (!b) return null;
  const lines = [
    `Measured by ${mdEscape(browserName(b.userAgent))} on the network the helper page was opened from: candidates gathered per server (policy all: host / srflx / relay; policy relay: relay), and a relay-only data channel to the bot through each TURN server.`,
    '',
    '| URI | Candidates (host / srflx / relay) | Relay only | Data channel | Round trip | Selected pair (yours → bot) | Bot side | ICE errors |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const u of b.perUri) {
    const c = u.candidates;
    const dc = u.dataChannel;
    const state = dc === null ? null : dc.ok ? '✅ open' : `❌ ${dc.error ?? 'failed'}`;
    const pair = dc?.selectedPair ? `${end(dc.selectedPair.local)} → ${end(dc.selectedPair.remote)}` : null;
    const peer = u.peer ? (u.peer.connected ? `connected over ${u.peer.turnTransport ?? '?'}` : `not connected (${u.peer.endReason})`) : null;
    const errs = u.errors.length ? u.errors.slice(0, 4).map((e) => `${e.code}${e.text ? ` ${e.text}` : ''} (${e.policy})`).join('; ') : null;
    lines.push(
      `| ${mdCell(u.uri)} | ${c.host} / ${c.srflx} / ${c.relay} | ${u.relayOnly ?? '–'} | ${mdCell(state)} | ${mdCell(formatMs(dc?.rttMs))} | ${mdCell(pair)} | ${mdCell(peer)} | ${mdCell(errs)} |`,
    );
  }
  return { title: 'From your network', body: lines.join('\n') };
}
