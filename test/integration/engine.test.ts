// The engine end to end on loopback (no root needed), issue 2 items 8 and 9:
// real coturn for healthy / wrong secret / expired / no auth / TCP only, and
// hostile or dead services started by the test itself on 127.0.0.1 for bad
// input (HTTP, random bytes, truncated and oversized STUN, silence, nothing
// listening). The network-fault cases (relay range blocked, private relay,
// packets dropped) run in namespaces: see scenarios.test.ts.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { startCoturn, type CoturnLab } from '../../scripts/lab';
import { restPassword } from '../../src/tester/credentials/rest';
import type { CredentialSpec } from '../../src/tester/credentials/types';
import { runCheck, RunRefusedError } from '../../src/tester/engine';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../../src/tester/options';
import { toJson, type Report, type ReportCheck } from '../../src/tester/report';
import { Secret } from '../../src/tester/secret';

jest.setTimeout(60_000);

const LOOPBACK_PUBLIC = ['127.0.0.0/8', '::1/128'];

function options(credentials: CredentialSpec, extra: Partial<CheckOptions> = {}): CheckOptions {
  return { ...DEFAULT_CHECK_OPTIONS, credentials, allowPrivate: true, assumePublic: LOOPBACK_PUBLIC, quality: 'off', e2e: false, timeoutMs: 15_000, ...extra };
}

const secretSpec = (uris: string[], secret: string): CredentialSpec => ({ kind: 'secret', uris, secret: new Secret(secret) });

function checks(r: Report, id: string, uri?: string): ReportCheck[] {
  return r.checks.filter((c) => c.id === id && (uri === undefined || c.uri === uri));
}

function fails(r: Report): string[] {
  return r.checks.filter((c) => c.status === 'fail').map((c) => `${c.id}/${c.cause ?? '-'} ${c.uri ?? ''} ${c.family ?? ''}`.trim());
}

describe('engine against loopback coturn', () => {
  let coturn: CoturnLab;
  let tcpOnly: CoturnLab;
  let open: CoturnLab;
  beforeAll(async () => {
    [coturn, tcpOnly, open] = await Promise.all([startCoturn({ tls: true }), startCoturn({ noUdp: true }), startCoturn({ noAuth: true })]);
  });
  afterAll(async () => {
    await Promise.all([coturn?.stop(), tcpOnly?.stop(), open?.stop()]);
  });

  test('healthy: UDP, TCP, TLS on IPv4 and IPv6 all relay data both ways', async () => {
    const v4 = coturn.uris('127.0.0.1');
    const v6 = coturn.uris('::1');
    const uris = [v4.stun, v4.turnUdp, v4.turnTcp, v4.turns!, v6.turnUdp, v6.turnTcp];
    const r = await runCheck(options(secretSpec(uris, coturn.secret!), { ca: [coturn.caPem!], only: ['NET-1', 'TLS-1', 'STUN-1', 'AUTH-1', 'AUTH-2', 'ALLOC-1', 'DATA-1', 'DATA-2'] }));
    expect(fails(r)).toEqual([]);
    expect(r.uris).toHaveLength(6);
    for (const u of r.uris) {
      expect([u.uri, u.family, u.grade, u.firstFailure]).toEqual([u.uri, u.family, 'Excellent', null]);
    }
    const data = checks(r, 'DATA-1');
    expect(data).toHaveLength(5);
    for (const d of data) expect([d.uri, d.status, d.evidence.inbound, d.evidence.outbound]).toEqual([d.uri, 'pass', true, true]);
    expect(checks(r, 'AUTH-1').every((c) => c.status === 'pass')).toBe(true);
    // TURN over TLS works, but not on 443: Great, not Excellent, and it says why.
    expect(r.grade.ipv4).toBe('Great');
    expect(r.grade.whyNotHigher.some((w) => /443/.test(w.text))).toBe(true);
    expect(toJson(r)).not.toContain(coturn.secret!);
  });

  test('wrong secret: AUTH-2 fails naming the secret, STUN still works', async () => {
    const u = coturn.uris('127.0.0.1');
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const r = await runCheck(options(secretSpec([u.stun, u.turnUdp, u.turnTcp], wrong), { family: 'ipv4' }));
    const auth = checks(r, 'AUTH-2');
    expect(auth.map((c) => [c.status, c.cause])).toEqual([
      ['fail', 'wrong-secret'],
      ['fail', 'wrong-secret'],
    ]);
    expect(auth[0]!.hint).toMatch(/static-auth-secret/);
    expect(r.uris.find((x) => x.uri === u.turnUdp)!.firstFailure).toBe('AUTH-2');
    expect(r.uris.find((x) => x.uri === u.stun)!.firstFailure).toBeNull();
    expect(r.grade.ipv4).toBe('Poor');
    const json = toJson(r);
    expect(json).not.toContain(wrong);
    expect(json).not.toContain(coturn.secret!);
  });

  test('expired credentials: AUTH-3 and AUTH-2 say expired', async () => {
    const u = coturn.uris('127.0.0.1');
    const username = `${Math.floor(Date.now() / 1000) - 600}:late`;
    const r = await runCheck(options({ kind: 'explicit', uris: [u.turnUdp], username, password: restPassword(new Secret(coturn.secret!), username) }, { family: 'ipv4' }));
    expect(checks(r, 'AUTH-3').map((c) => [c.status, c.cause])).toEqual([['fail', 'expired']]);
    expect(checks(r, 'AUTH-2').map((c) => [c.status, c.cause])).toEqual([['fail', 'expired']]);
  });

  test('no auth: AUTH-1 critical, security unsafe, grade capped at Poor', async () => {
    const u = open.uris('127.0.0.1');
    const r = await runCheck(options(secretSpec([u.stun, u.turnUdp], 'any'), { family: 'ipv4', only: ['AUTH-1', 'AUTH-2', 'DATA-1'] }));
    const a1 = checks(r, 'AUTH-1');
    expect(a1.map((c) => [c.status, c.severity, c.cause])).toEqual([['fail', 'critical', 'open-relay']]);
    expect(r.security.verdict).toBe('unsafe');
    expect(r.security.findings).toContain('AUTH-1');
    expect(r.grade.overall).toBe('Poor');
  });

  test('only TCP listening: UDP NET-1 refused, TCP relay works', async () => {
    const u = tcpOnly.uris('127.0.0.1');
    const t0 = performance.now();
    const r = await runCheck(options(secretSpec([u.stun, u.turnUdp, u.turnTcp], tcpOnly.secret!), { family: 'ipv4' }));
    expect(performance.now() - t0).toBeLessThan(5000);
    for (const uri of [u.stun, u.turnUdp]) {
      expect(checks(r, 'NET-1', uri).map((c) => [c.status, c.cause])).toEqual([['fail', 'refused']]);
      expect(r.uris.find((x) => x.uri === uri)!.firstFailure).toBe('NET-1');
    }
    expect(checks(r, 'DATA-1', u.turnTcp).map((c) => c.status)).toEqual(['pass']);
    expect(r.uris.find((x) => x.uri === u.turnTcp)!.grade).toBe('Excellent');
  });
});

// ---- bad input: services that are not TURN, or not there ----------------------

type UdpBehaviour = (msg: Buffer) => Buffer | null;

function udpService(behave: UdpBehaviour): Promise<{ port: number; socket: Socket }> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.on('message', (m, r) => {
      const out = behave(m);
      if (out) s.send(out, r.port, r.address);
    });
    s.on('error', () => undefined);
    s.bind(0, '127.0.0.1', () => resolve({ port: s.address().port, socket: s }));
  });
}

function httpLike(): Promise<{ port: number; server: Server }> {
  return new Promise((resolve) => {
    const server = createServer((c) => {
      c.on('error', () => undefined);
      c.once('data', () => c.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
    });
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, server }));
  });
}

/** A STUN Binding success header echoing the transaction id, with a body that lies about its length. */
function truncatedStun(m: Buffer): Buffer {
  const out = Buffer.alloc(24);
  out.writeUInt16BE(0x0101, 0);
  out.writeUInt16BE(200, 2); // claims 200 bytes of attributes, carries 4
  m.copy(out, 4, 4, 20);
  return out;
}

/** A Binding success whose one attribute claims more bytes than a datagram holds. */
function oversizedStun(m: Buffer): Buffer {
  const body = Buffer.alloc(60_000, 0xab);
  body.writeUInt16BE(0x8022, 0); // SOFTWARE
  body.writeUInt16BE(0xffff, 2);
  const out = Buffer.concat([Buffer.alloc(20), body]);
  out.writeUInt16BE(0x0101, 0);
  out.writeUInt16BE(body.length, 2);
  m.copy(out, 4, 4, 20);
  return out;
}

describe('engine against bad input', () => {
  const closers: (() => void)[] = [];
  afterAll(() => closers.forEach((c) => c()));

  async function udp(behave: UdpBehaviour): Promise<number> {
    const s = await udpService(behave);
    closers.push(() => s.socket.close());
    return s.port;
  }

  const run = (uris: string[], extra: Partial<CheckOptions> = {}) => runCheck(options(secretSpec(uris, 'x'), { family: 'ipv4', ...extra }));

  test.each([
    ['random bytes', (() => randomBytes(1 + Math.floor(Math.random() * 200))) as UdpBehaviour],
    ['truncated STUN', truncatedStun as UdpBehaviour],
    ['oversized STUN', oversizedStun as UdpBehaviour],
  ])('a UDP service answering %s: a finding, no crash, no hang', async (_name, behave) => {
    const port = await udp(behave);
    const t0 = performance.now();
    const r = await run([`stun:127.0.0.1:${port}`, `turn:127.0.0.1:${port}?transport=udp`]);
    expect(performance.now() - t0).toBeLessThan(5000);
    for (const u of r.uris) {
      expect(u.grade).toBe('Fail');
      expect(u.firstFailure).not.toBeNull();
    }
  });

  test('an HTTP server on the TURN port: not STUN, and a failing gate', async () => {
    const h = await httpLike();
    closers.push(() => h.server.close());
    const r = await run([`turn:127.0.0.1:${h.port}?transport=tcp`]);
    expect(checks(r, 'STUN-1').map((c) => [c.status, c.cause])).toEqual([['fail', 'not-stun']]);
    expect(r.uris[0]!.grade).toBe('Fail');
  });

  test('a server that never answers, and a port nobody listens on: fast NET-1 verdicts', async () => {
    const silent = await udp(() => null);
    const nobody = await udp(() => null);
    closers.pop()!(); // close it again: now nothing listens there
    const t0 = performance.now();
    const r = await run([`stun:127.0.0.1:${silent}`, `turn:127.0.0.1:${silent}?transport=udp`, `stun:127.0.0.1:${nobody}`]);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(checks(r, 'NET-1', `stun:127.0.0.1:${silent}`).map((c) => c.cause)).toEqual(['filtered']);
    expect(checks(r, 'NET-1', `stun:127.0.0.1:${nobody}`).map((c) => c.cause)).toEqual(['refused']);
  });

  test('a malformed URI among good ones: ADV-1 names it, the rest is tested', async () => {
    const port = await udp(() => null);
    const r = await run(['turn:[::1', 'foo:bar', `stun:127.0.0.1:${port}`]);
    const adv = checks(r, 'ADV-1').filter((c) => c.cause === 'unparsable');
    expect(adv.length).toBe(2);
    expect(r.uris.map((u) => u.uri)).toEqual([`stun:127.0.0.1:${port}`]);
  });

  test('a private target without allowPrivate is refused before any packet', async () => {
    // Loopback only: if the guard failed, nothing would leave the machine.
    const refused = (uri: string) => runCheck(options(secretSpec([uri], 'x'), { allowPrivate: false, assumePublic: [] }));
    await expect(refused('turn:127.0.0.1:3478')).rejects.toThrow(RunRefusedError);
    await expect(refused('stun:[::1]:3478')).rejects.toThrow(/allow-private/);
  });
});
