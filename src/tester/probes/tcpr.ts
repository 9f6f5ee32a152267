// TCPR-1: is RFC 6062 TCP relaying on? Allocate with REQUESTED-TRANSPORT=TCP
// over a TCP/TLS control connection; never Connect. 442 = off (pass). A
// success is deleted at once (close sends Refresh LIFETIME=0).
import { TurnError } from '../turn';
import type { Finding } from '../types';
import { describe } from './auth';
import type { RunContext } from './context';
import { finding } from './finding';
import { allocatedTarget, noteSoftware, notRun, NO_ALLOCATION, uriScope, wanted, withClient, type UriGroup } from './uri-level';

export async function tcpRelayCheck(ctx: RunContext, g: UriGroup): Promise<Finding[]> {
  if (!wanted(ctx, 'TCPR-1') || g.uri.transport === 'udp') return [];
  const scope = uriScope(g);
  const s = allocatedTarget(g);
  if (!s) return notRun(['TCPR-1'], g, NO_ALLOCATION);
  const release = await ctx.allocations.acquire(1);
  try {
    return await withClient(ctx, s, async (client) => {
      try {
        const a = await client.allocate({ requestedTransport: 'tcp' });
        noteSoftware(ctx, s, a.software);
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
    return notRun(['TCPR-1'], g, `not run: connecting again failed (${describe(e)})`);
  } finally {
    release();
  }
}
