// Is this message addressed to the bot, and which command does it name?
// Forms: "!voiptest ...", "@bot:server voiptest ...", "@bot:server: ...",
// and the pill Element sends ("<a href="https://matrix.to/#/@bot:server">Bot</a>: voiptest ...").
import { ArgError, parseArgs, tokenize, usage } from './args';
import { htmlToText, showInput } from './input-text';
import type { Args, CommandSpec } from './types';

export interface Addressing {
  prefix: string;
  botUserId: string;
  /** The bot's display name (what the plain body of a pill mention starts with). */
  displayName?: string | null;
}

/** Longer fields are not a command: not parsed at all (a command is a few words). */
export const MAX_BODY_CHARS = 2000;
export const MAX_HTML_CHARS = 4000;

export interface MessageContent {
  body?: unknown;
  format?: unknown;
  formatted_body?: unknown;
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The words after the address, or null when the message is not for the bot. */
export function addressedWords(content: MessageContent, a: Addressing): string[] | null {
  if (typeof content.body !== 'string' || content.body.length > MAX_BODY_CHARS) return null;
  const body = content.body.trim();
  if (!body) return null;
  const prefix = new RegExp(`^${esc(a.prefix)}(?=\\s|$)`, 'i');
  if (prefix.test(body)) return tokenize(body.replace(prefix, ''));

  let rest: string | null = null;
  const sep = '\\s*[:,]?\\s+|\\s*[:,]?$';
  const mxid = new RegExp(`^${esc(a.botUserId)}(?:${sep})`, 'i');
  if (mxid.test(body)) rest = body.replace(mxid, '');
  const fb = content.formatted_body;
  const html = typeof fb === 'string' && fb.length <= MAX_HTML_CHARS && content.format === 'org.matrix.custom.html' ? fb.trim() : '';
  if (rest === null && html) {
    const pill = new RegExp(`^<a\\s+href=["']https://matrix\\.to/#/(?:${esc(a.botUserId)}|${esc(encodeURIComponent(a.botUserId))})["'][^>]*>.*?</a>(.*)$`, 'is');
    const m = pill.exec(html);
    if (m) rest = htmlToText(m[1]!).replace(/^\s*[:,]?/, '');
  }
  if (rest === null && a.displayName) {
    // Clients without HTML still send "Display Name: ..." for a pill.
    const dn = new RegExp(`^${esc(a.displayName)}\\s*:\\s*`, 'i');
    if (dn.test(body) && /^\S+\s*:/.test(body.replace(new RegExp(`^${esc(a.displayName)}`, 'i'), 'x'))) rest = body.replace(dn, '');
  }
  if (rest === null) return null;
  const words = tokenize(rest);
  // "@bot voiptest history" and "@bot history" both work.
  const bare = a.prefix.replace(/^[^A-Za-z0-9]+/, '').toLowerCase();
  if (words[0] && (words[0].toLowerCase() === bare || words[0].toLowerCase() === a.prefix.toLowerCase())) words.shift();
  return words;
}

export type Resolution =
  | { ok: true; spec: CommandSpec; args: Args }
  | { ok: false; error: string };

/** Longest command name matching the first words wins; then its arguments are parsed. */
export function resolveCommand(words: string[], table: readonly CommandSpec[], prefix: string): Resolution {
  const lower = words.map((w) => w.toLowerCase());
  let best: { spec: CommandSpec; used: number } | null = null;
  for (const spec of table) {
    for (const name of [spec.name, ...(spec.aliases ?? [])]) {
      const parts = name ? name.split(' ') : [];
      if (parts.every((p, i) => lower[i] === p) && (!best || parts.length > best.used)) best = { spec, used: parts.length };
    }
  }
  if (!best || (best.used === 0 && words.length > 0 && best.spec.args.length === 0)) {
    const known = table.map((s) => s.name).filter(Boolean).map((n) => n.split(' ')[0]).filter((n, i, a) => a.indexOf(n) === i);
    return { ok: false, error: `Unknown command "${showInput(words[0] ?? '', 40)}". Try: ${known.map((k) => `${prefix} ${k}`).join(', ')} (or ${prefix} help).` };
  }
  try {
    return { ok: true, spec: best.spec, args: parseArgs(best.spec.args, words.slice(best.used)) };
  } catch (e) {
    if (!(e instanceof ArgError)) throw e;
    const full = `${prefix}${best.spec.name ? ` ${best.spec.name}` : ''} ${usage(best.spec.args)}`.trim();
    return { ok: false, error: `${e.message}. Usage: ${full}` };
  }
}
