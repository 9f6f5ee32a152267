// The words around a browser helper link: the DM that carries it (what the
// page tests, what it shares and with whom, when the link expires) and the
// note in the room the command came from. The link is a bearer token until a
// browser claims it, so it only ever goes to a room with just the bot and the
// requester.
import { htmlEscape } from '../commands/format';
import type { MessageContent } from './message';

export interface LinkMessageInput {
  url: string;
  expiresAt: Date;
  now: Date;
  prefix: string;
  /** Why a link: the user asked, or their homeserver is not the bot's. */
  reason: 'asked' | 'other-server';
  requesterServer: string;
  botServer: string;
  /** The report goes back here: 'here' (the DM itself) or the room's id. */
  reportRoom: 'here' | string;
}

function hhmm(d: Date): string {
  return d.toISOString().slice(11, 16);
}

export function linkMessage(i: LinkMessageInput): MessageContent {
  const minutes = Math.max(1, Math.round((i.expiresAt.getTime() - i.now.getTime()) / 60_000));
  const why = i.reason === 'other-server'
    ? `You are on ${i.requesterServer}, and I can only get TURN credentials from ${i.botServer} myself, so this test runs through your browser.`
    : 'You asked for the browser test.';
  const where = i.reportRoom === 'here' ? 'here' : `in the room you asked from (${i.reportRoom})`;
  const steps = [
    `1. You sign in to your own homeserver in that page (your password goes only to your homeserver, never to me); the page asks it for the TURN credentials it hands out and signs that session out again.`,
    `2. The page shows you what would be shared: the TURN server addresses and a temporary TURN username and password. Only if you click "Share and test" are they sent to me, for this one test: I keep them in memory for the run and never store, log or post them. "Decline" sends nothing.`,
    `3. Your browser tests each TURN server from the network you are on (the one your calls use), I test them from mine, and I post the report ${where}.`,
  ];
  const expiry = `The link works once, only for you, and expires at ${hhmm(i.expiresAt)} UTC (in ${minutes} min). Do not forward it: until you open it, it is a key. If it expires, ask again with ${i.prefix} browser.`;
  const intro = `${why} Open this one-time link to test your homeserver's call relays (TURN) from your own network:`;
  const body = [intro, i.url, '', ...steps, '', expiry].join('\n');
  const html = `<p>${htmlEscape(intro)}<br><a href="${htmlEscape(i.url)}">${htmlEscape(i.url)}</a></p>` +
    `<ol>${steps.map((s) => `<li>${htmlEscape(s.replace(/^\d\. /, ''))}</li>`).join('')}</ol>` +
    `<p>${htmlEscape(expiry)}</p>`;
  return { msgtype: 'm.notice', body, format: 'org.matrix.custom.html', formatted_body: html };
}

/** What the group room hears (never the link). */
export function linkSentNote(dmRoomId: string, minutes: number): string {
  return `I sent you a one-time link in a direct chat (${dmRoomId}); it is personal, so I do not post it here. ` +
    `It expires in ${minutes} min; the report will appear in this room.`;
}
