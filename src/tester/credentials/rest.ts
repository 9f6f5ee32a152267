// TURN REST credentials (draft-uberti-behave-turn-rest, coturn use-auth-secret):
// username "<unix expiry>:<user>", password base64(HMAC-SHA1(secret, username)).
import { createHmac } from 'node:crypto';
import { Secret } from '../secret';

export const DEFAULT_REST_TTL_S = 3600;
export const DEFAULT_REST_USER = 'mx-voiptest';

export function restPassword(secret: Secret, username: string): Secret {
  return new Secret(createHmac('sha1', secret.reveal()).update(username).digest('base64'));
}

export function mintRestCredentials(
  secret: Secret,
  user: string = DEFAULT_REST_USER,
  ttlSeconds: number = DEFAULT_REST_TTL_S,
  now: number = Date.now(),
): { username: string; password: Secret; expiresAt: number } {
  const expiresAt = Math.floor(now / 1000) + Math.max(1, Math.floor(ttlSeconds));
  const username = `${expiresAt}:${user}`;
  return { username, password: restPassword(secret, username), expiresAt };
}

/** Parse a REST username; null when it is not of the "expiry:user" form. */
export function parseRestUsername(username: string): { expiresAt: number; user: string } | null {
  const m = /^(\d{9,12}):(.*)$/.exec(username);
  if (!m) return null;
  return { expiresAt: Number(m[1]), user: m[2] };
}
