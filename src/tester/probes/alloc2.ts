// ALLOC-2: does the server hand out an IPv6 relay (REQUESTED-ADDRESS-FAMILY=
// IPv6)? Once per URI. The IPv6 relay it gives is then audited like the main
// one: ACL-5 control, ACL-1..3 with the IPv6 addresses, and ACL-4 (IPv4-mapped
// and NAT64 peers), which only exists on an IPv6 relay.
import { TurnError } from '../turn';
import type { Finding } from '../types';
import { auditRelay, type AclId } from './acl';
import type { RunContext } from './context';
import { finding } from './finding';
import { describe } from './auth';
import { allocatedTarget, noteSoftware, notRun, NO_ALLOCATION, uriScope, wanted, withClient, type UriGroup } from './uri-level';

const ACL_IDS: AclId[] = ['ACL-1', 'ACL-2', 'ACL-3', 'ACL-4'];

export async function ipv6RelayCheck(ctx: RunContext, g: UriGroup): Promise<Finding[]> {
  const acl = ACL_IDS.some((id) => wanted(ctx, id)) || wanted(ctx, 'ACL-5');
  if (!wanted(ctx, 'ALLOC-2') && !acl) return [];
  const scope = uriScope(g);
  const s = allocatedTarget(g);
  if (!s) return notRun([...(wanted(ctx, 'ALLOC-2') ? (['ALLOC-2'] as const) : []), ...(wanted(ctx, 'ACL-4') ? (['ACL-4'] as const) : [])], g, NO_ALLOCATION);
  const out: Finding[] = [];
  const noV6Relay = (why: string) => {
    if (wanted(ctx, 'ACL-4')) out.push(finding('ACL-4', { ...scope, status: 'skip', summary: `not run: ${why}`, evidence: { reason: 'no-ipv6-relay' } }));
  };
  const release = await ctx.allocations.acquire(1);
  try {
    await withClient(ctx, s, async (client) => {
      try {
        const a = await client.allocate({ family: 'ipv6' });
        noteSoftware(ctx, s, a.software);
        if (a.relayed.family !== 'ipv6') {
          if (wanted(ctx, 'ALLOC-2')) {
            out.push(finding('ALLOC-2', { ...scope, status: 'warn', severity: 'low', cause: 'no-ipv6-relay', summary: `Asked for an IPv6 relay, the server gave ${a.relayed.address}.`, evidence: { relayed: a.relayed.address } }));
          }
          noV6Relay('the server gives no IPv6 relay');
          return;
        }
        if (wanted(ctx, 'ALLOC-2')) out.push(finding('ALLOC-2', { ...scope, status: 'pass', summary: `The server hands out IPv6 relays (${a.relayed.address}).`, evidence: { relayed: a.relayed.address } }));
        if (acl) out.push(...(await auditRelay(ctx, client, a, ACL_IDS, scope, 'The IPv6 relay')));
      } catch (e) {
        if (!(e instanceof TurnError)) throw e;
        if (e.kind === 'error-response' && e.code === 440) {
          if (wanted(ctx, 'ALLOC-2')) {
            out.push(finding('ALLOC-2', { ...scope, status: 'warn', severity: 'low', cause: 'no-ipv6-relay', summary: 'The server has no IPv6 relay (440 Address Family not Supported): IPv6-only peers cannot be reached.', evidence: { code: 440 } }));
          }
          noV6Relay('the server has no IPv6 relay (ALLOC-2)');
          return;
        }
        if (wanted(ctx, 'ALLOC-2')) {
          out.push(finding('ALLOC-2', { ...scope, status: 'info', summary: `An IPv6 relay request got ${describe(e)}; IPv6 relay support unknown.`, evidence: { error: e.kind, code: e.code ?? null } }));
        }
        noV6Relay(`the IPv6 relay request got ${describe(e)}`);
      }
    });
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    out.push(...notRun(wanted(ctx, 'ALLOC-2') ? ['ALLOC-2'] : [], g, `not run: connecting again failed (${describe(e)})`));
    noV6Relay(`connecting again failed (${describe(e)})`);
  } finally {
    release();
  }
  return out;
}
