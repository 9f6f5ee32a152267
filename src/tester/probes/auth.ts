// AUTH-1 (no open relay) and AUTH-2 (our credentials are accepted), and the
// allocation that the relay checks run on.
import { parseRestUsername } from '../credentials/rest';
import { TurnClient, TurnError, type AllocateResult } from '../turn';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';

/** AUTH-1: Allocate with no credentials must be challenged with 401. */
export async function openRelay(ctx: RunContext, state: TargetState, client: TurnClient): Promise<TurnClient> {
  try {
    const a = await client.allocate({ withCredentials: false });
    state.add(
      finding('AUTH-1', {
        ...state.scope,
        status: 'fail',
        severity: 'critical',
        cause: 'open-relay',
        summary: `The server allocated a relay (${a.relayed.address}) without credentials: anyone can use it as an open relay.`,
        evidence: { relayed: a.relayed.address },
      }),
    );
    // The 5-tuple now holds an allocation; continue on a fresh connection.
    await client.close();
    return TurnClient.connect(ctx.clientOptions(state.target, true));
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    if (e.kind === 'error-response' && e.code === 401) {
      state.add(finding('AUTH-1', { ...state.scope, status: 'pass', summary: 'Allocate without credentials is challenged (401).', evidence: { code: 401 } }));
    } else {
      state.add(finding('AUTH-1', { ...state.scope, status: 'info', summary: `Allocate without credentials got ${describe(e)}.`, evidence: { error: e.kind, code: e.code ?? null } }));
    }
    return client;
  }
}

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

/** AUTH-2: the authenticated Allocate. Returns the allocation, or null (gate failed). */
export async function allocate(ctx: RunContext, state: TargetState, client: TurnClient): Promise<AllocateResult | null> {
  try {
    const a = await client.allocate();
    state.result.timingsMs.allocate = Math.round(a.elapsedMs * 10) / 10;
    if (a.software) ctx.software.set(`${state.target.address}:${state.target.uri.port}`, a.software);
    if (a.mapped && !ctx.publicAddress[a.mapped.family]) ctx.publicAddress[a.mapped.family] = a.mapped.address;
    state.gate(
      finding('AUTH-2', {
        ...state.scope,
        status: 'pass',
        summary: `Allocation succeeded: relay ${a.relayed.address}:${a.relayed.port}.`,
        evidence: { relayed: `${a.relayed.address}:${a.relayed.port}`, realm: a.realm, lifetime: a.lifetime, requests: a.requests, elapsedMs: Math.round(a.elapsedMs) },
      }),
    );
    return a;
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    if (e.kind === 'error-response' && (e.code === 401 || e.code === 400) && e.method === 'Allocate') {
      const cause = rejectionCause(ctx, e.code);
      state.gate(finding('AUTH-2', { ...state.scope, status: 'fail', severity: 'high', cause, summary: REJECTION_SUMMARY[cause], evidence: { code: e.code, method: e.method, username: ctx.creds.username } }));
    } else if (e.kind === 'error-response') {
      const cause = e.code === 486 ? 'quota' : e.code === 508 ? 'capacity' : e.code === 403 ? 'forbidden' : `error-${e.code}`;
      state.gate(
        finding('AUTH-2', {
          ...state.scope,
          status: 'fail',
          severity: 'high',
          cause,
          summary: `Allocate failed with error ${e.code} (${e.method ?? 'Allocate'}).`,
          evidence: { code: e.code ?? null, method: e.method ?? null, reason: (e.reason ?? '').slice(0, 120) },
        }),
      );
    } else {
      state.gate(finding('AUTH-2', { ...state.scope, status: 'fail', severity: 'high', cause: e.kind, summary: `Allocate failed: ${describe(e)}.`, evidence: { error: e.kind } }));
    }
    return null;
  }
}

export function describe(e: TurnError): string {
  if (e.kind === 'error-response') return `error ${e.code} on ${e.method ?? 'request'}`;
  return { timeout: 'no answer', refused: 'connection refused', closed: 'the connection closed', tls: 'a TLS failure', unreachable: 'no route', 'not-stun': 'a non-STUN answer', protocol: 'a malformed answer' }[e.kind] ?? e.kind;
}
