// HS-1, HS-2 (homeserver answer and credential lifetime) and AUTH-3 (REST
// username expiry), judged from what the credential source returned.
import type { TurnServerOutcome } from '../credentials/homeserver';
import { parseRestUsername } from '../credentials/rest';
import type { TurnCredentials } from '../credentials/types';
import type { Finding } from '../types';
import { finding } from './finding';

const TTL_MIN_S = 600;
const TTL_MAX_S = 86400;
const REST_VALID_MAX_S = 86400;

export function judgeTurnServerOutcome(outcome: TurnServerOutcome, homeserver: string): Finding[] {
  const ev = { homeserver };
  switch (outcome.kind) {
    case 'ok': {
      const ttl = outcome.raw.ttl;
      const out = [
        finding('HS-1', {
          status: 'pass',
          summary: `The homeserver hands out TURN credentials for ${outcome.raw.uriCount} URI(s).`,
          evidence: { ...ev, uriCount: outcome.raw.uriCount, ttl },
        }),
      ];
      out.push(judgeTtl(ttl));
      return out;
    }
    case 'empty':
      return [finding('HS-1', { status: 'fail', severity: 'high', cause: 'empty', summary: `The homeserver hands out no TURN: ${outcome.detail}.`, evidence: ev })];
    case 'malformed':
      return [finding('HS-1', { status: 'fail', severity: 'high', cause: 'malformed', summary: `The homeserver's TURN answer is incomplete: ${outcome.detail}.`, evidence: ev })];
    case 'rate-limited':
      return [
        finding('HS-1', {
          status: 'fail',
          severity: 'medium',
          cause: 'rate-limited',
          summary: 'The homeserver rate-limited the TURN credential request (HTTP 429).',
          evidence: { ...ev, retryAfterMs: outcome.retryAfterMs ?? null },
        }),
      ];
    case 'http-error':
      return [
        finding('HS-1', {
          status: 'fail',
          severity: 'high',
          cause: 'http-error',
          summary: `The homeserver answered the TURN credential request with HTTP ${outcome.status}${outcome.errcode ? ` (${outcome.errcode})` : ''}.`,
          evidence: { ...ev, status: outcome.status, errcode: outcome.errcode ?? null },
        }),
      ];
    case 'unreachable':
      return [finding('HS-1', { status: 'fail', severity: 'high', cause: 'unreachable', summary: `The homeserver could not be asked: ${outcome.detail}.`, evidence: ev })];
  }
}

export function judgeTtl(ttl: number | null): Finding {
  if (ttl === null) return finding('HS-2', { status: 'info', summary: 'The homeserver gave no ttl.', evidence: { ttl } });
  if (ttl < TTL_MIN_S) {
    return finding('HS-2', {
      status: 'warn',
      severity: 'medium',
      cause: 'too-short',
      summary: `TURN credentials live only ${ttl} s (under ${TTL_MIN_S} s): long calls lose their relay when they expire.`,
      evidence: { ttl, minimum: TTL_MIN_S },
    });
  }
  if (ttl > TTL_MAX_S) {
    return finding('HS-2', {
      status: 'warn',
      severity: 'low',
      cause: 'too-long',
      summary: `TURN credentials live ${ttl} s (over a day): a leaked credential stays usable for long.`,
      evidence: { ttl, maximum: TTL_MAX_S },
    });
  }
  return finding('HS-2', { status: 'pass', summary: `Credential lifetime ${ttl} s.`, evidence: { ttl } });
}

/** AUTH-3: only for REST-style usernames ("expiry:user"). */
export function judgeRestExpiry(creds: TurnCredentials, now: number = Date.now()): Finding {
  const parsed = parseRestUsername(creds.username);
  if (!parsed) {
    return finding('AUTH-3', { status: 'skip', summary: 'The username is not a TURN REST (expiry:user) username.', evidence: { reason: 'not-rest' } });
  }
  const remaining = parsed.expiresAt - Math.floor(now / 1000);
  const evidence = { expiresAt: new Date(parsed.expiresAt * 1000).toISOString(), remainingS: remaining };
  if (remaining <= 0) {
    return finding('AUTH-3', {
      status: 'fail',
      severity: 'high',
      cause: 'expired',
      summary: `The TURN credentials expired ${-remaining} s before they were handed out (issuer clock or lifetime wrong).`,
      evidence,
    });
  }
  if (remaining > REST_VALID_MAX_S) {
    return finding('AUTH-3', {
      status: 'warn',
      severity: 'low',
      cause: 'too-long',
      summary: `The TURN credentials stay valid for ${Math.round(remaining / 3600)} h (over 24 h).`,
      evidence,
    });
  }
  return finding('AUTH-3', { status: 'pass', summary: `REST credentials valid for another ${remaining} s.`, evidence });
}
