// HS-1 (the homeserver hands out TURN) and HS-2 (credential lifetime), judged
// from the /voip/turnServer answer the credential source fetched.
import type { TurnServerOutcome } from '../credentials/homeserver';
import type { Finding } from '../types';
import { defineCheck } from './check';
import { finding } from './finding';

const TTL_MIN_S = 600;
const TTL_MAX_S = 86400;

export function judgeTurnServerOutcome(outcome: TurnServerOutcome, homeserver: string): Finding[] {
  const ev = { homeserver };
  switch (outcome.kind) {
    case 'ok': {
      const ttl = outcome.raw.ttl;
      return [
        finding('HS-1', {
          status: 'pass',
          summary: `The homeserver hands out TURN credentials for ${outcome.raw.uriCount} URI(s).`,
          evidence: { ...ev, uriCount: outcome.raw.uriCount, ttl },
        }),
        judgeTtl(ttl),
      ];
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

export const HS_1 = defineCheck({
  id: 'HS-1',
  scope: 'run',
  applies: (run) => !!run.source.homeserver,
  run: async (run) => judgeTurnServerOutcome(run.source.homeserver!.outcome, run.source.homeserver!.baseUrl).filter((f) => f.id === 'HS-1'),
});

export const HS_2 = defineCheck({
  id: 'HS-2',
  scope: 'run',
  needs: ['HS-1'],
  applies: (run) => run.source.homeserver?.outcome.kind === 'ok',
  run: async (run) => {
    const o = run.source.homeserver!.outcome;
    return o.kind === 'ok' ? judgeTtl(o.raw.ttl) : null;
  },
});
