// The full 6-URI report over a real-looking network: the healthy lab's coturn
// behind the delay proxy (one listener per URI, so every flow is attributed to
// its URI), and per URI the request/response turns that crossed the path
// against the protocol minimum of that URI's gate chain.
import type { Healthy } from './lab';
import { startDelayProxy, type Flow } from './delay-proxy';
import { runCheck } from '../../src/tester/engine';
import { Secret } from '../../src/tester/secret';

/**
 * Protocol minimum of sequential round trips per URI kind: each gate waits for
 * the one before; independent requests inside a step go out together.
 *   stun/udp  Binding 1
 *   turn/udp  Binding 1, Allocate 401 + authenticated 2, ACL permissions together 1,
 *             DATA-1 permission + echo 2, DATA-2 second Allocate (nonce known) 1 + permission 1 + echo 1,
 *             DATA-3 ChannelBind + echo 2, Refresh 0 1                                  = 12
 *   E2E-1     two Allocates together (401 + auth) 2, ChannelBind 1, ICE check 1,
 *             DTLS 1.2 with cookie 3, SCTP 2, data channel echo 1, Refresh 1           = 11
 *   turns/tls + TCP 1 + TLS 1.3 1 on the main chain and on E2E-1's connection           = +2 each
 */
export const MINIMUM_TURNS = {
  stun: { chain: 1, e2e: 0 },
  turnUdp: { chain: 12, e2e: 11 },
  turnsTls: { chain: 14, e2e: 13 },
} as const;

const kindOf = (uri: string): keyof typeof MINIMUM_TURNS => (uri.startsWith('stun:') ? 'stun' : uri.startsWith('turns:') ? 'turnsTls' : 'turnUdp');

export async function reportOverRtt(h: Healthy, rttMs: number, runs = 2): Promise<Record<string, unknown>> {
  const hosts = ['127.0.0.1', '::1'];
  const proxy = await startDelayProxy(
    rttMs,
    hosts.flatMap((host) => [
      { name: `stun ${host}`, proto: 'udp' as const, host, target: h.coturn.port },
      { name: `turn ${host}`, proto: 'udp' as const, host, target: h.coturn.port },
      { name: `turns ${host}`, proto: 'tcp' as const, host, target: h.coturn.tlsPort },
    ]),
  );
  try {
    const lit = (host: string) => (host.includes(':') ? `[${host}]` : host);
    const byUri = new Map<string, string>(); // uri -> listener
    for (const host of hosts) {
      byUri.set(`stun:${lit(host)}:${proxy.port(`stun ${host}`)}`, `stun ${host}`);
      byUri.set(`turn:${lit(host)}:${proxy.port(`turn ${host}`)}?transport=udp`, `turn ${host}`);
      byUri.set(`turns:${lit(host)}:${proxy.port(`turns ${host}`)}?transport=tcp`, `turns ${host}`);
    }
    const uris = [...byUri.keys()];
    const options = { ...h.options('off'), credentials: { kind: 'secret' as const, uris, secret: new Secret(h.coturn.secret!) } };
    await runCheck(options); // warm-up over the same path
    const wall: number[] = [];
    let flows: Flow[] = [];
    let grade = '';
    for (let i = 0; i < runs; i++) {
      proxy.reset();
      const t0 = performance.now();
      const r = await runCheck(options);
      wall.push(Math.round(performance.now() - t0));
      grade = r.grade.overall;
      // Flow times relative to this run's start.
      flows = proxy.flows().map((f) => ({ ...f, firstAt: f.firstAt - t0, lastAt: f.lastAt - t0 }));
    }
    const perUri = uris.map((uri) => {
      const mine = flows.filter((f) => f.listener === byUri.get(uri));
      const min = MINIMUM_TURNS[kindOf(uri)];
      const turns = mine.reduce((a, f) => a + f.turns, 0);
      const minimum = min.chain + min.e2e;
      return {
        uri: uri.replace(/:\d+(\?|$)/, ':PORT$1'),
        turns,
        minimum,
        ratio: +(turns / minimum).toFixed(2),
        flows: mine.length,
        // Each flow: turns, first..last packet (ms into the run), and for UDP what opened each turn.
        detail: mine.map((f) => `${f.turns} turns ${Math.round(f.firstAt)}-${Math.round(f.lastAt)} ms${f.trace.length ? `: ${f.trace.join(', ')}` : ''}`),
      };
    });
    const sorted = [...wall].sort((a, b) => a - b);
    const medianMs = sorted[Math.floor(sorted.length / 2)]!;
    // The URIs are independent: a report could take as long as its longest URI chain.
    const longest = Math.max(...Object.values(MINIMUM_TURNS).map((m) => m.chain + m.e2e));
    return {
      rttMs,
      how: 'userspace UDP/TCP proxy (bench/lib/delay-proxy.ts) holding each packet/chunk RTT/2 per direction, one listener per URI; turns = the client speaking after it heard the server, counted per 5-tuple',
      uris: uris.length,
      quality: 'off',
      runs: wall,
      medianMs,
      grade,
      roundTripsEquivalent: +(medianMs / rttMs).toFixed(1),
      minimumReportRoundTrips: longest,
      perUri,
    };
  } finally {
    await proxy.close();
  }
}
