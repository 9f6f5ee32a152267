// The run-level entry for the once-per-URI checks and AUTH-4's minted half.
// They run concurrently; the allocation semaphore keeps them within the
// run's limit (ALLOC-4 takes all 3 permits at once).
import type { CheckId } from '../checks';
import type { Finding } from '../types';
import { finding } from './finding';
import { ipv6RelayCheck } from './alloc2';
import { mintedCredentialsCheck } from './auth4';
import type { RunContext, TargetState } from './context';
import { quotaCheck } from './quota';
import { tcpRelayCheck } from './tcpr';
import { turnUris } from './uri-level';

/** A bug in one check must not sink the whole report: it becomes a skip naming the check. */
async function safe(id: CheckId, scope: string | null, run: () => Promise<Finding[]>): Promise<Finding[]> {
  try {
    return await run();
  } catch (e) {
    const what = e instanceof Error ? e.name : 'error';
    return [finding(id, { uri: scope, status: 'skip', summary: `not run: internal error (${what})`, evidence: { reason: 'internal-error' } })];
  }
}

export async function uriChecks(ctx: RunContext, states: TargetState[]): Promise<Finding[]> {
  const groups = turnUris(states);
  const parts = await Promise.all([
    ...groups.map((g) => safe('ALLOC-2', g.uri.raw, () => ipv6RelayCheck(ctx, g))),
    ...groups.map((g) => safe('TCPR-1', g.uri.raw, () => tcpRelayCheck(ctx, g))),
    ...groups.map((g) => safe('ALLOC-4', g.uri.raw, () => quotaCheck(ctx, g))),
    safe('AUTH-4', null, () => mintedCredentialsCheck(ctx, states)),
  ]);
  return parts.flat();
}
