// A counting UDP echo peer: the one instrument that times relayed packets for
// both our client and turnutils_uclient (same code, same clock).
import { createSocket, type Socket } from 'node:dgram';

export interface CountingPeer {
  port: number;
  /** Arrival times (performance.now) of every packet since reset(). */
  arrivals(): Float64Array;
  reset(): void;
  close(): void;
}

export async function startPeer(host = '127.0.0.1', capacity = 1_000_000): Promise<CountingPeer> {
  const s: Socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
  let times = new Float64Array(capacity);
  let n = 0;
  s.on('message', (m, r) => {
    if (n < times.length) times[n++] = performance.now();
    s.send(m, r.port, r.address);
  });
  s.on('error', () => undefined);
  await new Promise<void>((r) => s.bind(0, host, () => r()));
  return {
    port: s.address().port,
    arrivals: () => times.subarray(0, n),
    reset() {
      times = new Float64Array(capacity);
      n = 0;
    },
    close() {
      s.close();
    },
  };
}

/** Steady-state rate (packets/s) from arrival times: the middle 80 %, so start-up and tail do not count. */
export function steadyRate(t: Float64Array): number {
  if (t.length < 20) return 0;
  const a = Math.floor(t.length * 0.1);
  const b = Math.floor(t.length * 0.9);
  return (b - a) / ((t[b]! - t[a]!) / 1000);
}
