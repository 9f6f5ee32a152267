// A UDP forwarder in front of coturn that times Allocate on the wire: from a
// session's first Allocate request to its Allocate success response. Both
// clients go through it, so both pay its (small) cost alike, and the number
// covers the server twice (401 challenge + authenticated request) plus the
// client's own turnaround between them.
import { createSocket, type Socket } from 'node:dgram';

export interface AllocProxy {
  port: number;
  /** Allocate latencies (ms) of the sessions seen since reset(). */
  latencies(): number[];
  /** Client turnaround (ms): 401 challenge handed to the client -> its authenticated Allocate arrives. */
  turnarounds(): number[];
  reset(): void;
  close(): void;
}

const ALLOCATE_REQUEST = 0x0003;
const ALLOCATE_SUCCESS = 0x0103;
const ALLOCATE_ERROR = 0x0113;

export async function startAllocProxy(target: number, host = '127.0.0.1'): Promise<AllocProxy> {
  const front = createSocket('udp4');
  const sessions = new Map<string, { back: Socket; first: number; done: boolean; challenged: number; requests: number }>();
  let lat: number[] = [];
  let turn: number[] = [];
  const retired: Socket[] = [];
  front.on('message', (m, r) => {
    const key = `${r.address}:${r.port}`;
    let s = sessions.get(key);
    const isAllocate = m.length >= 20 && m.readUInt16BE(0) === ALLOCATE_REQUEST;
    // A new client on a reused port: a new session. Old upstream sockets stay
    // open until close(), so their ports (coturn deletes allocations ~1 s after
    // Refresh 0) are never handed to a new session (that would be a 437).
    if (s && s.done && isAllocate) {
      retired.push(s.back);
      sessions.delete(key);
      s = undefined;
    }
    if (!s) {
      const back = createSocket('udp4');
      const ss = { back, first: 0, done: false, challenged: 0, requests: 0 };
      back.on('error', () => undefined);
      back.on('message', (reply) => {
        if (!ss.done && ss.first > 0 && reply.length >= 20 && reply.readUInt16BE(0) === ALLOCATE_SUCCESS) {
          ss.done = true;
          lat.push(performance.now() - ss.first);
        }
        const challenge = reply.length >= 20 && reply.readUInt16BE(0) === ALLOCATE_ERROR && ss.challenged === 0;
        front.send(reply, r.port, r.address, () => {
          if (challenge) ss.challenged = performance.now();
        });
      });
      back.bind(0, host);
      s = ss;
      sessions.set(key, s);
    }
    // The clock starts when the first Allocate has left for coturn (send callback),
    // so the proxy's own per-session socket setup is not charged to either client.
    const ss = s;
    const isFirstAllocate = ss.first === 0 && m.length >= 20 && m.readUInt16BE(0) === ALLOCATE_REQUEST;
    if (isFirstAllocate) ss.first = -1;
    if (m.length >= 20 && m.readUInt16BE(0) === ALLOCATE_REQUEST && ++ss.requests === 2 && ss.challenged > 0) turn.push(performance.now() - ss.challenged);
    ss.back.send(m, target, host, () => {
      if (isFirstAllocate) ss.first = performance.now();
    });
  });
  front.on('error', () => undefined);
  await new Promise<void>((r) => front.bind(0, host, () => r()));
  return {
    port: front.address().port,
    latencies: () => lat,
    turnarounds: () => turn,
    reset() {
      lat = [];
      turn = [];
      for (const s of sessions.values()) retired.push(s.back);
      sessions.clear();
    },
    close() {
      for (const s of sessions.values()) s.back.close();
      for (const b of retired) b.close();
      front.close();
    },
  };
}
