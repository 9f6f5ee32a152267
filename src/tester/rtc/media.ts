// RTC-7 and RTC-8 with LiveKit's own client SDK for Node (@livekit/rtc-node):
// a real participant per ICE path (default ICE for UDP/TCP, relay-only for
// the TURN path), the selected candidate pair read from its stats, then two
// participants exchanging audio and data both ways. One participant at a
// time for RTC-7, two for RTC-8; every one disconnects at the end.
import { classifyAddress } from '../guard';
import type { Finding, RtcPath } from '../types';
import { rtcFinding, tcpProbe, type RtcContext } from './context';
import type { JoinInfo, SfuCandidate } from './signalling';

type RtcNode = typeof import('@livekit/rtc-node');
let loaded: Promise<RtcNode> | null = null;

/** Load the native SDK once; NODE_ENV=production keeps it from printing debug lines to stdout. */
export function rtcNode(): Promise<RtcNode> {
  if (!loaded) {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    loaded = import('@livekit/rtc-node').finally(() => {
      if (before === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = before;
    });
  }
  return loaded;
}

/** Shut the SDK's native side down (the CLI at exit; a long-running bot keeps it). */
export async function disposeRtcMedia(): Promise<void> {
  if (!loaded) return;
  const m = await loaded;
  await m.dispose();
  loaded = null;
}

export interface SelectedPair {
  protocol: string;
  localType: string;
  remoteType: string;
  remoteAddress: string;
  remotePort: number;
  relayProtocol: string | null;
  rttMs: number | null;
}

type Stat = Record<string, any>;

/** getRtcStats() answers protobuf messages: their JSON form is the plain shape read below. */
export function plainStats(raw: unknown): { publisherStats?: Stat[]; subscriberStats?: Stat[] } {
  return JSON.parse(JSON.stringify(raw, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))) as { publisherStats?: Stat[]; subscriberStats?: Stat[] };
}

/** The publisher transport's selected candidate pair, from getRtcStats() (plain JSON form). */
export function selectedPair(stats: { publisherStats?: Stat[]; subscriberStats?: Stat[] }): SelectedPair | null {
  for (const list of [stats.publisherStats ?? [], stats.subscriberStats ?? []]) {
    const transport = list.find((s) => s.transport?.transport?.selectedCandidatePairId)?.transport?.transport;
    if (!transport) continue;
    const pair = list.find((s) => s.candidatePair?.rtc?.id === transport.selectedCandidatePairId)?.candidatePair?.candidatePair;
    if (!pair) continue;
    const local = list.find((s) => s.localCandidate?.rtc?.id === pair.localCandidateId)?.localCandidate?.candidate;
    const remote = list.find((s) => s.remoteCandidate?.rtc?.id === pair.remoteCandidateId)?.remoteCandidate?.candidate;
    if (!local || !remote) continue;
    return {
      protocol: String(remote.protocol ?? local.protocol ?? '').toLowerCase(),
      localType: String(local.candidateType ?? '').toLowerCase(),
      remoteType: String(remote.candidateType ?? '').toLowerCase(),
      remoteAddress: String(remote.address ?? ''),
      remotePort: Number(remote.port ?? 0),
      relayProtocol: local.relayProtocol ? String(local.relayProtocol).toLowerCase().replace(/^transport_/, '') : null,
      rttMs: typeof pair.currentRoundTripTime === 'number' && pair.currentRoundTripTime > 0 ? Math.round(pair.currentRoundTripTime * 1000) : typeof pair.totalRoundTripTime === 'number' ? Math.round(pair.totalRoundTripTime * 1000) : null,
    };
  }
  return null;
}

export type TokenSource = (memberId: string) => Promise<{ sfuUrl: string; jwt: string } | null>;

interface Connected {
  room: InstanceType<RtcNode['Room']>;
  pair: SelectedPair | null;
  connectMs: number;
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<T>((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: no result within ${Math.round(ms)} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** ICE servers as LiveKit's join response gave them (relay-only participants get them explicitly). */
export type IceServerList = { urls: string[]; username: string; credential: string }[];

/**
 * One participant. ICE servers are always given explicitly (only the TURN servers RTC-6 found usable):
 * LiveKit's own defaults can be third-party STUN servers that are not the deployment's to probe.
 */
async function join(ctx: RtcContext, tokens: TokenSource, memberId: string, iceServers: IceServerList, relayOnly: boolean): Promise<Connected> {
  const m = await rtcNode();
  const tok = await tokens(memberId);
  if (!tok) throw new Error('no LiveKit token');
  const room = new m.Room();
  const t0 = performance.now();
  try {
    await withTimeout(
      room.connect(tok.sfuUrl, tok.jwt, {
        autoSubscribe: true,
        dynacast: false,
        rtcConfig: {
          iceTransportType: relayOnly ? m.IceTransportType.TRANSPORT_RELAY : m.IceTransportType.TRANSPORT_ALL,
          continualGatheringPolicy: m.ContinualGatheringPolicy.GATHER_ONCE,
          iceServers: iceServers.map((s) => new m.IceServer({ urls: s.urls, username: s.username, password: s.credential })),
        },
      }),
      ctx.cap(relayOnly ? 5000 : 4000),
      'connect',
    );
  } catch (e) {
    await room.disconnect().catch(() => undefined);
    throw e;
  }
  const connectMs = Math.round(performance.now() - t0);
  let pair: SelectedPair | null = null;
  const until = performance.now() + ctx.cap(1500);
  while (!pair && performance.now() < until) {
    pair = selectedPair(plainStats(await room.getRtcStats()));
    if (!pair) await new Promise((r) => setTimeout(r, 50));
  }
  return { room, pair, connectMs };
}


export interface MediaResult {
  findings: Finding[];
  works: Record<RtcPath, boolean>;
  /** TURN over TLS on 443 carried media (the Excellent step). */
  relay443: boolean;
}

/** RTC-7: one participant per path, one after the other. */
export async function checkPaths(ctx: RtcContext, serviceUrl: string, tokens: TokenSource, join_: JoinInfo, iceServers: IceServerList, turnAdvertised = iceServers.length > 0): Promise<MediaResult> {
  const findings: Finding[] = [];
  const works: Record<RtcPath, boolean> = { udp: false, tcp: false, relay: false };
  const f = (path: RtcPath, x: Parameters<typeof rtcFinding>[2]) => findings.push(rtcFinding('RTC-7', serviceUrl, { ...x, path }));
  const all = join_.candidates;
  const candidates = all.filter((c) => !ctx.hiddenBehindPublic(c.address, join_.sfuAddress));
  const evidenceCands = all.map((c) => `${c.protocol} ${c.address}:${c.port}`);
  const relayAvailable = iceServers.length > 0;

  // Default ICE: what a client with open UDP gets. Not tried when every SFU candidate is unreachable from outside.
  let direct: Connected | null = null;
  if (all.length > 0 && candidates.length === 0) {
    const range = classifyAddress(all[0].address).range;
    for (const path of ['udp', 'tcp'] as const) {
      f(path, { status: 'fail', severity: 'high', cause: 'private-candidates', summary: `The SFU offers only candidates clients cannot reach (${evidenceCands.join(', ')}; ${range} addresses behind its public address ${join_.sfuAddress}).`, evidence: { range, candidates: evidenceCands, sfuAddress: join_.sfuAddress } });
    }
  } else {
    try {
      direct = await join(ctx, tokens, 'mxv-path-direct', iceServers, false);
    } catch (e) {
      const msg = (e as Error).message;
      f('udp', { status: 'fail', severity: 'high', cause: 'no-connection', summary: `A participant could not connect over UDP, TCP or the relay: ${msg}.`, evidence: { candidates: evidenceCands, error: msg } });
    } finally {
      await direct?.room.disconnect().catch(() => undefined);
    }
  }
  const pair = direct?.pair ?? null;
  if (direct) {
    const ev = { connectMs: direct.connectMs, selectedPair: pair, candidates: evidenceCands };
    if (pair?.protocol === 'udp' && pair.localType !== 'relay') {
      works.udp = true;
      f('udp', { status: 'pass', summary: `Media path over UDP to ${pair.remoteAddress}:${pair.remotePort} (${pair.remoteType}), connected in ${direct.connectMs} ms.`, evidence: ev });
    } else {
      f('udp', { status: 'fail', severity: 'high', cause: 'udp-blocked', summary: `ICE did not use UDP to the SFU${pair ? ` (it selected ${pair.localType === 'relay' ? 'the TURN relay' : pair.protocol})` : ''}: UDP media to the SFU does not get through.`, evidence: ev });
    }
    if (pair?.protocol === 'tcp' && pair.localType !== 'relay') {
      works.tcp = true;
      f('tcp', { status: 'pass', summary: `Media path over ICE/TCP to ${pair.remoteAddress}:${pair.remotePort}.`, evidence: ev });
    }
  }
  if (!works.tcp && !(all.length > 0 && candidates.length === 0)) {
    const tcp = candidates.filter((c) => c.protocol === 'tcp' && ctx.allowed(c.address) === null);
    if (tcp.length === 0) {
      f('tcp', { status: 'warn', severity: 'medium', cause: 'no-tcp-candidate', summary: 'The SFU offers no ICE/TCP candidate: clients whose UDP is blocked need `rtc.tcp_port`.', evidence: { candidates: evidenceCands } });
    } else {
      const c = tcp[0];
      const r = await tcpProbe(c.address, c.port, ctx.cap(1500));
      if (r === 'open') {
        works.tcp = true;
        f('tcp', { status: 'pass', summary: `LiveKit's ICE/TCP port ${c.address}:${c.port} accepts connections (ICE preferred ${pair?.protocol ?? 'no path'}; the SDK cannot be limited to TCP).`, evidence: { address: c.address, port: c.port, method: 'tcp-connect', candidates: evidenceCands } });
      } else {
        f('tcp', { status: 'fail', severity: 'medium', cause: 'tcp-closed', summary: `LiveKit's ICE/TCP port ${c.address}:${c.port} is ${r === 'refused' ? 'closed (refused)' : 'filtered (no answer)'}.`, evidence: { address: c.address, port: c.port, result: r, candidates: evidenceCands } });
      }
    }
  }

  // Relay-only: LiveKit's TURN as a client behind a strict firewall uses it.
  let relay443 = false;
  if (!relayAvailable && turnAdvertised) {
    f('relay', { status: 'fail', severity: 'medium', cause: 'relay-failed', summary: "No media path through LiveKit's TURN: none of its TURN servers relayed data (see RTC-6 and the TURN checks under them).", evidence: {} });
  } else if (!relayAvailable) {
    f('relay', { status: 'skip', summary: 'not run: LiveKit hands out no TURN server a client can reach (RTC-6)', evidence: {} });
  } else {
    let r: Connected | null = null;
    try {
      r = await join(ctx, tokens, 'mxv-path-relay', iceServers, true);
      const p = r.pair;
      if (p && p.localType === 'relay') {
        works.relay = true;
        f('relay', { status: 'pass', summary: `Media path through LiveKit's TURN (${p.relayProtocol ?? 'udp'}), connected in ${r.connectMs} ms.`, evidence: { connectMs: r.connectMs, selectedPair: p } });
      } else {
        f('relay', { status: 'fail', severity: 'medium', cause: 'relay-failed', summary: 'A relay-only participant connected without a relay pair.', evidence: { selectedPair: p } });
      }
    } catch (e) {
      f('relay', { status: 'fail', severity: 'medium', cause: 'relay-failed', summary: `A relay-only participant could not connect through LiveKit's TURN: ${(e as Error).message}.`, evidence: { error: (e as Error).message } });
    } finally {
      await r?.room.disconnect().catch(() => undefined);
    }
  }
  return { findings, works, relay443 };
}

/** RTC-8: two participants, audio and data both ways. */
export async function checkCall(ctx: RtcContext, serviceUrl: string, tokens: TokenSource, iceServers: IceServerList): Promise<Finding> {
  const m = await rtcNode();
  let a: Connected | null = null;
  let b: Connected | null = null;
  const t0 = performance.now();
  try {
    [a, b] = await Promise.all([join(ctx, tokens, 'mxv-call-a', iceServers, false), join(ctx, tokens, 'mxv-call-b', iceServers, false)]);
    const direction = async (from: Connected, to: Connected, label: string) => {
      const start = performance.now();
      const gotAudio = new Promise<number>((resolve) => {
        to.room.on(m.RoomEvent.TrackSubscribed, (track) => {
          if (track.kind !== m.TrackKind.KIND_AUDIO) return;
          const reader = new m.AudioStream(track, 48000, 1).getReader();
          void reader.read().then(() => {
            resolve(performance.now() - start);
            void reader.cancel().catch(() => undefined);
          });
        });
      });
      const gotData = new Promise<number>((resolve) => {
        to.room.on(m.RoomEvent.DataReceived, (payload) => {
          if (Buffer.from(payload).toString() === `mxv-${label}`) resolve(performance.now() - start);
        });
      });
      const source = new m.AudioSource(48000, 1);
      const track = m.LocalAudioTrack.createAudioTrack(`mxv-${label}`, source);
      await from.room.localParticipant!.publishTrack(track, new m.TrackPublishOptions({ source: m.TrackSource.SOURCE_MICROPHONE }));
      let pumping = true;
      const pump = (async () => {
        const samples = new Int16Array(480);
        for (let i = 0; i < samples.length; i++) samples[i] = Math.round(3000 * Math.sin((2 * Math.PI * 440 * i) / 48000));
        while (pumping) await source.captureFrame(new m.AudioFrame(samples, 48000, 1, 480));
      })();
      const sendData = setInterval(() => void from.room.localParticipant!.publishData(Buffer.from(`mxv-${label}`), { reliable: true }).catch(() => undefined), 100);
      try {
        const limit = ctx.cap(4000);
        const [audioMs, dataMs] = await Promise.all([
          withTimeout(gotAudio, limit, `audio ${label}`).catch(() => null),
          withTimeout(gotData, limit, `data ${label}`).catch(() => null),
        ]);
        return { audioMs: audioMs === null ? null : Math.round(audioMs), dataMs: dataMs === null ? null : Math.round(dataMs) };
      } finally {
        pumping = false;
        clearInterval(sendData);
        await pump.catch(() => undefined);
        await source.close().catch(() => undefined);
      }
    };
    const [ab, ba] = await Promise.all([direction(a, b, 'a-to-b'), direction(b, a, 'b-to-a')]);
    const statsA = selectedPair(plainStats(await a.room.getRtcStats()));
    const evidence = { aToB: ab, bToA: ba, rttMs: statsA?.rttMs ?? null, totalMs: Math.round(performance.now() - t0) };
    const okAB = ab.audioMs !== null && ab.dataMs !== null;
    const okBA = ba.audioMs !== null && ba.dataMs !== null;
    if (okAB && okBA) return rtcFinding('RTC-8', serviceUrl, { status: 'pass', summary: `A call carries audio and data both ways (first audio ${ab.audioMs} / ${ba.audioMs} ms${statsA?.rttMs != null ? `, RTT ${statsA.rttMs} ms` : ''}).`, evidence });
    const missing = [!okAB ? 'A to B' : null, !okBA ? 'B to A' : null].filter(Boolean).join(' and ');
    return rtcFinding('RTC-8', serviceUrl, { status: 'fail', severity: 'high', cause: okAB || okBA ? 'one-way' : 'no-media', summary: `Media did not arrive ${missing}.`, evidence });
  } catch (e) {
    return rtcFinding('RTC-8', serviceUrl, { status: 'fail', severity: 'high', cause: 'no-media', summary: `Two participants could not join the call: ${(e as Error).message}.`, evidence: { error: (e as Error).message } });
  } finally {
    await Promise.all([a?.room.disconnect().catch(() => undefined), b?.room.disconnect().catch(() => undefined)]);
  }
}
