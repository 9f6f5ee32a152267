// The bench's labs: a healthy coturn on loopback (6 URIs) and an all-dead target.
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { createLab, pickRelayRange, startCoturn, type CoturnLab, type NetLab } from '../../scripts/lab';
import type { CheckOptions, QualityProfile } from '../../src/tester/options';
import { DEFAULT_CHECK_OPTIONS } from '../../src/tester/options';
import { Secret } from '../../src/tester/secret';

export interface Healthy {
  coturn: CoturnLab;
  uris: string[];
  options(quality: QualityProfile): CheckOptions;
  stop(): Promise<void>;
}

/** STUN/UDP, TURN/UDP, TURNS/TLS on IPv4 and IPv6 (IP literals, the lab cert covers them). */
export async function healthyLab(): Promise<Healthy> {
  const coturn = await startCoturn({ tls: true, relayPorts: pickRelayRange(2000) });
  const uris = ['127.0.0.1', '[::1]'].flatMap((h) => [`stun:${h}:${coturn.port}`, `turn:${h}:${coturn.port}?transport=udp`, `turns:${h}:${coturn.tlsPort}?transport=tcp`]);
  return {
    coturn,
    uris,
    options: (quality) => ({
      ...DEFAULT_CHECK_OPTIONS,
      credentials: { kind: 'secret', uris, secret: new Secret(coturn.secret!) },
      allowPrivate: true,
      assumePublic: ['127.0.0.0/8', '::1/128'],
      ca: [coturn.caPem!],
      quality,
    }),
    stop: () => coturn.stop(),
  };
}

export interface Dead {
  how: string;
  uris: string[];
  options(): CheckOptions;
  stop(): Promise<void>;
}

/** Every packet dropped: a namespace with DROP all (root), else silent loopback sockets. */
export async function deadLab(): Promise<Dead> {
  const uriSet = (h4: string, h6: string, p: number) =>
    [h4, h6].flatMap((h) => [`stun:${h}:${p}`, `turn:${h}:${p}?transport=udp`, `turns:${h}:${p + 1}?transport=tcp`]);
  const opts = (uris: string[]) => (): CheckOptions => ({
    ...DEFAULT_CHECK_OPTIONS,
    credentials: { kind: 'secret', uris, secret: new Secret('bench-dead') },
    allowPrivate: true,
    quality: 'off',
  });
  if (process.getuid?.() === 0) {
    let lab: NetLab | undefined;
    try {
      lab = await createLab({ hosts: ['dead'] });
      await lab.drop('dead', { proto: 'all', direction: 'in' });
      const h = lab.host('dead');
      const uris = uriSet(h.v4, `[${h.v6}]`, 3478);
      const l = lab;
      return { how: 'network namespace, iptables DROP on every packet', uris, options: opts(uris), stop: () => l.destroy() };
    } catch {
      await lab?.destroy();
    }
  }
  // Fallback: sockets that read and never answer (no ICMP unreachable, no TCP RST).
  const socks: Socket[] = [];
  const servers: Server[] = [];
  const u4 = createSocket('udp4');
  await new Promise<void>((r) => u4.bind(0, '127.0.0.1', () => r()));
  const p = u4.address().port;
  socks.push(u4);
  const u6 = createSocket({ type: 'udp6', ipv6Only: true });
  await new Promise<void>((r) => u6.bind(p, '::1', () => r()));
  socks.push(u6);
  for (const host of ['127.0.0.1', '::1']) {
    const s = createServer((c) => c.on('error', () => undefined)); // accepts, never speaks TLS
    await new Promise<void>((r) => s.listen(p + 1, host, () => r()));
    servers.push(s);
  }
  const uris = uriSet('127.0.0.1', '[::1]', p);
  return {
    how: 'loopback sockets that never answer',
    uris,
    options: opts(uris),
    stop: async () => {
      socks.forEach((s) => s.close());
      servers.forEach((s) => s.close());
    },
  };
}
