// Which credentials a run uses, by who asked: the bot's own /voip/turnServer
// for users of its homeserver; minted TURN REST credentials when the secret is
// configured; otherwise (and for `!voiptest browser` always) the browser
// helper: a one-time link where the user shares their homeserver's TURN
// credentials with consent and tests from their own network. Without the
// helper, an explanation of what works instead.
import type { BotConfig } from '../config';
import type { CredentialSpec } from '../tester/credentials/types';
import type { Secret } from '../tester/secret';

export function serverOf(userId: string): string {
  const i = userId.indexOf(':');
  return i < 0 ? '' : userId.slice(i + 1).toLowerCase();
}

export type SourceChoice =
  | { kind: 'run'; spec: CredentialSpec; label: string }
  /** Send the requester a helper link (asked for it, or their homeserver is out of the bot's reach). */
  | { kind: 'browser'; reason: 'asked' | 'other-server' }
  | { kind: 'refuse'; message: string };

export interface SourceOptions {
  /** `!voiptest browser`. */
  browser?: boolean;
  /** The browser helper is running (web.enabled). */
  helper: boolean;
}

const CLI_HINT = 'or use the command-line tool: voiptest check --homeserver <your server> --access-token <token>';

export function chooseSource(requester: string | null, bot: { userId: string; accessToken: Secret }, config: BotConfig, opts: SourceOptions): SourceChoice {
  const sharedSecret = config.turn.sharedSecret ?? undefined;
  const mine = serverOf(bot.userId);
  if (opts.browser && requester !== null) {
    if (opts.helper) return { kind: 'browser', reason: 'asked' };
    return {
      kind: 'refuse',
      message: 'The browser helper is not enabled on this bot (its operator sets web.enabled and web.publicBaseUrl). ' +
        (serverOf(requester) === mine ? `${config.commandPrefix} tests ${mine} from my side.` : `Ask me from an account on ${mine}, ${CLI_HINT}.`),
    };
  }
  if (requester === null || serverOf(requester) === mine) {
    return {
      kind: 'run',
      label: `the TURN credentials ${mine} hands out`,
      // The bot's own homeserver URL is the operator's config (often a private address next to the bot).
      spec: { kind: 'homeserver', homeserver: config.homeserver.url, accessToken: bot.accessToken, trusted: true, ...(sharedSecret ? { sharedSecret } : {}) },
    };
  }
  if (sharedSecret) {
    return {
      kind: 'run',
      label: 'credentials minted with the configured TURN REST secret',
      spec: { kind: 'secret', uris: config.turn.uris, secret: sharedSecret, ttl: config.turn.ttl, userId: requester },
    };
  }
  if (opts.helper) return { kind: 'browser', reason: 'other-server' };
  return {
    kind: 'refuse',
    message:
      `You are on ${serverOf(requester)}, and I can only get TURN credentials from ${mine}. ` +
      'Testing your homeserver needs the browser helper (you log in to your own server in a page and share its TURN credentials with consent), ' +
      `which is not enabled on this bot (its operator sets web.enabled). Ask me from an account on ${mine}, ${CLI_HINT}.`,
  };
}
