// One QUAL-1 measurement window: paced ChannelData from the client through the
// relay to a tester-owned peer socket, which echoes every packet back through
// the relay. Both ends live in this process, so one clock times all four
// points (client send, peer arrival = echo, client arrival) and one-way delay,
// loss, jitter and reordering are measured per direction:
//   up   = client -> relay -> peer
//   down = peer -> relay -> client
import { randomBytes } from 'node:crypto';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { TransportAddress } from '../stun';
import type { DataListener, TurnClient } from '../turn';
import type { PacingProfile } from './profile';
import { DirectionStats, lossPct, percentile, round } from './stats';

export interface QualityPath {
  client: TurnClient;
  /** The channel already bound to the peer's address (as the relay sees it). */
  channel: number;
  relayed: TransportAddress;
  /** The tester's peer socket (bound, in the relay's family). */
  peer: Socket;
}

export interface WindowOptions {
  /** Longest wait for stragglers after the last packet (default 1000 ms). */
  maxDrainMs?: number;
  /** Shortest wait for stragglers (default 150 ms). */
  minDrainMs?: number;
}

export interface DirectionSummary {
  received: number;
  lossPct: number;
  oneWayMs: { p50: number; p95: number };
  jitterMs: number;
  reorderedPct: number;
  duplicates: number;
  goodputKbps: number;
}

export interface WindowResult {
  profile: string;
  sent: number;
  /** Packets the peer echoed (= unique packets that reached it). */
  echoed: number;
  rttMs: { p50: number; p95: number };
  up: DirectionSummary;
  down: DirectionSummary;
  windowMs: number;
  /** True when the client closed mid-window (the numbers cover what was sent). */
  aborted: boolean;
}

const HEADER = 8; // token(4) + sequence(4)

export async function runWindow(path: QualityPath, profile: PacingProfile, o: WindowOptions = {}): Promise<WindowResult> {
  const { client, channel, relayed, peer } = path;
  if (profile.size < HEADER) throw new RangeError(`packet size must be at least ${HEADER}`);
  const total = Math.max(1, Math.round((profile.rate * profile.durationMs) / 1000));
  const intervalMs = 1000 / profile.rate;
  const token = randomBytes(4).readUInt32BE(0);
  const tSend = new Float64Array(total);
  const tEcho = new Float64Array(total);
  const up = new DirectionStats(total);
  const down = new DirectionStats(total);
  const rtts: number[] = [];
  const relayIp = relayed.address;
  let echoed = 0;
  let sent = 0;
  let aborted = false;
  let allBack: (() => void) | null = null;

  const onPeer = (msg: Buffer, rinfo: RemoteInfo) => {
    const t = performance.now();
    // Only what the relay forwards counts (not a stray or a direct packet).
    if (rinfo.port !== relayed.port || rinfo.address.replace(/^::ffff:/, '') !== relayIp) return;
    if (msg.length < HEADER || msg.readUInt32BE(0) !== token) return;
    const seq = msg.readUInt32BE(4);
    if (seq >= sent || !up.arrive(seq, tSend[seq]!, t, msg.length)) return;
    tEcho[seq] = t;
    echoed++;
    peer.send(msg, relayed.port, relayed.address);
  };
  const onClient: DataListener = (data, _from, ch) => {
    const t = performance.now();
    if (ch !== channel || data.length < HEADER || data.readUInt32BE(0) !== token) return;
    const seq = data.readUInt32BE(4);
    if (seq >= sent || tEcho[seq] === 0) return;
    if (!down.arrive(seq, tEcho[seq]!, t, data.length)) return;
    rtts.push(t - tSend[seq]!);
    if (down.received === total) allBack?.();
  };
  peer.on('message', onPeer);
  client.on('data', onClient);

  const packet = randomBytes(profile.size);
  packet.writeUInt32BE(token, 0);
  const start = performance.now();
  try {
    await new Promise<void>((resolve) => {
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
        while (sent < due) {
          packet.writeUInt32BE(sent, 4);
          tSend[sent] = performance.now();
          // sent counts first so an echo that races back is recognised.
          sent++;
          if (!client.sendChannel(channel, packet)) {
            sent--;
            aborted = true;
            break;
          }
        }
        if (sent >= total || aborted) {
          clearInterval(timer);
          resolve();
        }
      };
      const timer = setInterval(tick, Math.max(1, Math.min(intervalMs, 10)));
      tick();
    });
    // Wait for stragglers: a few round trips, bounded; stop early when all came back.
    const p95 = rtts.length ? percentile(rtts, 95) : 0;
    const drainMs = Math.min(o.maxDrainMs ?? 1000, Math.max(o.minDrainMs ?? 150, 3 * p95 + 50));
    if (!aborted && down.received < sent) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        allBack = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    peer.off('message', onPeer);
    client.off('data', onClient);
  }
  const windowMs = performance.now() - start;
  const seconds = Math.max(1e-3, (total * intervalMs) / 1000);
  const summary = (d: DirectionStats, of: number): DirectionSummary => ({
    received: d.received,
    lossPct: round(lossPct(of, d.received), 3),
    oneWayMs: { p50: round(percentile(d.delays, 50), 3), p95: round(percentile(d.delays, 95), 3) },
    jitterMs: round(d.jitter.value, 3),
    reorderedPct: round(d.received ? (100 * d.reordered) / d.received : 0, 3),
    duplicates: d.duplicates,
    goodputKbps: round((d.bytes * 8) / 1000 / seconds, 1),
  });
  return {
    profile: profile.name,
    sent,
    echoed,
    rttMs: { p50: round(percentile(rtts, 50), 3), p95: round(percentile(rtts, 95), 3) },
    up: summary(up, sent),
    down: summary(down, echoed),
    windowMs: Math.round(windowMs),
    aborted,
  };
}
