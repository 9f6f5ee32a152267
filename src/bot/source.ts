// Which credentials a run uses, by who asked: the bot's own /voip/turnServer
// for users of its homeserver; minted TURN REST credentials when the secret is
// configured; otherwise an explanation (the browser helper is not built yet).
import type { BotConfig } from '../config';
import type { CredentialSpec } from '../tester/credentials/types';
import type { Secret } from '../tester/secret';

export function serverOf(userId: string): string {
  const i = userId.indexOf(':');
  return i < 0 ? '' : userId.slice(i + 1).toLowerCase();
}

export type SourceChoice = { ok: true; spec: CredentialSpec; label: string } | { ok: false; message: string };

export function chooseSource(requester: string | null, bot: { userId: string; accessToken: Secret }, config: BotConfig): SourceChoice {
  const sharedSecret = config.turn.sharedSecret ?? undefined;
  if (requester === null || serverOf(requester) === serverOf(bot.userId)) {
    return {
      ok: true,
      label: `the TURN credentials ${serverOf(bot.userId)} hands out`,
      // The bot's own homeserver URL is the operator's config (often a private address next to the bot).
      spec: { kind: 'homeserver', homeserver: config.homeserver.url, accessToken: bot.accessToken, trusted: true, ...(sharedSecret ? { sharedSecret } : {}) },
    };
  }
  if (sharedSecret) {
    return {
      ok: true,
      label: 'credentials minted with the configured TURN REST secret',
      spec: { kind: 'secret', uris: config.turn.uris, secret: sharedSecret, ttl: config.turn.ttl, userId: requester },
    };
  }
  return {
    ok: false,
    message:
      `You are on ${serverOf(requester)}, and I can only get TURN credentials from ${serverOf(bot.userId)}. ` +
      'Testing your homeserver needs the browser helper (you log in to your own server in a page and share its TURN credentials with consent); ' +
      'it is not available yet. Until then, ask me from an account on ' + `${serverOf(bot.userId)}, or use the command-line tool: voiptest check --homeserver <your server> --access-token <token>.`,
  };
}
