// What every credential source produces: the URI list and the credentials
// to use on it. Passwords and secrets are Secret, never plain strings.
import type { Secret } from '../secret';
import type { SourceKind } from '../types';
import type { XmppSourceSpec } from './xmpp';

export interface TurnCredentials {
  uris: string[];
  username: string;
  password: Secret;
  /** Seconds, as the homeserver said (null when the source has no notion of it). */
  ttl: number | null;
  /** `xmpp`: the XMPP domain whose XEP-0215 answer gave these (the xmpp source). */
  source: { kind: SourceKind; homeserver?: string; xmpp?: string };
  /** Only when the run holds the TURN REST shared secret (AUTH-4 can then name the side). */
  sharedSecret?: Secret;
  /** The user part used when minting REST credentials from the secret. */
  restUser?: string;
}

/** How a run gets its credentials (CLI flags or bot config map onto this). */
export type CredentialSpec =
  | {
      kind: 'homeserver';
      homeserver: string;
      accessToken?: Secret;
      user?: string;
      password?: Secret;
      sharedSecret?: Secret;
      /** The URL comes from the operator's config (the bot's own homeserver), not from a user: no target guard. */
      trusted?: boolean;
    }
  | { kind: 'secret'; uris: string[]; secret: Secret; ttl?: number; userId?: string }
  | { kind: 'explicit'; uris: string[]; username: string; password: Secret; sharedSecret?: Secret }
  | { kind: 'shared'; credentials: TurnCredentials }
  | XmppSourceSpec;
