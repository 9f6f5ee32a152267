// DATA-3: ChannelData framing over stream transports (TCP/TLS). A channel is
// bound to a UDP socket of the tester; two odd-length ChannelData messages go
// each way back to back, so a server or proxy that gets the 4-byte padding of
// RFC 8656 section 12.5 wrong corrupts or loses the second one.
import { randomBytes } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { TurnError } from '../turn';
import type { Finding } from '../types';
import { defineCheck } from './check';
import type { TargetState } from './context';
import { finding, fmt } from './finding';
import { PeerSocket } from './relayed-data';

const CHANNEL = 0x4e01;
/** Odd lengths on purpose: each needs padding on a stream. */
const SIZES = [37, 101];
const WAIT_MS = 1500;
const RESEND_MS = 250;

/** Wait until every payload arrived (in any order), resending the missing ones. */
async function exchange(send: (p: Buffer) => void, payloads: Buffer[], subscribe: (on: (d: Buffer) => void) => () => void, waitMs: number): Promise<{ intact: number; damaged: number }> {
  const got = new Set<number>();
  let damaged = 0;
  const unsubscribe = subscribe((d) => {
    const i = payloads.findIndex((p) => p.equals(d));
    if (i >= 0) got.add(i);
    else if (payloads.some((p) => p.length === d.length || d.subarray(0, 8).equals(p.subarray(0, 8)))) damaged++;
  });
  const sendMissing = () => payloads.forEach((p, i) => !got.has(i) && send(p));
  sendMissing();
  const resend = setInterval(sendMissing, RESEND_MS);
  const t0 = performance.now();
  try {
    while (got.size < payloads.length && performance.now() - t0 < waitMs) await new Promise((r) => setTimeout(r, 20));
  } finally {
    clearInterval(resend);
    unsubscribe();
  }
  return { intact: got.size, damaged };
}

async function channelData(state: TargetState): Promise<Finding | null> {
  const { ctx, client, allocation: a } = state;
  if (!client || !a) return null;
  if (state.target.uri.transport === 'udp') {
    return finding('DATA-3', { ...state.scope, status: 'skip', summary: 'ChannelData framing is checked on TCP/TLS only (UDP datagrams need no framing).', evidence: { reason: 'udp' } });
  }
  const relayed = a.relayed;
  if (!ctx.maySendTo(relayed.address)) {
    return finding('DATA-3', { ...state.scope, status: 'skip', summary: `Not sending data to the relayed address ${relayed.address} (not public; --allow-private permits it in a lab).`, evidence: { reason: 'guard' } });
  }
  const ours = await ctx.ownAddressFor(relayed, a.mapped);
  if (!ours) {
    return finding('DATA-3', { ...state.scope, status: 'skip', summary: 'The tester has no address in the relay family to bind a channel to.', evidence: { reason: 'no-own-address' } });
  }
  const peer = await PeerSocket.open(relayed.family);
  try {
    try {
      await client.channelBind(CHANNEL, { address: ours, port: peer.port });
    } catch (e) {
      if (!(e instanceof TurnError)) throw e;
      return finding('DATA-3', {
          ...state.scope,
          status: 'fail',
          severity: 'medium',
          cause: 'bind-failed',
          summary: `ChannelBind to the tester's own address failed (${e.kind === 'error-response' ? `error ${e.code}` : e.kind}).`,
          evidence: { code: e.code ?? null, error: e.kind },
        });
    }
    const inPayloads = SIZES.map((n) => randomBytes(n));
    const inbound = await exchange(
      (p) => peer.socket.send(p, relayed.port, relayed.address),
      inPayloads,
      (on) => {
        const h = (d: Buffer, _from: unknown, channel: number | null) => channel === CHANNEL && on(d);
        client.on('data', h);
        return () => client.off('data', h);
      },
      ctx.deadline.cap(WAIT_MS),
    );
    const outPayloads = SIZES.map((n) => randomBytes(n));
    let wrongSource = false;
    const outbound = await exchange(
      (p) => client.sendChannel(CHANNEL, p),
      outPayloads,
      (on) => {
        const h = (d: Buffer, r: RemoteInfo) => {
          if (r.port !== relayed.port || r.address.replace(/^::ffff:/, '') !== relayed.address) wrongSource = true;
          on(d);
        };
        peer.socket.on('message', h);
        return () => peer.socket.off('message', h);
      },
      ctx.deadline.cap(WAIT_MS),
    );
    const evidence = {
      transport: state.target.uri.transport,
      sizes: SIZES,
      inbound: `${inbound.intact}/${SIZES.length}`,
      outbound: `${outbound.intact}/${SIZES.length}`,
      damaged: inbound.damaged + outbound.damaged,
      relayedAddress: fmt(relayed.address, relayed.port),
    };
    const all = inbound.intact === SIZES.length && outbound.intact === SIZES.length;
    if (all && !wrongSource) {
      return finding('DATA-3', { ...state.scope, status: 'pass', summary: `Odd-length ChannelData over ${state.target.uri.transport.toUpperCase()} arrives intact both ways.`, evidence });
    }
    const corrupted = evidence.damaged > 0 || (inbound.intact + outbound.intact > 0 && !all);
    return finding('DATA-3', {
        ...state.scope,
        status: 'fail',
        severity: 'medium',
        cause: corrupted ? 'corrupted' : 'lost',
        summary: corrupted
          ? `ChannelData over ${state.target.uri.transport.toUpperCase()} arrives damaged or incomplete (in ${evidence.inbound}, out ${evidence.outbound}, ${evidence.damaged} damaged).`
          : `ChannelData over ${state.target.uri.transport.toUpperCase()} never arrives (in ${evidence.inbound}, out ${evidence.outbound}) although Send/Data works.`,
        evidence,
      });
  } finally {
    peer.close();
  }
}

export const DATA_3 = defineCheck({
  id: 'DATA-3',
  scope: 'uri-family',
  needs: ['DATA-1'],
  allocations: 1,
  shared: true,
  applies: (s) => s.isTurn,
  run: channelData,
});
