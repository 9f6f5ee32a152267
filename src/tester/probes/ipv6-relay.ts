// ALLOC-2: does the server hand out an IPv6 relay (REQUESTED-ADDRESS-FAMILY=
// IPv6)? Once per URI. ACL-4 then audits that IPv6 relay like a target's own
// (ACL-5 control, ACL-1..3 with the IPv6 addresses) plus the IPv4-mapped and
// NAT64 peers that only exist on an IPv6 relay.
import { TurnClient, TurnError, type AllocateResult } from '../turn';
import type { Finding } from '../types';
import { describe } from './auth-allocate';
import { defineCheck } from './check';
import type { UriUnit } from './context';
import { finding } from './finding';
import { allocateUnderOurLoad } from './our-load';
import { auditRelay } from './peer-acl';

export const NO_ALLOCATION = 'not run: no address of this URI gave an allocation (see AUTH-2)';

type Ipv6Relay = { client: TurnClient; a: AllocateResult } | { why: string; finding: Finding | null };

/** The URI's IPv6 relay, opened once for ALLOC-2 and ACL-4 (closed when the unit's shared segment ends). */
function ipv6Relay(u: UriUnit): Promise<Ipv6Relay> {
  return u.memo('ipv6-relay', async () => {
    const s = u.allocatedTarget();
    if (!s) return { why: NO_ALLOCATION.replace('not run: ', ''), finding: finding('ALLOC-2', { ...u.scope, status: 'skip', summary: NO_ALLOCATION, evidence: { reason: 'no-allocation' } }) };
    let client: TurnClient | null = null;
    try {
      const a = await allocateUnderOurLoad(u, async () => {
        await client?.close();
        client = await TurnClient.connect(u.ctx.clientOptions(s.target, true));
        return client.allocate({ family: 'ipv6' });
      });
      u.ctx.learn(s.target, { software: a.software });
      const c = client as unknown as TurnClient;
      u.onRelease(() => c.close());
      return { client: c, a };
    } catch (e) {
      await (client as TurnClient | null)?.close();
      if (!(e instanceof TurnError)) throw e;
      if (e.kind === 'error-response' && e.code === 440) {
        return {
          why: 'the server has no IPv6 relay (ALLOC-2)',
          finding: finding('ALLOC-2', { ...u.scope, status: 'warn', severity: 'low', cause: 'no-ipv6-relay', summary: 'The server has no IPv6 relay (440 Address Family not Supported): IPv6-only peers cannot be reached.', evidence: { code: 440 } }),
        };
      }
      if (e.kind === 'error-response') {
        return { why: `the IPv6 relay request got ${describe(e)}`, finding: finding('ALLOC-2', { ...u.scope, status: 'info', summary: `An IPv6 relay request got ${describe(e)}; IPv6 relay support unknown.`, evidence: { error: e.kind, code: e.code ?? null } }) };
      }
      return { why: `connecting again failed (${describe(e)})`, finding: finding('ALLOC-2', { ...u.scope, status: 'skip', summary: `not run: connecting again failed (${describe(e)})`, evidence: { reason: 'no-allocation' } }) };
    }
  });
}

export const ALLOC_2 = defineCheck({
  id: 'ALLOC-2',
  scope: 'uri',
  needs: ['AUTH-2'],
  allocations: 1,
  shared: true,
  applies: (u) => u.isTurn,
  run: async (u) => {
    const r = await ipv6Relay(u);
    if ('why' in r) return r.finding;
    if (r.a.relayed.family !== 'ipv6') {
      return finding('ALLOC-2', { ...u.scope, status: 'warn', severity: 'low', cause: 'no-ipv6-relay', summary: `Asked for an IPv6 relay, the server gave ${r.a.relayed.address}.`, evidence: { relayed: r.a.relayed.address } });
    }
    return finding('ALLOC-2', { ...u.scope, status: 'pass', summary: `The server hands out IPv6 relays (${r.a.relayed.address}).`, evidence: { relayed: r.a.relayed.address } });
  },
});

export const ACL_4 = defineCheck({
  id: 'ACL-4',
  scope: 'uri',
  needs: ['ALLOC-2'],
  // The IPv6 relay's audit also reports ACL-5 and ACL-1..3 for that relay (URI scope).
  emits: ['ACL-5', 'ACL-1', 'ACL-2', 'ACL-3'],
  causes: ['mapped-allowed', 'nat64-allowed'],
  allocations: 1,
  shared: true,
  applies: (u) => u.isTurn,
  run: async (u) => {
    const r = await ipv6Relay(u);
    const skip = (why: string) => finding('ACL-4', { ...u.scope, status: 'skip', summary: `not run: ${why}`, evidence: { reason: 'no-ipv6-relay' } });
    if ('why' in r) return skip(r.why);
    if (r.a.relayed.family !== 'ipv6') return skip('the server gives no IPv6 relay');
    return auditRelay(u.ctx, r.client, r.a, ['ACL-1', 'ACL-2', 'ACL-3', 'ACL-4'], u.scope, 'The IPv6 relay');
  },
});
