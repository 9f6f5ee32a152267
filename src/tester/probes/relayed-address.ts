// ALLOC-1: the relayed address must be reachable from the Internet; a private
// one means coturn sits behind NAT without `external-ip`.
import { classifyAddress, isPublicRelayAddress } from '../guard';
import type { Finding } from '../types';
import { defineCheck } from './check';
import type { TargetState } from './context';
import { finding } from './finding';

function judgeRelayedAddress(state: TargetState): Finding | null {
  const a = state.allocation;
  if (!a) return null;
  const { ctx } = state;
  const relayed = a.relayed.address;
  state.result.relayedAddress = `${relayed.includes(':') ? `[${relayed}]` : relayed}:${a.relayed.port}`;
  if (isPublicRelayAddress(relayed, ctx.options.assumePublic)) {
    return finding('ALLOC-1', { ...state.scope, status: 'pass', summary: `The relayed address ${relayed} is public.`, evidence: { relayedAddress: relayed } });
  }
  const c = classifyAddress(relayed);
  return finding('ALLOC-1', {
      ...state.scope,
      status: 'fail',
      severity: 'high',
      cause: 'private-relay',
      summary: `The relayed address ${relayed} is ${c.label}: peers on the Internet cannot reach it.`,
      evidence: { relayedAddress: relayed, range: c.range },
    });
}

export const ALLOC_1 = defineCheck({
  id: 'ALLOC-1',
  scope: 'uri-family',
  needs: ['AUTH-2'],
  allocations: 1,
  shared: true,
  applies: (s) => s.isTurn,
  run: async (s) => judgeRelayedAddress(s),
});
