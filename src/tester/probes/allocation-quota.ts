// ALLOC-4: how many allocations may one user hold at once (user-quota)? Once
// per server (per realm: coturn counts a user's allocations per realm), while
// nothing else of ours allocates: up to 3, one after another, so "the Nth" is
// well defined. coturn frees a deleted allocation about 1 s after
// Refresh(LIFETIME=0), so a refusal is retried once after a pause. This is the
// one place a quota is reported: our own load never shows up as AUTH-2.
import { TurnClient, TurnError } from '../turn';
import type { Finding } from '../types';
import { describe } from './auth-allocate';
import { defineCheck } from './check';
import type { TargetState, UriUnit } from './context';
import { finding } from './finding';
import { NO_ALLOCATION } from './ipv6-relay';
import { allocateUnderOurLoad, LINGER_MS } from './our-load';
import { realmOf } from './realm-consistency';

export const WANTED_ALLOCATIONS = 3;

export interface QuotaAttempt {
  /** Allocations granted before the first refusal. */
  granted: number;
  /** The 1-based allocation refused with 486, or null. */
  quotaAt: number | null;
  /** Another failure (not 486). */
  error: string | null;
}

/** Pure judgement of the (last) attempt; `uris` = the URIs of the same server it speaks for. */
export function judgeQuota(r: QuotaAttempt, scope: { uri: string; family: null }, uris: string[] = [scope.uri]): Finding {
  const evidence = { granted: r.granted, allowed: r.quotaAt !== null ? r.granted : null, wanted: WANTED_ALLOCATIONS, refusedAt: r.quotaAt, uris };
  if (r.quotaAt !== null) {
    return finding('ALLOC-4', {
      ...scope,
      status: 'warn',
      severity: 'medium',
      cause: 'quota',
      summary: `The server allows one user ${r.granted} allocation(s) at once: it refused allocation ${r.quotaAt} of ${WANTED_ALLOCATIONS} (486 Allocation Quota Reached), so a user with several devices or URIs will fail to relay.`,
      evidence,
    });
  }
  if (r.error) {
    return finding('ALLOC-4', { ...scope, status: 'skip', summary: `Not judged: allocation ${r.granted + 1} got ${r.error}.`, evidence: { ...evidence, reason: r.error } });
  }
  return finding('ALLOC-4', { ...scope, status: 'pass', summary: `One user can hold ${WANTED_ALLOCATIONS} allocations at once.`, evidence });
}

async function attempt(u: UriUnit, s: TargetState): Promise<QuotaAttempt> {
  const { ctx } = s;
  const r: QuotaAttempt = { granted: 0, quotaAt: null, error: null };
  // Connect all at once (saves round trips); allocate one after another.
  const settled = await Promise.allSettled(Array.from({ length: WANTED_ALLOCATIONS }, () => TurnClient.connect(ctx.clientOptions(s.target, true))));
  const clients = settled.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  try {
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    for (const [i, c] of clients.entries()) {
      // The first one may meet our own just-deleted allocations (AUTH-2 passed: the server allows at least one).
      const a = i === 0 ? await allocateUnderOurLoad(u, () => c.allocate()) : await c.allocate();
      ctx.learn(s.target, { software: a.software });
      r.granted++;
    }
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    if (e.kind === 'error-response' && e.code === 486) r.quotaAt = r.granted + 1;
    else r.error = describe(e);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
  }
  return r;
}

/** A target of this URI that reached the authenticated Allocate (IPv4 first), and the server (realm) it belongs to. */
function quotaTarget(u: UriUnit): TargetState | undefined {
  return u.allocatedTarget() ?? u.states.find((x) => x.findings.some((f) => f.id === 'AUTH-2' && f.cause === 'quota'));
}

const serverKey = (u: UriUnit, s: TargetState) => `quota:${realmOf(s) ?? u.uri.host}`;

export const ALLOC_4 = defineCheck({
  id: 'ALLOC-4',
  scope: 'uri',
  needs: ['AUTH-2'],
  // Nothing else of ours may allocate meanwhile, or our own allocations would meet the quota.
  allocations: 'all',
  applies: (u) => u.isTurn,
  run: async (u) => {
    const s = quotaTarget(u);
    if (!s) return finding('ALLOC-4', { ...u.scope, status: 'skip', summary: NO_ALLOCATION, evidence: { reason: 'no-allocation' } });
    // One finding per server: the first URI (plan order) of that realm speaks for all of them.
    const run = u.ctx.runUnit;
    const peers = (run?.uris ?? [u]).filter((o) => o.isTurn && quotaTarget(o) && serverKey(o, quotaTarget(o)!) === serverKey(u, s));
    if (peers[0] && peers[0] !== u) return null;
    let r = await attempt(u, s);
    if (r.quotaAt !== null && u.ctx.deadline.remaining() > LINGER_MS + 3000) {
      await new Promise((done) => setTimeout(done, LINGER_MS));
      r = await attempt(u, s);
    }
    if (r.quotaAt !== null) u.ctx.allocations.shrinkTo(Math.max(1, r.granted));
    return judgeQuota(r, u.scope, peers.map((p) => p.uri.raw));
  },
});
