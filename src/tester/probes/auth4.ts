// AUTH-4, second half: when the run holds the shared secret, mint our own
// REST credentials and allocate once. Together with the HMAC comparison in
// run-level.ts this names the side with the wrong secret.
import { DEFAULT_REST_USER, mintRestCredentials } from '../credentials/rest';
import { TurnError } from '../turn';
import type { Finding } from '../types';
import { describe } from './auth';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';
import { hasStatus, noteSoftware, wanted, withClient } from './uri-level';

const MINTED_TTL_S = 600;

/** A TURN target that got as far as the authenticated Allocate (UDP first: cheapest). */
function reachedAuth(states: readonly TargetState[]): TargetState | undefined {
  const turn = states.filter((s) => s.target.uri.scheme !== 'stun' && s.findings.some((f) => f.id === 'AUTH-2' && (f.status === 'pass' || f.status === 'fail')));
  return turn.find((s) => hasStatus(s, 'AUTH-2', 'pass') && s.target.uri.transport === 'udp') ?? turn.find((s) => hasStatus(s, 'AUTH-2', 'pass')) ?? turn[0];
}

export async function mintedCredentialsCheck(ctx: RunContext, states: TargetState[]): Promise<Finding[]> {
  const secret = ctx.creds.sharedSecret;
  if (!secret || !wanted(ctx, 'AUTH-4')) return [];
  const s = reachedAuth(states);
  if (!s) return [finding('AUTH-4', { status: 'skip', summary: 'not run: no TURN URI answered an authenticated Allocate, so minted credentials could not be tried.', evidence: { reason: 'no-target' } })];
  const minted = mintRestCredentials(secret, ctx.creds.restUser ?? DEFAULT_REST_USER, MINTED_TTL_S);
  const evidence = { uri: s.target.uri.raw, family: s.target.family, username: minted.username };
  const release = await ctx.allocations.acquire(1);
  try {
    return await withClient(
      ctx,
      s,
      async (client) => {
        try {
          const a = await client.allocate();
          noteSoftware(ctx, s, a.software);
          return [finding('AUTH-4', { status: 'pass', summary: 'The TURN server accepts credentials freshly minted with the shared secret the run holds.', evidence })];
        } catch (e) {
          if (!(e instanceof TurnError)) throw e;
          if (e.kind === 'error-response' && e.code === 401 && e.method === 'Allocate') {
            return [
              finding('AUTH-4', {
                status: 'fail',
                severity: 'high',
                cause: 'server-rejects-minted',
                summary: "The TURN server rejects credentials freshly minted with the shared secret the run holds (401): its `static-auth-secret` is not that secret.",
                evidence: { ...evidence, code: 401 },
              }),
            ];
          }
          return [finding('AUTH-4', { status: 'info', summary: `Minted credentials got ${describe(e)}; which side has the wrong secret is not known.`, evidence: { ...evidence, error: e.kind, code: e.code ?? null } })];
        }
      },
      { username: minted.username, password: minted.password },
    );
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    return [finding('AUTH-4', { status: 'skip', summary: `not run: connecting again failed (${describe(e)})`, evidence: { reason: e.kind } })];
  } finally {
    release();
  }
}
