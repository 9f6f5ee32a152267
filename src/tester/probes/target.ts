// One target's probe sequence, in gate order: connect (NET-1, TLS-1) ->
// Binding (STUN-1, TLS-2) -> AUTH-1 -> Allocate (AUTH-2) -> relay checks on the
// allocation (ALLOC-1, DATA-1, DATA-2, ...) -> E2E-1. After a failed gate,
// everything that depends on it is `skip` with the reason, not a cascade.
import type { CheckId } from '../checks';
import { TurnError, type AllocateResult, type TurnClient } from '../turn';
import type { Target } from '../types';
import { judgeRelayedAddress } from './alloc';
import { allocate, openRelay } from './auth';
import type { Release } from '../plan';
import { RunContext, TargetState } from './context';
import { relayBothWays, relayToRelay } from './data';
import { runE2E } from './e2e';
import { skipped } from './finding';
import { binding, connect } from './net';
import { aclStep } from './acl';
import { channelDataStep } from './channel';
import { amplificationStep } from './stun2';
import { measureQuality } from './quality';

/** A check that runs on a live allocation (the client holds it until all are done). */
export interface RelayStep {
  ids: CheckId[];
  /** How many allocations it needs at once, counting the one it is handed. */
  allocations: number;
  run(ctx: RunContext, state: TargetState, client: TurnClient, alloc: AllocateResult): Promise<void>;
}

export const RELAY_STEPS: RelayStep[] = [
  // Security first: the ACL probes only need a live allocation, not working data, so a broken data path must not hide them.
  { ids: ['ACL-5', 'ACL-1', 'ACL-2', 'ACL-3'], allocations: 1, run: aclStep },
  { ids: ['ALLOC-1'], allocations: 1, run: async (ctx, state, _c, a) => judgeRelayedAddress(ctx, state, a) },
  { ids: ['DATA-1'], allocations: 1, run: relayBothWays },
  { ids: ['DATA-2'], allocations: 2, run: (ctx, state, c, a) => relayToRelay(ctx, state, a, c) },
  { ids: ['DATA-3'], allocations: 1, run: channelDataStep },
  // Last, so DATA-2's second permit is given back before the long window.
  { ids: ['QUAL-1'], allocations: 1, run: (ctx, state, c, a) => measureQuality(ctx, state, c, a) },
];

/** Checks that need a TURN allocation (skipped for stun: URIs and after a failed gate). */
const TURN_IDS: CheckId[] = ['AUTH-1', 'AUTH-2', ...RELAY_STEPS.flatMap((s) => s.ids), 'E2E-1'];

function wanted(ctx: RunContext, id: CheckId): boolean {
  return !ctx.options.only || ctx.options.only.includes(id);
}

function skipRest(state: TargetState, ids: CheckId[]): void {
  const have = new Set(state.findings.map((f) => f.id));
  for (const id of ids) if (!have.has(id)) state.add(skipped(id, state.skipReason(), state.scope));
}

export async function probeTarget(ctx: RunContext, target: Target): Promise<TargetState> {
  const state = new TargetState(target);
  const isTurn = target.uri.scheme !== 'stun';
  let client: TurnClient | null = null;
  let release: Release | null = null;
  try {
    client = await connect(ctx, state);
    if (!client) return state;
    const bound = await binding(ctx, state, client);
    if (wanted(ctx, 'STUN-2')) amplificationStep(state, bound);
    if (!isTurn || state.blockedBy) return state;

    const need = Math.max(...RELAY_STEPS.filter((s) => s.ids.some((id) => wanted(ctx, id))).map((s) => s.allocations), 1);
    release = await ctx.allocations.acquire(need);
    client = await openRelay(ctx, state, client);
    const alloc = await allocate(ctx, state, client);
    if (!alloc) return state;
    const steps = RELAY_STEPS.filter((s) => s.ids.some((id) => wanted(ctx, id)));
    for (const [i, step] of steps.entries()) {
      if (state.blockedBy) break;
      // Hold only the permits the remaining steps need (QUAL-1's window must not keep DATA-2's).
      release.keep(Math.max(...steps.slice(i).map((s) => s.allocations)));
      await step.run(ctx, state, client, alloc);
    }
    const ok = (id: CheckId) => state.findings.some((f) => f.id === id && f.status === 'pass');
    state.result.turnWorks = ok('AUTH-2') && ok('DATA-1') && !state.findings.some((f) => f.id === 'ALLOC-1' && f.status === 'fail');
    await client.close();
    client = null;
    release();
    release = null;

    if (ctx.options.e2e && wanted(ctx, 'E2E-1') && !state.blockedBy) {
      release = await ctx.allocations.acquire(2);
      state.add(
        await runE2E({
          uri: target.uri,
          family: target.family,
          address: target.address,
          username: ctx.creds.username,
          password: ctx.creds.password,
          ca: ctx.options.ca,
          timeoutMs: ctx.deadline.cap(8000),
        }),
      );
    }
    return state;
  } catch (e) {
    // A client failure outside the gates (e.g. the server closed the connection mid-run).
    if (!(e instanceof TurnError)) throw e;
    state.gate(skipped(isTurn ? 'AUTH-2' : 'STUN-1', `the connection failed mid-test (${e.kind})`, state.scope));
    return state;
  } finally {
    await client?.close().catch(() => undefined);
    release?.();
    if (isTurn) skipRest(state, TURN_IDS.filter((id) => wanted(ctx, id) && (id !== 'E2E-1' || ctx.options.e2e)));
  }
}
