// TCPR-1: is RFC 6062 TCP relaying on? Allocate with REQUESTED-TRANSPORT=TCP
// over a TCP/TLS control connection; never Connect. 442 = off (pass). A
// success is deleted at once (close sends Refresh LIFETIME=0).
import { TurnError } from '../turn';
import type { Finding } from '../types';
import { describe } from './auth-allocate';
import { defineCheck } from './check';
import type { UriUnit } from './context';
import { finding } from './finding';
import { NO_ALLOCATION } from './ipv6-relay';
import { allocateUnderOurLoad } from './our-load';

async function tcpRelayCheck(u: UriUnit): Promise<Finding[]> {
  const { ctx } = u;
  const scope = u.scope;
  const s = u.allocatedTarget();
  if (!s) return [finding('TCPR-1', { ...scope, status: 'skip', summary: NO_ALLOCATION, evidence: { reason: 'no-allocation' } })];
  try {
    return await ctx.withClient(s.target, async (client) => {
      try {
        const a = await allocateUnderOurLoad(u, () => client.allocate({ requestedTransport: 'tcp' }));
        ctx.learn(s.target, { software: a.software });
        return [
          finding('TCPR-1', {
            ...scope,
            status: 'fail',
            severity: 'high',
            cause: 'tcp-relay-enabled',
            summary: `The server grants TCP relay allocations (RFC 6062, relay ${a.relayed.address}): clients can open TCP connections from it to any peer it reaches.`,
            evidence: { relayed: a.relayed.address },
          }),
        ];
      } catch (e) {
        if (!(e instanceof TurnError)) throw e;
        if (e.kind === 'error-response' && e.code === 442) {
          return [finding('TCPR-1', { ...scope, status: 'pass', summary: 'TCP relaying is off (442 Unsupported Transport Protocol).', evidence: { code: 442 } })];
        }
        if (e.kind === 'error-response') {
          return [finding('TCPR-1', { ...scope, status: 'info', summary: `A TCP relay request got error ${e.code} (not 442): not granted, but the reason is unclear.`, evidence: { code: e.code ?? null } })];
        }
        return [finding('TCPR-1', { ...scope, status: 'skip', summary: `A TCP relay request got ${describe(e)}; not judged.`, evidence: { reason: e.kind } })];
      }
    });
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    return [finding('TCPR-1', { ...scope, status: 'skip', summary: `not run: connecting again failed (${describe(e)})`, evidence: { reason: 'no-allocation' } })];
  }
}

export const TCPR_1 = defineCheck({
  id: 'TCPR-1',
  scope: 'uri',
  needs: ['AUTH-2'],
  allocations: 1,
  applies: (u) => u.isTurn && u.uri.transport !== 'udp',
  run: tcpRelayCheck,
});
