// A userspace network in front of coturn (netem is not in this kernel): UDP and
// TCP forwarders (TLS passes through TCP untouched) that hold every packet or
// chunk for half the round-trip time in each direction, and count the
// request/response turns of each flow (5-tuple): a turn is the client speaking
// after it heard the server (or first), i.e. one sequential round trip.
//
// With `bytesPerSecond` it is also a trickle: each direction of each flow is
// paced to that rate (TCP in 16-byte pieces), nothing dropped, only late.
//
// The kernel answers a TCP SYN before we see the connection, so the handshake
// round trip is emulated instead: the client's first flight is released no
// earlier than accept + 1.5 RTT, where it would arrive on a real path.
import { createSocket, type Socket } from 'node:dgram';
import { createConnection, createServer, type Server, type Socket as TcpSocket } from 'node:net';

export interface Flow {
  /** The listener this flow came through (one per URI in the bench). */
  listener: string;
  proto: 'udp' | 'tcp';
  client: string;
  /** Sequential round trips: client sends after having heard the server (the first send counts). TCP connect counts 1. */
  turns: number;
  c2s: number;
  s2c: number;
  firstAt: number;
  lastAt: number;
  /** UDP: what opened each turn (STUN method/class, or ChannelData), with its time (ms since firstAt). */
  trace: string[];
}

const METHODS: Record<number, string> = { 0x001: 'Binding', 0x003: 'Allocate', 0x004: 'Refresh', 0x006: 'Send', 0x008: 'CreatePermission', 0x009: 'ChannelBind' };

/** A short name for a datagram: STUN method (+ "ind" for indications) or ChannelData. */
export function describeDatagram(m: Buffer): string {
  if (m.length >= 4 && m[0]! >= 0x40 && m[0]! <= 0x7f) return 'ChannelData';
  if (m.length < 20) return 'other';
  const t = m.readUInt16BE(0);
  const method = (t & 0x000f) | ((t & 0x00e0) >> 1) | ((t & 0x3e00) >> 2);
  const cls = ((t & 0x0010) >> 4) | ((t & 0x0100) >> 7);
  return `${METHODS[method] ?? `0x${method.toString(16)}`}${cls === 1 ? ' ind' : cls === 0 ? '' : ' resp'}`;
}

export interface DelayProxy {
  /** Local port of a listener by name. */
  port(name: string): number;
  flows(): Flow[];
  reset(): void;
  close(): Promise<void>;
}

export interface ListenerSpec {
  name: string;
  proto: 'udp' | 'tcp';
  host: string; // listen address, also the upstream address (same family)
  target: number; // upstream port
}

function newFlow(listener: string, proto: 'udp' | 'tcp', client: string): Flow & { heard: boolean } {
  const now = performance.now();
  return { listener, proto, client, turns: 0, c2s: 0, s2c: 0, firstAt: now, lastAt: now, trace: [], heard: true };
}

function c2s(f: Flow & { heard: boolean }, what?: string): void {
  if (f.heard) {
    f.turns++;
    if (what) f.trace.push(`${what}@${Math.round(performance.now() - f.firstAt)}`);
  }
  f.heard = false;
  f.c2s++;
  f.lastAt = performance.now();
}

function s2c(f: Flow & { heard: boolean }): void {
  f.heard = true;
  f.s2c++;
  f.lastAt = performance.now();
}

/** One direction of one flow: a FIFO of pieces, each with the time it may leave. */
interface Lane { queue: { at: number; b: Buffer; send: (b: Buffer) => void }[]; freeAt: number; timer: NodeJS.Timeout | null }
const lane = (): Lane => ({ queue: [], freeAt: 0, timer: null });

export async function startDelayProxy(rttMs: number, listeners: ListenerSpec[], opts: { bytesPerSecond?: number } = {}): Promise<DelayProxy> {
  const half = rttMs / 2;
  const bps = opts.bytesPerSecond;
  let flows: (Flow & { heard: boolean })[] = [];
  const ports = new Map<string, number>();
  const udpSockets: Socket[] = [];
  const servers: Server[] = [];
  const tcpSockets = new Set<TcpSocket>();
  const lanes = new Set<Lane>();
  const udpFlowMaps: Map<string, unknown>[] = [];
  // One timer per lane, FIFO: nothing is reordered, whatever the delays.
  const pump = (l: Lane) => {
    l.timer = null;
    const now = performance.now();
    while (l.queue.length > 0 && l.queue[0]!.at <= now + 0.5) {
      const p = l.queue.shift()!;
      p.send(p.b);
    }
    if (l.queue.length > 0) l.timer = setTimeout(() => pump(l), l.queue[0]!.at - now);
  };
  /** Deliver `data` through lane `l` no earlier than `notBefore` (performance.now ms), paced when throttled. */
  const pass = (l: Lane, data: Buffer, notBefore: number, send: (b: Buffer) => void, piece = data.length) => {
    lanes.add(l);
    for (let i = 0; i < data.length; i += Math.max(1, piece)) {
      const b = data.subarray(i, i + piece);
      const at = Math.max(notBefore, l.freeAt) + (bps ? (1000 * b.length) / bps : 0);
      l.freeAt = at;
      l.queue.push({ at, b, send });
    }
    if (!l.timer) pump(l);
  };
  /** Run `f` once everything queued on lane `l` (and at least `minMs` from now) has gone. */
  const after = (l: Lane, minMs: number, f: () => void) => pass(l, Buffer.alloc(1), performance.now() + minMs, () => f(), 1);

  for (const l of listeners) {
    const type = l.host.includes(':') ? 'udp6' : 'udp4';
    if (l.proto === 'udp') {
      const front = createSocket({ type, ipv6Only: type === 'udp6' } as Parameters<typeof createSocket>[0]);
      const backs = new Map<string, { sock: Socket; flow: Flow & { heard: boolean }; up: Lane }>();
      udpFlowMaps.push(backs);
      front.on('error', () => undefined);
      front.on('message', (m, r) => {
        const key = `${r.address}:${r.port}`;
        let b = backs.get(key);
        if (!b) {
          const sock = createSocket({ type, ipv6Only: type === 'udp6' } as Parameters<typeof createSocket>[0]);
          const flow = newFlow(l.name, 'udp', key);
          flows.push(flow);
          const down = lane();
          sock.on('error', () => undefined);
          sock.on('message', (reply) => {
            s2c(flow);
            pass(down, reply, performance.now() + half, (d) => front.send(d, r.port, r.address, () => undefined));
          });
          sock.bind(0, l.host);
          udpSockets.push(sock);
          b = { sock, flow, up: lane() };
          backs.set(key, b);
        }
        const bb = b;
        c2s(bb.flow, describeDatagram(m));
        pass(bb.up, m, performance.now() + half, (d) => bb.sock.send(d, l.target, l.host, () => undefined));
      });
      await new Promise<void>((res) => front.bind(0, l.host, () => res()));
      udpSockets.push(front);
      ports.set(l.name, front.address().port);
    } else {
      const server = createServer((client) => {
        tcpSockets.add(client);
        client.on('close', () => tcpSockets.delete(client));
        const flow = newFlow(l.name, 'tcp', `${client.remoteAddress}:${client.remotePort}`);
        flow.turns = 1; // the TCP handshake
        flows.push(flow);
        const firstFlight = performance.now() + 1.5 * rttMs;
        const up = createConnection({ host: l.host, port: l.target });
        tcpSockets.add(up);
        up.on('close', () => tcpSockets.delete(up));
        client.pause(); // until upstream is connected
        up.on('connect', () => client.resume());
        const upLane = lane();
        const downLane = lane();
        const PIECE = 16;
        client.on('data', (d) => {
          c2s(flow);
          pass(upLane, d, Math.max(performance.now() + half, firstFlight), (b) => up.write(b), bps ? PIECE : d.length);
        });
        up.on('data', (d) => {
          s2c(flow);
          pass(downLane, d, performance.now() + half, (b) => client.write(b), bps ? PIECE : d.length);
        });
        // An end follows the data queued before it.
        client.on('end', () => after(upLane, Math.max(half, firstFlight - performance.now()), () => up.end()));
        up.on('end', () => after(downLane, half, () => client.end()));
        const kill = () => {
          client.destroy();
          up.destroy();
        };
        client.on('error', kill);
        up.on('error', kill);
        client.on('close', () => after(upLane, half, () => up.destroy()));
        up.on('close', () => after(downLane, half, () => client.destroy()));
      });
      await new Promise<void>((res) => server.listen(0, l.host, () => res()));
      servers.push(server);
      ports.set(l.name, (server.address() as { port: number }).port);
    }
  }
  return {
    port(name) {
      const p = ports.get(name);
      if (p === undefined) throw new Error(`no listener ${name}`);
      return p;
    },
    flows: () => flows.map(({ heard: _h, ...f }) => f),
    reset() {
      // New flows from here on (old upstream sockets stay open until close(): their ports are not reused).
      flows = [];
      for (const m of udpFlowMaps) m.clear();
    },
    async close() {
      for (const l of lanes) {
        if (l.timer) clearTimeout(l.timer);
        l.queue = [];
      }
      lanes.clear();
      for (const s of tcpSockets) s.destroy();
      for (const s of udpSockets) s.close();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
