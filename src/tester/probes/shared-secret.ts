// AUTH-4: which side has the wrong secret. Only when the run holds the TURN
// REST shared secret: (1) are the homeserver's credentials signed with it
// (HMAC recomputed), (2) does the TURN server accept credentials freshly
// minted with it (one Allocate). Together they name the side.
import { timingSafeEqual } from 'node:crypto';
import { DEFAULT_REST_USER, mintRestCredentials, restPassword } from '../credentials/rest';
import { TurnError } from '../turn';
import type { Finding } from '../types';
import { describe } from './auth-allocate';
import { defineCheck } from './check';
import type { RunContext, RunUnit, TargetState } from './context';
import { finding } from './finding';
import { allocateUnderOurLoad } from './our-load';

const MINTED_TTL_S = 600;

/** First half: are the homeserver's credentials signed with the shared secret the run holds? */
function secretAgreement(ctx: RunContext): Finding | null {
  const { creds } = ctx;
  if (!creds.sharedSecret || creds.source.kind !== 'homeserver') return null;
  const expected = Buffer.from(restPassword(creds.sharedSecret, creds.username).reveal());
  const given = Buffer.from(creds.password.reveal());
  const same = expected.length === given.length && timingSafeEqual(expected, given);
  return same
    ? finding('AUTH-4', { status: 'pass', summary: "The homeserver's credentials are signed with the shared secret the run holds.", evidence: {} })
    : finding('AUTH-4', {
        status: 'fail',
        severity: 'high',
        cause: 'homeserver-secret-differs',
        summary: "The homeserver's `turn_shared_secret` differs from the TURN server's `static-auth-secret` (the credentials it hands out are not signed with it).",
        evidence: {},
      });
}

/** A TURN target that got as far as the authenticated Allocate (UDP first: cheapest). */
function reachedAuth(states: readonly TargetState[]): TargetState | undefined {
  const turn = states.filter((s) => s.isTurn && s.findings.some((f) => f.id === 'AUTH-2' && (f.status === 'pass' || f.status === 'fail')));
  return turn.find((s) => s.has('AUTH-2', 'pass') && s.target.uri.transport === 'udp') ?? turn.find((s) => s.has('AUTH-2', 'pass')) ?? turn[0];
}

/** Second half: does the TURN server accept credentials minted with that secret? */
async function mintedCredentials(run: RunUnit): Promise<Finding> {
  const { ctx } = run;
  const secret = ctx.creds.sharedSecret!;
  const s = reachedAuth(run.states);
  if (!s) return finding('AUTH-4', { status: 'skip', summary: 'not run: no TURN URI answered an authenticated Allocate, so minted credentials could not be tried.', evidence: { reason: 'no-target' } });
  const minted = mintRestCredentials(secret, ctx.creds.restUser ?? DEFAULT_REST_USER, MINTED_TTL_S);
  const evidence = { uri: s.target.uri.raw, family: s.target.family, username: minted.username };
  try {
    return await ctx.withClient(
      s.target,
      async (client) => {
        try {
          const a = await allocateUnderOurLoad(run, () => client.allocate());
          ctx.learn(s.target, { software: a.software });
          return finding('AUTH-4', { status: 'pass', summary: 'The TURN server accepts credentials freshly minted with the shared secret the run holds.', evidence });
        } catch (e) {
          if (!(e instanceof TurnError)) throw e;
          if (e.kind === 'error-response' && e.code === 401 && e.method === 'Allocate') {
            return finding('AUTH-4', {
              status: 'fail',
              severity: 'high',
              cause: 'server-rejects-minted',
              summary: "The TURN server rejects credentials freshly minted with the shared secret the run holds (401): its `static-auth-secret` is not that secret.",
              evidence: { ...evidence, code: 401 },
            });
          }
          return finding('AUTH-4', { status: 'info', summary: `Minted credentials got ${describe(e)}; which side has the wrong secret is not known.`, evidence: { ...evidence, error: e.kind, code: e.code ?? null } });
        }
      },
      { username: minted.username, password: minted.password },
    );
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    return finding('AUTH-4', { status: 'skip', summary: `not run: connecting again failed (${describe(e)})`, evidence: { reason: e.kind } });
  }
}

export const AUTH_4 = defineCheck({
  id: 'AUTH-4',
  scope: 'run',
  needs: ['AUTH-2'],
  allocations: 1,
  applies: (run) => !!run.ctx.creds.sharedSecret,
  run: async (run) => {
    const agreement = secretAgreement(run.ctx);
    return [...(agreement ? [agreement] : []), await mintedCredentials(run)];
  },
});
