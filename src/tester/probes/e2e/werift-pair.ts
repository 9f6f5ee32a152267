// Two werift peers in this process, both relay-only through the TURN server
// under test, open a data channel and exchange a greeting.
//
// Safety: werift's default iceServers is a public STUN server. We always pass
// our own list, and werift skips host/srflx gathering (the only place it would
// use a STUN server) when policy is "relay" and the TURN username and password
// are non-empty — which runE2E guarantees. As a second net, the list's stun:
// entry points at the server under test, never anywhere else.
import { randomBytes } from 'node:crypto';
import { RTCPeerConnection } from 'werift';
import type { Transport } from '../../types';
import { type AllocationEvent, bounded, closeGuarded, newGuardContext, runGuarded, selected, weriftConfig } from '../../../webrtc/werift';
import { GREETING_PREFIX, type PairInput, type PairOutcome } from './outcome';

const CLOSE_DEADLINE_MS = 1500;

/** All three transports, both families (UDP over IPv6 through the guard's udp6 swap). */
export function weriftSupports(_transport: Transport, _address: string): boolean {
  return true;
}

export async function runWeriftPair(input: PairInput): Promise<PairOutcome> {
  const t0 = Date.now();
  let settle!: (o: PairOutcome) => void;
  const done = new Promise<PairOutcome>((r) => (settle = r));
  let finished = false;
  const finish = (o: PairOutcome) => {
    if (finished) return;
    finished = true;
    ctx.closed = true; // refuse werift's late UDP->TCP fallback at once
    settle(o);
  };
  const fail = (cause: Extract<PairOutcome, { ok: false }>['cause'], detail: Record<string, unknown> = {}) =>
    finish({ ok: false, cause, elapsedMs: Date.now() - t0, detail: { ...detail, ...progress() } });

  const ctx = newGuardContext((e: AllocationEvent) => {
    if (!e.ok) fail('no-relay-candidate', { allocation: e });
    else if (e.transport !== input.transport) fail('wrong-transport', { allocation: e }); // werift's silent fallback
  });
  ctx.udp6 = input.transport === 'udp' && input.address.includes(':');
  ctx.sameProcessDtls = true; // both peers are ours: no blind 100 ms before the DTLS hello

  const peers: RTCPeerConnection[] = [];
  const progress = () => ({
    allocations: ctx.allocations.map((a) => ({ transport: a.transport, ok: a.ok, kind: a.kind, errorCode: a.errorCode, socketError: a.socketError })),
    iceStates: peers.map((p) => p.iceConnectionState),
    ...(ctx.mismatchRetries ? { mismatchRetries: ctx.mismatchRetries } : {}),
  });
  const timer = setTimeout(() => fail('timeout', { deadlineMs: input.deadlineMs }), input.deadlineMs);

  const run = async () => {
    const config = weriftConfig(input);
    const a = new RTCPeerConnection(config);
    const b = new RTCPeerConnection(config);
    peers.push(a, b);
    const trickle = (from: RTCPeerConnection, to: RTCPeerConnection) => {
      from.onicecandidate = (ev) => {
        if (ev.candidate && !finished) to.addIceCandidate(ev.candidate).catch(() => undefined);
      };
    };
    trickle(a, b);
    trickle(b, a);
    for (const p of peers) {
      p.connectionStateChange.subscribe((s: string) => {
        if (s === 'failed') fail('ice-failed');
      });
    }
    b.ondatachannel = (ev) => {
      const ch = ev.channel;
      ch.onmessage = (m) => {
        if (!finished) ch.send(String(m.data));
      };
    };
    const greeting = GREETING_PREFIX + randomBytes(6).toString('hex');
    const dc = a.createDataChannel('mx-voiptest');
    let openedAt = 0;
    dc.onopen = () => {
      openedAt = Date.now();
      dc.send(greeting);
    };
    dc.onmessage = (m) => {
      if (String(m.data) !== greeting) return fail('no-echo', { received: String(m.data).slice(0, 64) });
      const now = Date.now();
      const pa = selected(a);
      const pb = selected(b);
      if (!pa) return fail('engine-error', { reason: 'no selected pair after open' });
      const remote = { ...pa.remote, relayProtocol: pb?.local.relayProtocol ?? pa.remote.relayProtocol };
      finish({
        ok: true,
        connectMs: openedAt - t0,
        rttMs: now - openedAt,
        local: pa.local,
        remote,
        turnTransport: pa.local.relayProtocol,
        detail: { iceRttMs: pa.iceRttMs, ...progress() },
      });
    };
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription!);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription!);
  };

  runGuarded(ctx, run).catch((err) => fail('engine-error', { error: (err as Error)?.name ?? 'Error' }));
  try {
    return await done;
  } finally {
    clearTimeout(timer);
    await Promise.allSettled(peers.map((p) => bounded(p.close(), CLOSE_DEADLINE_MS)));
    await bounded(closeGuarded(ctx), CLOSE_DEADLINE_MS);
  }
}
