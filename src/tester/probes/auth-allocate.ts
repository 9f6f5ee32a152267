// AUTH-1 (no open relay) and AUTH-2 (our credentials are accepted): the
// allocation every relay check of the target runs on.
import { parseRestUsername } from '../credentials/rest';
import { TurnClient, TurnError } from '../turn';
import type { Finding } from '../types';
import { defineCheck } from './check';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';
import { allocateUnderOurLoad, type OurLoad } from './our-load';
import { connection, unauthenticatedAllocate } from './reachability';

/** What a TURN check needs before it may talk TURN: an open transport that speaks STUN. */
export const TURN_GATES = ['NET-1', 'TLS-1', 'TLS-2', 'STUN-1'] as const;

export function describe(e: TurnError): string {
  if (e.kind === 'error-response') return `error ${e.code} on ${e.method ?? 'request'}`;
  return { timeout: 'no answer', refused: 'connection refused', closed: 'the connection closed', tls: 'a TLS failure', unreachable: 'no route', 'not-stun': 'a non-STUN answer', protocol: 'a malformed answer' }[e.kind] ?? e.kind;
}

/** AUTH-1 and AUTH-2: TURN targets past the gates, on the allocation the target holds from here on. */
const ON_TURN_TARGET = { scope: 'uri-family', needs: TURN_GATES, allocations: 1, shared: true, applies: (s: TargetState) => s.isTurn } as const;

export const AUTH_1 = defineCheck({
  id: 'AUTH-1',
  ...ON_TURN_TARGET,
  run: async (s) => {
    const a = await unauthenticatedAllocate(s);
    if (a.ok) {
      return finding('AUTH-1', {
        ...s.scope,
        status: 'fail',
        severity: 'critical',
        cause: 'open-relay',
        summary: `The server allocated a relay (${a.ok.relayed.address}) without credentials: anyone can use it as an open relay.`,
        evidence: { relayed: a.ok.relayed.address },
      });
    }
    const e = a.error;
    if (e.kind === 'error-response' && e.code === 401) return finding('AUTH-1', { ...s.scope, status: 'pass', summary: 'Allocate without credentials is challenged (401).', evidence: { code: 401 } });
    return finding('AUTH-1', { ...s.scope, status: 'info', summary: `Allocate without credentials got ${describe(e)}.`, evidence: { error: e.kind, code: e.code ?? null } });
  },
});

/** Why the server refused our credentials, from what the run knows (never from reason phrases). */
function rejectionCause(ctx: RunContext, code: number | undefined): string {
  if (code === 400) return 'bad-request';
  const rest = parseRestUsername(ctx.creds.username);
  if (!rest) return 'rejected';
  if (rest.expiresAt * 1000 <= Date.now()) return 'expired';
  return 'wrong-secret';
}

const REJECTION_SUMMARY: Record<string, string> = {
  'wrong-secret': 'The TURN server rejects the credentials (401): the shared secret that minted them differs from coturn `static-auth-secret`.',
  expired: 'The TURN server rejects the credentials (401): they have expired.',
  rejected: 'The TURN server rejects the username/password (401).',
  'bad-request': 'The TURN server rejects the credentials (400).',
};

async function authenticatedAllocate(s: TargetState): Promise<Finding> {
  const { ctx } = s;
  const load: OurLoad = { retried: [] };
  try {
    const a = await allocateUnderOurLoad(
      s,
      async (fresh) => {
        if (fresh || !s.client) {
          await s.client?.close();
          s.setClient(await TurnClient.connect(ctx.clientOptions(s.target, true)));
        }
        return s.client!.allocate();
      },
      load,
    );
    s.allocation = a;
    s.result.timingsMs.allocate = Math.round(a.elapsedMs * 10) / 10;
    ctx.learn(s.target, a);
    return finding('AUTH-2', {
      ...s.scope,
      status: 'pass',
      summary: `Allocation succeeded: relay ${a.relayed.address}:${a.relayed.port}.`,
      evidence: {
        relayed: `${a.relayed.address}:${a.relayed.port}`,
        realm: a.realm,
        lifetime: a.lifetime,
        requests: a.requests,
        elapsedMs: Math.round(a.elapsedMs),
        ...(load.retried.length > 0 ? { ourLoadRetries: load.retried } : {}),
      },
    });
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    if (e.kind === 'error-response' && (e.code === 401 || e.code === 400) && e.method === 'Allocate') {
      const cause = rejectionCause(ctx, e.code);
      return finding('AUTH-2', { ...s.scope, status: 'fail', severity: 'high', cause, summary: REJECTION_SUMMARY[cause]!, evidence: { code: e.code, method: e.method, username: ctx.creds.username } });
    }
    if (e.kind === 'error-response') {
      // 486/508 here came with nothing else of ours allocated: the server's own limit.
      const cause = e.code === 486 ? 'quota' : e.code === 508 ? 'capacity' : e.code === 403 ? 'forbidden' : `error-${e.code}`;
      const alone = e.code === 486 || e.code === 508 ? ' with no other allocation of the tester live' : '';
      return finding('AUTH-2', {
        ...s.scope,
        status: 'fail',
        severity: 'high',
        cause,
        summary: `Allocate failed with error ${e.code} (${e.method ?? 'Allocate'})${alone}.`,
        evidence: { code: e.code ?? null, method: e.method ?? null, reason: (e.reason ?? '').slice(0, 120), ourLoadRetries: load.retried },
      });
    }
    return finding('AUTH-2', { ...s.scope, status: 'fail', severity: 'high', cause: e.kind, summary: `Allocate failed: ${describe(e)}.`, evidence: { error: e.kind } });
  }
}

export const AUTH_2 = defineCheck({
  id: 'AUTH-2',
  ...ON_TURN_TARGET,
  run: async (s) => {
    // The connection is opened by NET-1; AUTH-1 may have replaced it.
    await connection(s);
    return authenticatedAllocate(s);
  },
});
