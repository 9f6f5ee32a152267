// QUAL-1 accuracy against real coturn: random drops by iptables inside a
// network namespace must be reported within ±1.5 points, and a 50 ms delay
// shim within ±5 ms, in the right direction. Plus QUAL-1 through the engine.
import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { createLab, type NetLab } from '../../scripts/lab/netns';
import { runCheck } from '../../src/tester/engine';
import { PROFILES } from '../../src/tester/quality/profile';
import { DEFAULT_CHECK_OPTIONS } from '../../src/tester/options';
import { PeerSocket } from '../../src/tester/probes/relayed-data';
import type { PacingProfile } from '../../src/tester/quality/profile';
import { runWindow, type WindowResult } from '../../src/tester/quality/session';
import { Secret } from '../../src/tester/secret';
import { TurnClient } from '../../src/tester/turn';

jest.setTimeout(60_000);

function rest(secret: string) {
  const username = `${Math.floor(Date.now() / 1000) + 600}:qual`;
  return { username, password: new Secret(createHmac('sha1', secret).update(username).digest('base64')) };
}

/** Packets needed so that ±1.5 points is `z` standard errors of a binomial loss estimate. */
function packetsFor(p: number, z = 3.5, tolerance = 0.015): number {
  return Math.ceil((z * z * p * (1 - p)) / (tolerance * tolerance));
}

async function measure(host: string, port: number, secret: string, peerIp: string, profile: PacingProfile, via?: number): Promise<WindowResult> {
  const c = await TurnClient.connect({ transport: 'udp', host, port: via ?? port, ...rest(secret) });
  const peer = await PeerSocket.open('ipv4');
  try {
    const a = await c.allocate();
    await c.channelBind(0x4a11, { address: peerIp, port: peer.port });
    const w = await runWindow({ client: c, channel: 0x4a11, relayed: a.relayed, peer: peer.socket }, profile);
    // MXV_QUAL_LOG=1 prints the measured numbers (for the accuracy table in reports).
    if (process.env.MXV_QUAL_LOG) process.stderr.write(`${profile.name}: sent ${w.sent} loss up ${w.up.lossPct} down ${w.down.lossPct} oneWay up ${w.up.oneWayMs.p50} down ${w.down.oneWayMs.p50} rtt ${w.rttMs.p50}\n`);
    return w;
  } finally {
    peer.close();
    await c.close();
  }
}

const isRoot = process.getuid?.() === 0;
(isRoot ? describe : describe.skip)('QUAL-1 loss accuracy (iptables statistic in a namespace)', () => {
  let lab: NetLab | undefined;
  let turn: CoturnLab;
  beforeAll(async () => {
    lab = await createLab({ hosts: ['turn'], ipv6: false });
    turn = await lab.startCoturn('turn');
  });
  afterAll(async () => {
    await turn?.stop();
    await lab?.destroy();
  });

  const run = (p: number) => {
    const n = packetsFor(p);
    return measure(lab!.host('turn').v4, turn.port, turn.secret!, lab!.root!.v4, { name: `loss-${p}`, rate: 1500, size: 160, durationMs: Math.ceil((n / 1500) * 1000) });
  };

  it('reports a clean path as loss-free', async () => {
    const w = await measure(lab!.host('turn').v4, turn.port, turn.secret!, lab!.root!.v4, { name: 'clean', rate: 1500, size: 160, durationMs: 1000 });
    expect(w.up.lossPct).toBeLessThan(0.5);
    expect(w.down.lossPct).toBeLessThan(0.5);
  });

  for (const p of [0.01, 0.05, 0.2]) {
    it(`reports ${p * 100} % random drops on peer -> relay as down loss within ±1.5 points`, async () => {
      await lab!.drop('turn', { proto: 'udp', ports: turn.relayPorts, direction: 'in', probability: p, family: 'ipv4' });
      try {
        const w = await run(p);
        expect(Math.abs(w.down.lossPct - p * 100)).toBeLessThanOrEqual(1.5);
        expect(w.up.lossPct).toBeLessThan(0.5);
      } finally {
        await lab!.flush('turn');
      }
    });
  }

  it('reports 5 % random drops on client -> server as up loss within ±1.5 points', async () => {
    // Dropped where the server receives the client's ChannelData. (An OUTPUT
    // DROP on the relay socket is no model of loss: sendto() fails with EPERM
    // and coturn stops relaying for that allocation.)
    await lab!.drop('turn', { proto: 'udp', ports: turn.port, direction: 'in', probability: 0.05, family: 'ipv4' });
    try {
      const w = await run(0.05);
      expect(Math.abs(w.up.lossPct - 5)).toBeLessThanOrEqual(1.5);
      expect(w.down.lossPct).toBeLessThan(0.5);
    } finally {
      await lab!.flush('turn');
    }
  });
});

/** A UDP forwarder in front of coturn that delays client -> server packets by `delayMs`. */
async function delayShim(target: number, delayMs: number): Promise<{ port: number; close(): void }> {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  let client: { port: number; address: string } | null = null;
  const timers = new Set<NodeJS.Timeout>();
  front.on('message', (m, r) => {
    client = { port: r.port, address: r.address };
    const t = setTimeout(() => {
      timers.delete(t);
      back.send(m, target, '127.0.0.1');
    }, delayMs);
    timers.add(t);
  });
  back.on('message', (m) => client && front.send(m, client.port, client.address));
  const bind = (s: Socket) => new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  await Promise.all([bind(front), bind(back)]);
  return {
    port: front.address().port,
    close() {
      for (const t of timers) clearTimeout(t);
      front.close();
      back.close();
    },
  };
}

describe('QUAL-1 on loopback coturn', () => {
  let turn: CoturnLab;
  beforeAll(async () => {
    turn = await startCoturn({});
  });
  afterAll(async () => {
    await turn?.stop();
  });

  it('reports a 50 ms one-way delay shim within ±5 ms, in the up direction only', async () => {
    const shim = await delayShim(turn.port, 50);
    try {
      const w = await measure('127.0.0.1', turn.port, turn.secret!, '127.0.0.1', { name: 'delay', rate: 50, size: 160, durationMs: 2000 }, shim.port);
      expect(w.up.received).toBeGreaterThan(95);
      expect(Math.abs(w.up.oneWayMs.p50 - 50)).toBeLessThanOrEqual(5);
      expect(w.down.oneWayMs.p50).toBeLessThan(5);
      expect(Math.abs(w.rttMs.p50 - 50)).toBeLessThanOrEqual(5);
    } finally {
      shim.close();
    }
  });

  it('puts QUAL-1 and quality[] into the report through the engine', async () => {
    const report = await runCheck({
      ...DEFAULT_CHECK_OPTIONS,
      credentials: { kind: 'secret', uris: [`turn:127.0.0.1:${turn.port}?transport=udp`], secret: new Secret(turn.secret!) },
      family: 'ipv4',
      allowPrivate: true,
      assumePublic: ['127.0.0.0/8'],
      e2e: false,
      quality: 'audio',
    });
    const q = report.checks.find((c) => c.id === 'QUAL-1');
    expect(q?.status).toBe('pass');
    expect(report.quality).toHaveLength(1);
    expect(report.quality[0]).toMatchObject({ family: 'ipv4', lossPct: { up: 0, down: 0 }, profile: 'audio' });
    expect(report.quality[0]!.goodputKbps).toBeGreaterThan(60);
    // window (5 s) + setup + drain: well under window + 1 s.
    expect(report.durationMs).toBeLessThan(6000);
  });

  it('the default audio report on 6 URIs answers within the window + 1.5 s under the 3-allocation budget (issue 16 item 7)', async () => {
    const tls = await startCoturn({ tls: true });
    try {
      const uris = ['127.0.0.1', '[::1]'].flatMap((h) => [`stun:${h}:${tls.port}`, `turn:${h}:${tls.port}?transport=udp`, `turns:${h}:${tls.tlsPort}?transport=tcp`]);
      const report = await runCheck({
        ...DEFAULT_CHECK_OPTIONS,
        credentials: { kind: 'secret', uris, secret: new Secret(tls.secret!) },
        allowPrivate: true,
        assumePublic: ['127.0.0.0/8', '::1/128'],
        ca: [tls.caPem!],
        quality: 'audio',
      });
      expect(DEFAULT_CHECK_OPTIONS.maxAllocations).toBe(3);
      const q = report.checks.filter((c) => c.id === 'QUAL-1').map((c) => [c.uri, c.family, c.status]);
      // Four TURN targets, three allocations: one window per server and family (UDP), the TLS relays point at it.
      expect(q).toEqual([
        [uris[1], 'ipv4', 'pass'],
        [uris[2], 'ipv4', 'info'],
        [uris[4], 'ipv6', 'pass'],
        [uris[5], 'ipv6', 'info'],
      ]);
      expect(report.quality).toHaveLength(2);
      expect(report.durationMs).toBeLessThanOrEqual(PROFILES.audio.durationMs + 1500);
    } finally {
      await tls.stop();
    }
  });
});
