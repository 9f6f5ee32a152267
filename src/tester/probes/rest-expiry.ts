// AUTH-3: expired or over-long TURN REST credentials, from the "expiry:user"
// username the run was given (the issuer's clock and lifetime).
import { parseRestUsername } from '../credentials/rest';
import type { TurnCredentials } from '../credentials/types';
import type { Finding } from '../types';
import { defineCheck } from './check';
import { finding } from './finding';

const REST_VALID_MAX_S = 86400;

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

export const AUTH_3 = defineCheck({
  id: 'AUTH-3',
  scope: 'run',
  applies: (run) => run.ctx.creds.uris.length > 0,
  run: async (run) => judgeRestExpiry(run.ctx.creds),
});
