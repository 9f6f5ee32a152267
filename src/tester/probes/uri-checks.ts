// The run-level entry for the once-per-URI checks and AUTH-4's minted half.
// They run concurrently; the allocation semaphore keeps them within the
// run's limit (ALLOC-4 takes all 3 permits at once).
import type { Finding } from '../types';
import { ipv6RelayCheck } from './alloc2';
import { mintedCredentialsCheck } from './auth4';
import type { RunContext, TargetState } from './context';
import { quotaCheck } from './quota';
import { tcpRelayCheck } from './tcpr';
import { turnUris } from './uri-level';

export async function uriChecks(ctx: RunContext, states: TargetState[]): Promise<Finding[]> {
  const groups = turnUris(states);
  const parts = await Promise.all([
    ...groups.map((g) => ipv6RelayCheck(ctx, g)),
    ...groups.map((g) => tcpRelayCheck(ctx, g)),
    ...groups.map((g) => quotaCheck(ctx, g)),
    mintedCredentialsCheck(ctx, states),
  ]);
  return parts.flat();
}
