// ALLOC-4: can one user hold 3 allocations at once (user-quota)? Once per URI,
// holding all 3 permits of the run's allocation semaphore. coturn frees a
// deleted allocation about 1 s after Refresh(LIFETIME=0), so a 486 caused by
// our own just-deleted allocations is retried once after a pause.
import { TurnClient, TurnError } from '../turn';
import type { Finding } from '../types';
import { describe } from './auth';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';
import { hasStatus, noteSoftware, notRun, NO_ALLOCATION, uriScope, wanted, type UriGroup } from './uri-level';

export const WANTED_ALLOCATIONS = 3;
const LINGER_MS = 1500;

export interface QuotaAttempt {
  /** Allocations granted before the first refusal. */
  granted: number;
  /** The 1-based allocation refused with 486, or null. */
  quotaAt: number | null;
  /** Another failure (not 486). */
  error: string | null;
}

/** Pure judgement of the (last) attempt. */
export function judgeQuota(r: QuotaAttempt, scope: { uri: string; family: null }): Finding {
  const evidence = { granted: r.granted, wanted: WANTED_ALLOCATIONS, refusedAt: r.quotaAt };
  if (r.quotaAt !== null) {
    return finding('ALLOC-4', {
      ...scope,
      status: 'warn',
      severity: 'medium',
      cause: 'quota',
      summary: `The server refused allocation ${r.quotaAt} of ${WANTED_ALLOCATIONS} for one user (486 Allocation Quota Reached): a user with several devices or URIs will fail to relay.`,
      evidence,
    });
  }
  if (r.error) {
    return finding('ALLOC-4', { ...scope, status: 'skip', summary: `Not judged: allocation ${r.granted + 1} got ${r.error}.`, evidence: { ...evidence, reason: r.error } });
  }
  return finding('ALLOC-4', { ...scope, status: 'pass', summary: `One user can hold ${WANTED_ALLOCATIONS} allocations at once.`, evidence });
}

async function attempt(ctx: RunContext, s: TargetState): Promise<QuotaAttempt> {
  const r: QuotaAttempt = { granted: 0, quotaAt: null, error: null };
  // Connect all at once (saves round trips); allocate one after another so "the Nth" is well defined.
  const settled = await Promise.allSettled(Array.from({ length: WANTED_ALLOCATIONS }, () => TurnClient.connect(ctx.clientOptions(s.target, true))));
  const clients = settled.flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  try {
    const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
    for (const c of clients) {
      const a = await c.allocate();
      noteSoftware(ctx, s, a.software);
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

export async function quotaCheck(ctx: RunContext, g: UriGroup): Promise<Finding[]> {
  if (!wanted(ctx, 'ALLOC-4')) return [];
  // Where AUTH-2 itself hit the quota, the quota test is still meaningful.
  const s =
    g.states.find((x) => hasStatus(x, 'AUTH-2', 'pass') && x.target.family === 'ipv4') ??
    g.states.find((x) => hasStatus(x, 'AUTH-2', 'pass')) ??
    g.states.find((x) => x.findings.some((f) => f.id === 'AUTH-2' && f.cause === 'quota'));
  if (!s) return notRun(['ALLOC-4'], g, NO_ALLOCATION);
  const release = await ctx.allocations.acquire(WANTED_ALLOCATIONS);
  try {
    let r = await attempt(ctx, s);
    if (r.quotaAt !== null && ctx.deadline.remaining() > LINGER_MS + 3000) {
      await new Promise((done) => setTimeout(done, LINGER_MS));
      r = await attempt(ctx, s);
    }
    return [judgeQuota(r, uriScope(g))];
  } finally {
    release();
  }
}
