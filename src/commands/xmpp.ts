// `!voiptest xmpp` (admins): test the STUN/TURN that the configured XMPP
// accounts discover (XEP-0215), one report per account. Also reads the
// config's account list into engine specs (the schedule uses the same).
import type { BotConfig } from '../config';
import type { XmppSourceSpec } from '../tester/credentials/xmpp';
import { Secret } from '../tester/secret';
import type { CommandSpec } from './types';

export interface XmppAccounts {
  specs: XmppSourceSpec[];
  /** Accounts left out, and why (never with a password). */
  problems: string[];
}

/** xmpp.accounts with their passwords from xmpp.passwords ("JID PASSWORD" lines). */
export function xmppAccounts(config: Pick<BotConfig, 'xmpp'>): XmppAccounts {
  const passwords = new Map<string, string>();
  for (const line of (config.xmpp.passwords?.reveal() ?? '').split(/\r?\n/)) {
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(line);
    if (m) passwords.set(m[1].toLowerCase(), m[2]);
  }
  const specs: XmppSourceSpec[] = [];
  const problems: string[] = [];
  for (const entry of config.xmpp.accounts) {
    const [jid, server] = entry.split(' ');
    const password = passwords.get(jid.toLowerCase());
    if (!password) {
      problems.push(`${jid}: no password in xmpp.passwords (MXV_XMPP_PASSWORDS_FILE)`);
      continue;
    }
    // The operator's own accounts: the XMPP server is not a user-supplied target.
    specs.push({ kind: 'xmpp', jid, password: new Secret(password), trusted: true, ...(server ? { server } : {}) });
  }
  return { specs, problems };
}

export const xmpp: CommandSpec = {
  name: 'xmpp',
  args: [],
  summary: 'Test the STUN/TURN that the configured XMPP accounts discover (XEP-0215), one report per account.',
  permission: 'admin',
  run: (ctx) => ctx.services.requestRun(ctx, { xmpp: true }),
};
