// The second engine: two node-datachannel (libdatachannel + libjuice) peers.
// Only TURN over UDP (libjuice has no TCP/TLS). Caveats measured here: libjuice
// does not delete its allocations on close (they expire on the server after
// their lifetime), gathering "complete" can come before the last candidate, and
// on a single-IP host it does not enforce relay-only (we check the pair).
// So runE2E uses it only when asked for; werift is the default for everything.
import { randomBytes } from 'node:crypto';
import nodeDataChannel, { type PeerConnection } from 'node-datachannel';
import type { Transport } from '../../types';
import { type CandidateInfo, GREETING_PREFIX, type PairInput, type PairOutcome } from './outcome';
import { ndcAcquire, ndcRelease } from './ndc-lifecycle';

/** Grace after gathering "complete" before "no candidate" is final. */
const GATHER_GRACE_MS = 500;

export function ndcSupports(transport: Transport, _address: string): boolean {
  return transport === 'udp';
}

export async function runNdcPair(input: PairInput): Promise<PairOutcome> {
  if (input.transport !== 'udp') return { ok: false, cause: 'unsupported', elapsedMs: 0, detail: { reason: 'libjuice relays over UDP only' } };
  const t0 = Date.now();
  const timers: NodeJS.Timeout[] = [];
  const peers: PeerConnection[] = [];
  const candidates = { a: 0, b: 0 };
  let settle!: (o: PairOutcome) => void;
  const done = new Promise<PairOutcome>((r) => (settle = r));
  let finished = false;
  const finish = (o: PairOutcome) => {
    if (!finished) {
      finished = true;
      settle(o);
    }
  };
  const progress = () => ({ relayCandidates: { ...candidates }, iceStates: peers.map((p) => safe(() => p.iceState(), 'closed')), allocationsDeleted: false });
  const fail = (cause: Extract<PairOutcome, { ok: false }>['cause'], detail: Record<string, unknown> = {}) =>
    finish({ ok: false, cause, elapsedMs: Date.now() - t0, detail: { ...detail, ...progress() } });

  ndcAcquire();
  try {
    const config = {
      // Objects, not URLs: REST usernames contain ':'.
      iceServers: [{ hostname: input.address, port: input.port, username: input.username, password: input.password.reveal(), relayType: 'TurnUdp' as const }],
      iceTransportPolicy: 'relay' as const,
    };
    const a = new nodeDataChannel.PeerConnection('mxv-e2e-a', config);
    const b = new nodeDataChannel.PeerConnection('mxv-e2e-b', config);
    peers.push(a, b);
    a.onLocalDescription((sdp, type) => !finished && b.setRemoteDescription(sdp, type));
    b.onLocalDescription((sdp, type) => !finished && a.setRemoteDescription(sdp, type));
    const trickle = (from: PeerConnection, to: PeerConnection, key: 'a' | 'b') => {
      from.onLocalCandidate((c, mid) => {
        if (/ typ relay /.test(c)) candidates[key] += 1;
        if (!finished) safe(() => to.addRemoteCandidate(c, mid), undefined);
      });
      from.onGatheringStateChange((s) => {
        if (s !== 'complete') return;
        const t = setTimeout(() => {
          if (candidates[key] === 0) fail('no-relay-candidate', { peer: key });
        }, GATHER_GRACE_MS);
        timers.push(t);
      });
      from.onStateChange((s) => {
        if (s === 'failed') fail('ice-failed');
      });
    };
    trickle(a, b, 'a');
    trickle(b, a, 'b');
    b.onDataChannel((ch) => ch.onMessage((m) => !finished && ch.sendMessage(String(m))));
    const greeting = GREETING_PREFIX + randomBytes(6).toString('hex');
    const dc = a.createDataChannel('mx-voiptest');
    let openedAt = 0;
    dc.onOpen(() => {
      openedAt = Date.now();
      dc.sendMessage(greeting);
    });
    dc.onMessage((m) => {
      if (String(m) !== greeting) return fail('no-echo');
      const pa = safe(() => a.getSelectedCandidatePair(), null);
      if (!pa) return fail('engine-error', { reason: 'no selected pair after open' });
      const local = info(pa.local);
      const remote = info(pa.remote);
      finish({
        ok: true,
        connectMs: openedAt - t0,
        rttMs: Date.now() - openedAt,
        local,
        remote,
        turnTransport: local.type === 'relay' ? 'udp' : null,
        detail: { iceRttMs: safe(() => a.rtt(), null), ...progress() },
      });
    });
    timers.push(setTimeout(() => fail('timeout', { deadlineMs: input.deadlineMs }), input.deadlineMs));
    return await done;
  } catch (err) {
    return { ok: false, cause: 'engine-error', elapsedMs: Date.now() - t0, detail: { error: (err as Error)?.name ?? 'Error' } };
  } finally {
    finished = true;
    for (const t of timers) clearTimeout(t);
    for (const p of peers) safe(() => p.close(), undefined);
    ndcRelease();
  }
}

function info(c: { address: string; port: number; type: string; transportType: string }): CandidateInfo {
  return {
    type: String(c.type).toLowerCase(),
    protocol: String(c.transportType).toLowerCase(),
    address: c.address,
    port: c.port,
    relayProtocol: String(c.type).toLowerCase() === 'relay' ? 'udp' : null,
  };
}

function safe<T, D>(fn: () => T, fallback: D): T | D {
  try {
    return fn();
  } catch {
    return fallback;
  }
}
