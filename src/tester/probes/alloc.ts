// ALLOC-1: the relayed address must be reachable from the Internet; a private
// one means coturn sits behind NAT without `external-ip`.
import { classifyAddress, isPublicRelayAddress } from '../guard';
import type { AllocateResult } from '../turn';
import type { RunContext, TargetState } from './context';
import { finding } from './finding';

export function judgeRelayedAddress(ctx: RunContext, state: TargetState, a: AllocateResult): void {
  const relayed = a.relayed.address;
  state.result.relayedAddress = `${relayed.includes(':') ? `[${relayed}]` : relayed}:${a.relayed.port}`;
  if (isPublicRelayAddress(relayed, ctx.options.assumePublic)) {
    state.add(finding('ALLOC-1', { ...state.scope, status: 'pass', summary: `The relayed address ${relayed} is public.`, evidence: { relayedAddress: relayed } }));
    return;
  }
  const c = classifyAddress(relayed);
  state.gate(
    finding('ALLOC-1', {
      ...state.scope,
      status: 'fail',
      severity: 'high',
      cause: 'private-relay',
      summary: `The relayed address ${relayed} is ${c.label}: peers on the Internet cannot reach it.`,
      evidence: { relayedAddress: relayed, range: c.range },
    }),
  );
}
