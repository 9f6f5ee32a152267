// DATA-1 (relayed data both ways, to a second socket of the tester) and
// DATA-2 (relay to relay on the same server). Relayed data only ever goes to
// the tester's own sockets.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { classifyAddress } from '../guard';
import { TurnClient, TurnError } from '../turn';
import type { TransportAddress } from '../stun';
import type { Family, Finding } from '../types';
import { defineCheck } from './check';
import type { TargetState } from './context';
import { finding, fmt } from './finding';
import { allocateUnderOurLoad } from './our-load';

const LEG_WAIT_MS = 1200;
const RESEND_EVERY_MS = 200;

/** A UDP socket of the tester that plays the remote peer. */
export class PeerSocket {
  private constructor(
    readonly socket: Socket,
    readonly family: Family,
  ) {}

  static open(family: Family): Promise<PeerSocket> {
    return new Promise((resolve, reject) => {
      const s = createSocket({ type: family === 'ipv6' ? 'udp6' : 'udp4', ipv6Only: family === 'ipv6' });
      s.once('error', reject);
      s.bind(0, () => {
        s.off('error', reject);
        s.on('error', () => undefined);
        resolve(new PeerSocket(s, family));
      });
    });
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      /* closed */
    }
  }
}

/** Resend `send` until `arrived` resolves or the wait ends; true when it arrived. */
async function leg(send: () => void, arrived: Promise<unknown>, waitMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  let resend: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), waitMs);
  });
  send();
  resend = setInterval(send, RESEND_EVERY_MS);
  try {
    return await Promise.race([arrived.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
    clearInterval(resend);
  }
}

async function relayBothWays(state: TargetState): Promise<Finding | null> {
  const { ctx, client, allocation: a } = state;
  if (!client || !a) return null;
  const relayed = a.relayed;
  if (!ctx.maySendTo(relayed.address)) {
    return finding('DATA-1', { ...state.scope, status: 'skip', summary: `Not sending data to the relayed address ${relayed.address} (not public; --allow-private permits it in a lab).`, evidence: { reason: 'guard' } });
  }
  const ours = await ctx.ownAddressFor(relayed, a.mapped);
  const peer = await PeerSocket.open(relayed.family);
  const t0 = performance.now();
  try {
    if (!ours) throw new Error('no address of ours in the relay family');
    try {
      await client.createPermission([{ address: ours, port: peer.port }]);
    } catch (e) {
      if (!(e instanceof TurnError)) throw e;
      const c = classifyAddress(ours);
      if (e.code === 403 && c.special) {
        // A tester next to coturn (private address) is rightly denied as a peer: no accusation.
        return finding('DATA-1', {
          ...state.scope,
          status: 'skip',
          summary: `The tester's own address ${ours} is ${c.label}, and the server (rightly) denies such peers; run the check from outside the server's network to test relayed data.`,
          evidence: { reason: 'tester-address-denied', peer: ours, range: c.range },
        });
      }
      return finding('DATA-1', {
        ...state.scope,
        status: 'fail',
        severity: 'high',
        cause: e.code === 403 ? 'permission-denied' : 'permission-failed',
        summary: `The server refused a permission for the tester's own address ${ours} (${e.kind === 'error-response' ? `error ${e.code}` : e.kind}).`,
        evidence: { inbound: false, outbound: false, peer: ours, code: e.code ?? null },
      });
    }
    // Inbound: peer -> relay -> client (Data indication).
    const probeIn = randomBytes(16);
    let seenFrom: TransportAddress | null = null;
    const inbound = await leg(
      () => peer.socket.send(probeIn, relayed.port, relayed.address),
      new Promise<void>((resolve) => {
        const on = (data: Buffer, from: TransportAddress) => {
          if (data.equals(probeIn)) {
            seenFrom = from;
            client.off('data', on);
            resolve();
          }
        };
        client.on('data', on);
      }),
      ctx.deadline.cap(LEG_WAIT_MS),
    );
    // Outbound: client -> relay -> peer; the peer must see the relayed address exactly.
    const target: TransportAddress = seenFrom ?? { family: relayed.family, address: ours, port: peer.port };
    const probeOut = randomBytes(16);
    let outFrom: RemoteInfo | null = null;
    const outbound = await leg(
      () => client.send(target, probeOut),
      new Promise<void>((resolve) => {
        peer.socket.on('message', (msg, rinfo) => {
          if (msg.equals(probeOut)) {
            outFrom = rinfo;
            resolve();
          }
        });
      }),
      ctx.deadline.cap(LEG_WAIT_MS),
    );
    state.result.timingsMs.data = Math.round(performance.now() - t0);
    const from = outFrom as RemoteInfo | null;
    const portChanged = from !== null && (from.port !== relayed.port || from.address.replace(/^::ffff:/, '') !== relayed.address);
    const evidence = { inbound, outbound, relayedAddress: fmt(relayed.address, relayed.port), peer: fmt(ours, peer.port), outboundFrom: from ? fmt(from.address, from.port) : null };
    if (inbound && outbound && !portChanged) {
      state.result.turnWorks = true;
      return finding('DATA-1', { ...state.scope, status: 'pass', summary: 'Relayed data flows both ways.', evidence });
    }
    if (inbound && outbound && portChanged) {
      return finding('DATA-1', {
          ...state.scope,
          status: 'fail',
          severity: 'high',
          cause: 'port-changed',
          summary: `Relayed data arrives from ${evidence.outboundFrom}, not from the relayed address ${evidence.relayedAddress}: a NAT in front of coturn changes ports.`,
          evidence,
        });
    }
    const fromIp = from?.address.replace(/^::ffff:/, '');
    if (!inbound && outbound && fromIp !== undefined && fromIp !== relayed.address) {
      // The relay sends from one address and hands out another: peers aim at an address that is not coturn.
      return finding('DATA-1', {
          ...state.scope,
          status: 'fail',
          severity: 'high',
          cause: 'wrong-external-ip',
          summary: `The relay sends from ${fromIp} but hands out ${relayed.address} as its relayed address, and packets sent there never arrive: coturn's \`external-ip\` is wrong.`,
          evidence: { ...evidence, sendsFrom: fromIp },
        });
    }
    const cause = !inbound && !outbound ? 'both-missing' : !inbound ? 'inbound-missing' : 'outbound-missing';
    const what = {
      'both-missing': 'No relayed data in either direction',
      'inbound-missing': 'Packets sent to the relayed address never reach the client (peer -> relay -> client is missing)',
      'outbound-missing': 'Data the client sends through the relay never reaches the peer (client -> relay -> peer is missing)',
    }[cause];
    return finding('DATA-1', { ...state.scope, status: 'fail', severity: 'high', cause, summary: `${what}.`, evidence });
  } finally {
    peer.close();
  }
}

/** DATA-2: two allocations on this server relay to each other. */
async function relayToRelay(state: TargetState): Promise<Finding | null> {
  const { ctx, client: clientA, allocation: a } = state;
  if (!clientA || !a) return null;
  if (ctx.allocations.size < 2) {
    // Learnt earlier in this run (ALLOC-4, or another target's DATA-2): no second allocation for this user.
    return finding('DATA-2', { ...state.scope, status: 'skip', summary: 'Not run: the server allows this user only one allocation at a time (see ALLOC-4), and relay to relay needs two.', evidence: { reason: 'quota' } });
  }
  let clientB: TurnClient | null = null;
  try {
    const b = await allocateUnderOurLoad(
      state,
      async () => {
        await clientB?.close();
        clientB = await TurnClient.connect(ctx.clientOptions(state.target, true));
        return clientB.allocate();
      },
      { retried: [] },
      1,
    );
    const cb = clientB as unknown as TurnClient;
    try {
      await clientA.createPermission([b.relayed]);
      await cb.createPermission([a.relayed]);
    } catch (e) {
      if (!(e instanceof TurnError)) throw e;
      const denied = e.code === 403;
      return finding('DATA-2', {
          ...state.scope,
          status: 'fail',
          severity: 'medium',
          cause: denied ? 'self-denied' : 'permission-failed',
          summary: denied
            ? `The server denies a permission for its own relay address ${b.relayed.address}: two users both behind TURN cannot talk.`
            : `A permission between two relays failed (${e.kind === 'error-response' ? `error ${e.code}` : e.kind}).`,
          evidence: { code: e.code ?? null, relayA: a.relayed.address, relayB: b.relayed.address },
        });
    }
    const probe = randomBytes(16);
    const ok = await leg(
      () => clientA.send(b.relayed, probe),
      new Promise<void>((resolve) => cb.on('data', (d) => d.equals(probe) && resolve())),
      ctx.deadline.cap(LEG_WAIT_MS),
    );
    return ok
      ? finding('DATA-2', { ...state.scope, status: 'pass', summary: 'Two relays on this server reach each other.', evidence: { relayA: a.relayed.address, relayB: b.relayed.address } })
      : finding('DATA-2', { ...state.scope, status: 'fail', severity: 'medium', cause: 'silent', summary: 'Data from one relay to another on this server never arrives.', evidence: { relayA: a.relayed.address, relayB: b.relayed.address } });
  } catch (e) {
    if (!(e instanceof TurnError)) throw e;
    const quota = e.code === 486 || e.code === 508;
    const why = quota ? `the server allows this user no second allocation while the first is live (error ${e.code}; see ALLOC-4)` : `a second allocation failed (${e.kind === 'error-response' ? `error ${e.code}` : e.kind})`;
    return finding('DATA-2', { ...state.scope, status: 'skip', summary: `Not run: ${why}.`, evidence: { reason: quota ? 'quota' : e.kind, code: e.code ?? null } });
  } finally {
    await (clientB as TurnClient | null)?.close();
  }
}

export const DATA_1 = defineCheck({
  id: 'DATA-1',
  scope: 'uri-family',
  needs: ['ALLOC-1'],
  allocations: 1,
  shared: true,
  applies: (s) => s.isTurn,
  run: relayBothWays,
});

export const DATA_2 = defineCheck({
  id: 'DATA-2',
  scope: 'uri-family',
  needs: ['DATA-1'],
  allocations: 2,
  shared: true,
  applies: (s) => s.isTurn,
  run: relayToRelay,
});
