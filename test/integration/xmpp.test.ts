// The XMPP front door end to end (#14), on loopback against real servers:
// Prosody with mod_external_services pointing at a lab coturn (shared secret),
// and ejabberd with its built-in STUN/TURN and mod_stun_disco. Scenarios are
// data (a server setup and what the report must say): both healthy, Prosody's
// secret differs from coturn's, ejabberd's TURN not listening on the advertised
// port, no IPv6 service advertised, discovery module off (each server),
// credentials expired when handed out, a restricted service without them; plus
// login failures and the CLI with its output checked for secrets. All servers
// start together in beforeAll (one coturn shared), each scenario runs once.
import { execFile } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreeTcpPort, makeSelfSigned, startCoturn, type CoturnLab } from '../../scripts/lab';
import { startEjabberd, type EjabberdLab } from '../../scripts/lab/ejabberd';
import { startProsody, type ProsodyLab, type ProsodyService } from '../../scripts/lab/prosody';
import { restPassword } from '../../src/tester/credentials/rest';
import { runCheck } from '../../src/tester/engine';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../../src/tester/options';
import type { Lookup } from '../../src/tester/probes/dns';
import type { Report, ReportCheck } from '../../src/tester/report';
import { Secret } from '../../src/tester/secret';

jest.setTimeout(180_000);

const TURN_NAME = 'turn.lab.test';
const LOOPBACK_PUBLIC = ['127.0.0.0/8', '::1/128'];
// The lab's DNS: the TURN host name has both families, as a real deployment's would.
const lookup: Lookup = async (host, rr) => (host === TURN_NAME ? { addrs: [rr === 'A' ? '127.0.0.1' : '::1'] } : { addrs: [], code: 'ENOTFOUND' });
// The checks that say whether the advertised services work (and what they need), to keep the run short.
const FUNCTION_CHECKS = ['XMPP-1', 'XMPP-2', 'XMPP-3', 'XMPP-4', 'XMPP-5', 'XMPP-6', 'NET-1', 'STUN-1', 'AUTH-2', 'DATA-1', 'SEC-1'] as const;

type Server = { kind: 'prosody'; lab: ProsodyLab } | { kind: 'ejabberd'; lab: EjabberdLab };

function prosodyServices(c: CoturnLab, host: string | [string, string]): ProsodyService[] {
  const hosts = Array.isArray(host) ? host : [host];
  const plain = hosts.flatMap((h): ProsodyService[] => [
    { type: 'stun', transport: 'udp', host: h, port: c.port },
    { type: 'turn', transport: 'udp', host: h, port: c.port, secret: true },
    { type: 'turn', transport: 'tcp', host: h, port: c.port, secret: true },
  ]);
  // Prosody 0.12 mints credentials by type only for "turn": a "turns" entry needs algorithm = "turn".
  return Array.isArray(host) ? plain : [...plain, { type: 'turns', transport: 'tcp', host, port: c.tlsPort, secret: true, algorithm: 'turn' }];
}

function options(s: Server, coturnCa: string, extra: Partial<CheckOptions> = {}): CheckOptions {
  const direct = s.kind === 'ejabberd'; // ejabberd over direct TLS (XEP-0368), Prosody over STARTTLS
  return {
    ...DEFAULT_CHECK_OPTIONS,
    credentials: { kind: 'xmpp', jid: s.lab.jid, password: new Secret(s.lab.password), server: direct ? `xmpps://127.0.0.1:${s.lab.tlsPort}` : `127.0.0.1:${s.lab.port}` },
    allowPrivate: true,
    assumePublic: LOOPBACK_PUBLIC,
    ca: [s.lab.caPem, coturnCa],
    quality: 'off',
    e2e: false,
    timeoutMs: 30_000,
    lookup,
    only: [...FUNCTION_CHECKS],
    ...extra,
  };
}

const xmpp = (r: Report) => Object.fromEntries(r.checks.filter((c) => c.id.startsWith('XMPP-')).map((c) => [c.id, c.cause ? `${c.status}/${c.cause}` : c.status]));
const byId = (r: Report, id: string): ReportCheck[] => r.checks.filter((c) => c.id === id);

describe('XMPP (XEP-0215) against real Prosody and ejabberd', () => {
  let coturn: CoturnLab;
  const servers = new Map<string, Server>();
  let deadPort = 0;

  beforeAll(async () => {
    const cert = await makeSelfSigned({ cn: TURN_NAME, sans: [TURN_NAME, '127.0.0.1', '::1'] });
    coturn = await startCoturn({ tls: true, tlsCert: cert });
    const wrong = 'not-the-coturn-secret';
    deadPort = await findFreeTcpPort(); // above the ephemeral range: nothing listens there
    const started = await Promise.all([
      startProsody({ secret: coturn.secret, services: prosodyServices(coturn, TURN_NAME) }).then((lab) => ['prosody-healthy', { kind: 'prosody', lab }] as const),
      startProsody({ secret: wrong, services: prosodyServices(coturn, TURN_NAME) }).then((lab) => ['prosody-wrong-secret', { kind: 'prosody', lab }] as const),
      startProsody({ secret: coturn.secret, services: prosodyServices(coturn, '127.0.0.1') }).then((lab) => ['prosody-no-ipv6', { kind: 'prosody', lab }] as const),
      startProsody({ secret: coturn.secret, externalServices: false }).then((lab) => ['prosody-module-off', { kind: 'prosody', lab }] as const),
      startProsody({ secret: coturn.secret, services: [{ type: 'turn', transport: 'udp', host: '127.0.0.1', port: coturn.port, secret: true, ttl: -600 }] }).then(
        (lab) => ['prosody-expired', { kind: 'prosody', lab }] as const,
      ),
      startProsody({ services: [{ type: 'stun', transport: 'udp', host: '127.0.0.1', port: coturn.port }, { type: 'turn', transport: 'udp', host: '127.0.0.1', port: coturn.port, restricted: true }] }).then(
        (lab) => ['prosody-restricted-no-secret', { kind: 'prosody', lab }] as const,
      ),
      startEjabberd({}).then((lab) => ['ejabberd-healthy', { kind: 'ejabberd', lab }] as const),
      startEjabberd({ advertisePort: deadPort }).then((lab) => ['ejabberd-turn-not-listening', { kind: 'ejabberd', lab }] as const),
      startEjabberd({ stunDisco: false }).then((lab) => ['ejabberd-disco-off', { kind: 'ejabberd', lab }] as const),
    ]);
    for (const [name, s] of started) servers.set(name, s as Server);
  });

  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.lab.stop()));
    await coturn?.stop();
  });

  const run = (name: string, extra: Partial<CheckOptions> = {}) => runCheck(options(servers.get(name)!, coturn.caPem!, extra));

  test('Prosody healthy: every advertised service relays data; all six variants; coturn\'s hints stay', async () => {
    const r = await run('prosody-healthy', { only: undefined });
    expect(r.source).toEqual({ kind: 'xmpp', xmpp: 'lab.test' });
    expect(xmpp(r)).toEqual({ 'XMPP-1': 'pass', 'XMPP-2': 'pass', 'XMPP-3': 'pass', 'XMPP-4': 'info', 'XMPP-5': 'pass', 'XMPP-6': 'pass' });
    // stun + turn/udp + turn/tcp + turns, each on IPv4 and IPv6 (the name has A and AAAA).
    expect(r.uris).toHaveLength(8);
    const turn = r.uris.filter((u) => !u.uri.startsWith('stun:'));
    for (const u of turn) expect([u.uri, u.family, u.grade]).toEqual([u.uri, u.family, 'Excellent']);
    for (const d of byId(r, 'DATA-1')) expect([d.uri, d.family, d.status]).toEqual([d.uri, d.family, 'pass']);
    // turns: is not on 443 on loopback: Great, and the grade says why.
    expect([r.grade.ipv4, r.grade.ipv6]).toEqual(['Great', 'Great']);
    // coturn answered: the default (coturn) hints stay.
    expect(byId(r, 'ACL-1').filter((c) => c.status === 'fail').every((c) => /denied-peer-ip/.test(c.hint ?? ''))).toBe(true);
  });

  test("Prosody's secret differs from coturn's: credentials handed out, rejected by the TURN server", async () => {
    const r = await run('prosody-wrong-secret');
    expect(xmpp(r)).toMatchObject({ 'XMPP-1': 'pass', 'XMPP-2': 'pass', 'XMPP-3': 'pass' });
    const auth = byId(r, 'AUTH-2');
    expect(auth.length).toBe(6); // turn udp/tcp + turns, two families
    for (const a of auth) expect([a.uri, a.family, a.status]).toEqual([a.uri, a.family, 'fail']);
    expect(r.grade.ipv4).toBe('Poor'); // STUN only
  });

  test('no IPv6 service advertised: XMPP-5 says so; IPv4 still works', async () => {
    const r = await run('prosody-no-ipv6');
    expect(xmpp(r)['XMPP-5']).toBe('warn/no-ipv6');
    expect(byId(r, 'XMPP-5')[0].hint).toContain('Prosody `external_services`'); // Prosody said its name (XEP-0092)
    expect(byId(r, 'DATA-1').filter((c) => c.status === 'pass').length).toBeGreaterThan(0);
  });

  test('discovery module off (Prosody): XMPP-2 fails with the module to enable, nothing else is tested', async () => {
    const r = await run('prosody-module-off');
    expect(xmpp(r)).toEqual({ 'XMPP-1': 'pass', 'XMPP-2': 'fail/not-supported', 'XMPP-3': 'skip', 'XMPP-4': 'skip', 'XMPP-5': 'skip', 'XMPP-6': 'skip' });
    expect(byId(r, 'XMPP-2')[0].hint).toMatch(/external_services/);
    expect(r.uris).toEqual([]);
    expect(r.grade.overall).toBe('Fail');
  });

  test('TURN credentials already expired when handed out (Prosody ttl in the past): XMPP-3, and coturn agrees', async () => {
    const r = await run('prosody-expired');
    expect(xmpp(r)['XMPP-3']).toBe('fail/expired');
    expect(byId(r, 'XMPP-3')[0].evidence.agoS).toBeGreaterThanOrEqual(590);
    expect(byId(r, 'AUTH-2').every((c) => c.status === 'fail')).toBe(true);
  });

  test('a restricted service whose credential request gives nothing: XMPP-4, and it is tested without credentials', async () => {
    const r = await run('prosody-restricted-no-secret');
    expect(xmpp(r)).toMatchObject({ 'XMPP-2': 'pass', 'XMPP-3': 'skip', 'XMPP-4': 'fail/request-failed' });
    expect(byId(r, 'XMPP-4')[0].evidence.conditions).toEqual(['no-credentials-in-answer']);
    expect(byId(r, 'AUTH-2').every((c) => c.status === 'fail')).toBe(true);
  });

  test("ejabberd healthy (direct TLS login): its built-in TURN relays data; hints name ejabberd's settings", async () => {
    const r = await run('ejabberd-healthy', { only: [...FUNCTION_CHECKS, 'ACL-1'] });
    expect(xmpp(r)).toMatchObject({ 'XMPP-1': 'pass', 'XMPP-2': 'pass', 'XMPP-3': 'pass' });
    expect(byId(r, 'XMPP-1')[0].evidence).toMatchObject({ tls: 'direct' });
    const data = byId(r, 'DATA-1');
    expect(data.length).toBe(2); // turn udp + tcp, IPv4 (ejabberd_stun listens on 127.0.0.1)
    for (const d of data) expect([d.uri, d.status]).toEqual([d.uri, 'pass']);
    expect(byId(r, 'SEC-1')[0].evidence.version).toBe('P1 STUN library');
    // ejabberd's TURN relays to loopback here: the hint names its turn_blacklist, not coturn's denied-peer-ip.
    const acl = byId(r, 'ACL-1').filter((c) => c.status === 'fail');
    expect(acl.length).toBeGreaterThan(0);
    for (const a of acl) expect(a.hint).toContain('turn_blacklist');
    expect(xmpp(r)['XMPP-5']).toBe('warn/missing');
    expect(byId(r, 'XMPP-5')[0].hint).toContain('ejabberd_stun');
  });

  test("ejabberd's TURN not listening on the advertised port: NET-1 on that URI, STUN beside it fine", async () => {
    const r = await run('ejabberd-turn-not-listening');
    const dead = `turn:127.0.0.1:${deadPort}?transport=udp`;
    const net = byId(r, 'NET-1').find((c) => c.uri === dead);
    expect(net?.status).toBe('fail');
    expect(net?.hint).toContain('ejabberd_stun'); // recognised from the STUN answer's SOFTWARE beside it
    expect(r.uris.find((u) => u.uri === dead)?.grade).toBe('Fail');
    expect(byId(r, 'STUN-1').some((c) => c.status === 'pass')).toBe(true);
  });

  test('discovery module off (ejabberd): XMPP-2 names mod_stun_disco', async () => {
    const r = await run('ejabberd-disco-off');
    expect(xmpp(r)['XMPP-2']).toBe('fail/not-supported');
    expect(byId(r, 'XMPP-2')[0].hint).toContain('mod_stun_disco');
  });

  test('login failures are XMPP-1 findings, not crashes: wrong password, untrusted certificate', async () => {
    const s = servers.get('prosody-healthy')!;
    const wrongPw = await runCheck({ ...options(s, coturn.caPem!), credentials: { kind: 'xmpp', jid: s.lab.jid, password: new Secret('wrong'), server: `127.0.0.1:${s.lab.port}` } });
    expect(xmpp(wrongPw)['XMPP-1']).toBe('fail/auth');
    const noCa = await runCheck({ ...options(s, coturn.caPem!), ca: undefined });
    expect(xmpp(noCa)['XMPP-1']).toBe('fail/tls');
    expect(wrongPw.uris).toEqual([]);
  });

  test('voiptest check --xmpp: exit code, JSON report, and no password or TURN credential in the output', async () => {
    const s = servers.get('prosody-healthy')!;
    const dir = mkdtempSync(join(tmpdir(), 'mxv-xmpp-cli-'));
    try {
      const ca = join(dir, 'ca.pem');
      writeFileSync(ca, `${s.lab.caPem}${coturn.caPem}`);
      const args = ['tsx', 'src/cli.ts', 'check', '--xmpp', s.lab.jid, '--xmpp-server', `127.0.0.1:${s.lab.port}`, '--ca', ca, '--allow-private', ...LOOPBACK_PUBLIC.flatMap((c) => ['--assume-public', c]), '--quality', 'off', '--no-e2e', '--only', 'XMPP-3,DATA-1', '--json'];
      const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('npx', args, { env: { ...process.env, MXV_PASSWORD: s.lab.password }, timeout: 120_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
        );
      });
      const text = out.stdout + out.stderr;
      const report = JSON.parse(out.stdout) as Report;
      expect(report.source.kind).toBe('xmpp');
      expect(byId(report, 'XMPP-3')[0].status).toBe('pass');
      expect(byId(report, 'DATA-1').every((c) => c.status === 'pass')).toBe(true);
      expect(out.code).toBe(0);
      expect(text).not.toContain(s.lab.password);
      expect(text).not.toContain(coturn.secret!);
      // The TURN passwords Prosody handed out: HMAC(secret, "<expiry>") for any expiry the output could show.
      const now = Math.floor(Date.now() / 1000);
      for (let t = now + 3500; t <= now + 3700; t++) expect(text.includes(restPassword(new Secret(coturn.secret!), String(t)).reveal())).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// Hostile XMPP servers started by the test on 127.0.0.1: each answers the
// client's stream header its own way. The login must fail cleanly and fast.
describe('XMPP login against hostile servers', () => {
  const HEADER = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' from='lab.test' id='1' version='1.0'>";
  async function hostile(answer: (s: Socket) => void): Promise<{ port: number; received: () => string; close: () => Promise<void> }> {
    let got = '';
    const socks = new Set<Socket>();
    const srv = createServer((s) => {
      socks.add(s);
      s.on('error', () => undefined);
      s.once('data', (d) => {
        got += d.toString();
        s.on('data', (x) => (got += x.toString()));
        answer(s);
      });
    });
    const port = await findFreeTcpPort();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    return { port, received: () => got, close: () => new Promise((r) => { for (const s of socks) s.destroy(); srv.close(() => r()); }) };
  }
  const optionsFor = (port: number): CheckOptions => ({
    ...DEFAULT_CHECK_OPTIONS,
    credentials: { kind: 'xmpp', jid: 'alice@lab.test', password: new Secret('never-sent-in-clear'), server: `127.0.0.1:${port}` },
    allowPrivate: true, quality: 'off', e2e: false, timeoutMs: 8000,
  });

  test('no STARTTLS offered: XMPP-1 no-tls, and no authentication is ever sent', async () => {
    const h = await hostile((s) => s.write(`${HEADER}<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`));
    try {
      const r = await runCheck(optionsFor(h.port));
      expect(xmpp(r)['XMPP-1']).toBe('fail/no-tls');
      expect(h.received()).not.toContain('<auth');
      expect(h.received()).not.toContain(Buffer.from('never-sent-in-clear').toString('base64').slice(0, 12));
    } finally {
      await h.close();
    }
  });

  test('see-other-host is not followed; an endless stream is cut off at 1 MiB', async () => {
    const redirect = await hostile((s) => s.write(`${HEADER}<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>127.0.0.1:9</see-other-host></stream:error>`));
    const flood = await hostile((s) => {
      s.write(`${HEADER}<stream:features><x>`);
      const chunk = 'y'.repeat(64 * 1024);
      let n = 0;
      const more = () => { while (n++ < 64 && s.writable && s.write(chunk)); if (n < 64 && s.writable) s.once('drain', more); };
      more();
    });
    try {
      const t0 = Date.now();
      const [a, b] = await Promise.all([runCheck(optionsFor(redirect.port)), runCheck(optionsFor(flood.port))]);
      expect(xmpp(a)['XMPP-1']).toMatch(/^fail\//);
      expect(xmpp(b)['XMPP-1']).toBe('fail/protocol');
      expect(byId(b, 'XMPP-1')[0].summary).toContain('more than');
      expect(Date.now() - t0).toBeLessThan(8000);
    } finally {
      await Promise.all([redirect.close(), flood.close()]);
    }
  });
});
