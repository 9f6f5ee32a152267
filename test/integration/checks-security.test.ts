// The security and once-per-URI checks against real coturn in a network
// namespace (the tester sits on the lab's root link, 198.18.x.1, so loopback
// is not its own address and ACL-1 can be judged honestly):
// - hardened coturn: no fail, security verdict ok (never a wrong accusation);
// - coturn's built-in peer rules: ACL-2/3/4, TCPR-1, SEC-1, STUN-2 found, and
//   the ACL probes provably send nothing to the addresses they ask about;
// - a deny rule that hits the tester: ACL-5 warns, ACL-1..3 skip;
// - user-quota=2: ALLOC-4 warns; no IPv6 relay: ALLOC-2 warns, ACL-4 skips.
import { createLab, type NetLab } from '../../scripts/lab/netns';
import type { CoturnLab, CoturnOptions } from '../../scripts/lab/coturn';
import { runCheck } from '../../src/tester/engine';
import { DEFAULT_CHECK_OPTIONS, type CheckOptions } from '../../src/tester/options';
import { ACL_PROBES } from '../../src/tester/probes/peer-acl';
import type { Report, ReportCheck } from '../../src/tester/report';
import { Secret } from '../../src/tester/secret';
import { TurnClient } from '../../src/tester/turn';

jest.setTimeout(90_000);

/** Peers a hardened coturn must refuse (the lab's 198.18/15 and 2001:db8::/32 stand in for the Internet). */
const DENY = [
  '0.0.0.0-0.255.255.255',
  '10.0.0.0-10.255.255.255',
  '100.64.0.0-100.127.255.255',
  '127.0.0.0-127.255.255.255',
  '169.254.0.0-169.254.255.255',
  '172.16.0.0-172.31.255.255',
  '192.168.0.0-192.168.255.255',
  '::ffff:0.0.0.0-::ffff:255.255.255.255',
  '64:ff9b::-64:ff9b::ffff:ffff',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];
const HARDENED: CoturnOptions = {
  allowLoopbackPeers: false,
  noRfc5780: true,
  extra: [...DENY.map((r) => `denied-peer-ip=${r}`), 'no-tcp-relay', 'no-software-attribute', 'no-stun-backward-compatibility', 'response-origin-only-with-rfc5780'],
};
/** coturn's own peer rules (Debian ships every line commented out). */
const BUILT_IN: CoturnOptions = { allowLoopbackPeers: false };

const isRoot = process.getuid?.() === 0;
(isRoot ? describe : describe.skip)('security and per-URI checks (netns)', () => {
  let lab: NetLab;
  const servers: CoturnLab[] = [];
  beforeAll(async () => {
    lab = await createLab({ hosts: ['turn'] });
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await lab?.destroy();
  });

  async function coturn(o: CoturnOptions): Promise<CoturnLab> {
    const c = await lab.startCoturn('turn', o);
    servers.push(c);
    return c;
  }

  function options(c: CoturnLab, uris: string[], extra: Partial<CheckOptions> = {}): CheckOptions {
    return {
      ...DEFAULT_CHECK_OPTIONS,
      credentials: { kind: 'secret', uris, secret: new Secret(c.secret!) },
      allowPrivate: true,
      assumePublic: [lab.subnet.v4, lab.subnet.v6!],
      ca: c.caPem ? [c.caPem] : undefined,
      quality: 'off',
      e2e: false,
      timeoutMs: 20_000,
      ...extra,
    };
  }

  const of = (r: Report, id: string) => r.checks.filter((f) => f.id === id);
  const statuses = (r: Report, id: string) => [...new Set(of(r, id).map((f) => f.status))].sort();
  const brief = (fs: ReportCheck[]) => fs.map((f) => `${f.id} ${f.status} ${f.uri ?? ''} ${f.family ?? ''}: ${f.summary}`).join('\n');

  test('hardened coturn: every check runs, nothing fails, verdict ok', async () => {
    const c = await coturn({ ...HARDENED, tls: true });
    const t = lab.host('turn');
    const uris = [`turn:${t.v4}:${c.port}?transport=udp`, `turn:${t.v4}:${c.port}?transport=tcp`, `turns:${t.v4}:${c.tlsPort}?transport=tcp`, `turn:[${t.v6}]:${c.port}?transport=udp`];
    const r = await runCheck(options(c, uris));
    const bad = r.checks.filter((f) => f.status === 'fail' || (f.status === 'warn' && f.id !== 'ADV-1'));
    expect(brief(bad)).toBe('');
    expect(r.security).toEqual({ verdict: 'ok', findings: [] });
    for (const id of ['ACL-5', 'ACL-1', 'ACL-2', 'ACL-3', 'ACL-4', 'ALLOC-2', 'TCPR-1', 'ALLOC-4', 'SEC-1', 'STUN-2', 'AUTH-4']) {
      expect([id, statuses(r, id)]).toEqual([id, ['pass']]);
    }
    expect(statuses(r, 'DATA-3')).toEqual(['pass', 'skip']); // TCP/TLS pass, UDP not applicable
    expect(statuses(r, 'AUTH-5')).toEqual(['info']);
    // The IPv6 relay was audited with the IPv6 addresses.
    const v6acl = of(r, 'ACL-4')[0];
    expect(v6acl.evidence.relayFamily).toBe('ipv6');
  });

  test("coturn's built-in rules: private, link-local and mapped peers reachable, TCP relay on, version disclosed; no data to the ACL addresses", async () => {
    const c = await coturn({ ...BUILT_IN });
    const t = lab.host('turn');
    // If coturn ever sent to an address asked about, it would pass OUTPUT here: count it.
    for (const net of ['10.0.0.0/8', '100.64.0.0/10', '169.254.0.0/16', '172.16.0.0/12', '192.168.0.0/16']) await lab.run('turn', ['ip', 'route', 'add', net, 'dev', 'eth0']);
    for (const net of ['fc00::/7', '64:ff9b::/96']) await lab.run('turn', ['ip', '-6', 'route', 'add', net, 'dev', 'eth0']);
    for (const p of ACL_PROBES) {
      const v6 = p.family === 'ipv6';
      if (p.address.startsWith('::ffff:')) continue; // an IPv4 destination on the wire: counted by the IPv4 rule for 127.0.0.1
      await lab.run('turn', [v6 ? 'ip6tables' : 'iptables', '-w', '-A', 'OUTPUT', '-d', p.address, '-j', 'DROP']);
    }
    // And the tester itself: no Send, ChannelData or channel towards them.
    const asked = new Set(ACL_PROBES.map((p) => p.address));
    const sentTo: string[] = [];
    const realSend = TurnClient.prototype.send;
    const spies = [
      jest.spyOn(TurnClient.prototype, 'send').mockImplementation(function (this: TurnClient, peer, data) {
        sentTo.push(typeof peer === 'string' ? peer : peer.address);
        return realSend.call(this, peer, data);
      }),
      jest.spyOn(TurnClient.prototype, 'channelBind'),
    ];
    let r: Report;
    try {
      r = await runCheck(options(c, [`turn:${t.v4}:${c.port}?transport=udp`, `turn:${t.v4}:${c.port}?transport=tcp`]));
    } finally {
      const channelPeers = (spies[1].mock.calls as unknown[][]).map((a) => (a[1] as { address: string }).address);
      spies.forEach((s) => s.mockRestore());
      sentTo.push(...channelPeers);
    }
    expect(sentTo.length).toBeGreaterThan(0); // DATA-1/DATA-3 did send, to our own sockets
    expect(sentTo.filter((a) => asked.has(a))).toEqual([]);
    const counters = (await lab.run('turn', ['iptables-save', '-c', '-t', 'filter'])) + (await lab.run('turn', ['ip6tables-save', '-c', '-t', 'filter']));
    const dropLines = counters.split('\n').filter((l) => / -A OUTPUT -d .* -j DROP/.test(l));
    expect(dropLines.length).toBeGreaterThanOrEqual(10);
    expect(dropLines.filter((l) => !l.startsWith('[0:0]'))).toEqual([]);
    // The counters do count: one datagram from inside the namespace (dropped by the rule before it leaves).
    await lab.exec('turn', [process.execPath, '-e', "const s=require('dgram').createSocket('udp4');s.send('x',9,'10.0.0.1',()=>s.close())"]);
    const after = await lab.run('turn', ['iptables-save', '-c', '-t', 'filter']);
    expect(after.split('\n').find((l) => l.includes('-d 10.0.0.1/32'))).toMatch(/^\[1:/);

    const fails = (id: string) => of(r, id).filter((f) => f.status === 'fail');
    expect(statuses(r, 'ACL-5')).toEqual(['pass']);
    expect(statuses(r, 'ACL-1')).toEqual(['pass']); // 127.0.0.1, 0.0.0.0, ::1, :: are denied by coturn itself
    expect(fails('ACL-2').map((f) => f.severity)).toContain('critical');
    expect(fails('ACL-3').every((f) => f.severity === 'high' && f.cause === 'private-allowed')).toBe(true);
    expect(fails('ACL-3').length).toBeGreaterThanOrEqual(2);
    expect(fails('ACL-4')[0]).toMatchObject({ severity: 'critical', cause: 'mapped-allowed' });
    expect(fails('TCPR-1')).toHaveLength(1); // the TCP URI only
    expect(of(r, 'SEC-1')[0]).toMatchObject({ status: 'fail', cause: 'vulnerable' });
    expect(of(r, 'STUN-2').map((f) => f.cause)).toEqual(['rfc5780']);
    expect(r.security.verdict).toBe('unsafe');
    expect(r.security.findings).toEqual(expect.arrayContaining(['ACL-2', 'ACL-3', 'ACL-4', 'TCPR-1', 'SEC-1', 'STUN-2']));
    expect(r.grade.overall).toBe('Poor');
    // Hints name the setting.
    expect(fails('ACL-3')[0].hint).toContain('denied-peer-ip');
    expect(fails('TCPR-1')[0].hint).toContain('no-tcp-relay');
  });

  test('a deny rule that covers the tester: ACL-5 warns and the ACL verdicts are skipped, not passed', async () => {
    const c = await coturn({ ...HARDENED, extra: [...HARDENED.extra!, `denied-peer-ip=${lab.root!.v4}`] });
    const t = lab.host('turn');
    const r = await runCheck(options(c, [`turn:${t.v4}:${c.port}?transport=udp`], { family: 'ipv4', only: ['ACL-5', 'ACL-1', 'ACL-2', 'ACL-3'] }));
    const target = r.checks.filter((f) => f.family === 'ipv4' && f.id.startsWith('ACL'));
    expect(target.find((f) => f.id === 'ACL-5')).toMatchObject({ status: 'warn', cause: 'control-denied' });
    for (const id of ['ACL-1', 'ACL-2', 'ACL-3']) expect(target.find((f) => f.id === id)?.status).toBe('skip');
  });

  test('user-quota=2: ALLOC-4 warns; an IPv4-only relay: ALLOC-2 warns and ACL-4 is skipped', async () => {
    const t = lab.host('turn');
    const [q, v4only] = await Promise.all([coturn({ ...HARDENED, extra: [...HARDENED.extra!, 'user-quota=2'] }), coturn({ ...HARDENED, relayIps: [t.v4] })]);
    const [rq, r4] = await Promise.all([
      runCheck(options(q, [`turn:${t.v4}:${q.port}?transport=udp`], { family: 'ipv4', only: ['ALLOC-4'] })),
      runCheck(options(v4only, [`turn:${t.v4}:${v4only.port}?transport=udp`], { family: 'ipv4', only: ['ALLOC-2', 'ACL-4'] })),
    ]);
    expect(of(rq, 'ALLOC-4')[0]).toMatchObject({ status: 'warn', cause: 'quota' });
    expect(of(rq, 'ALLOC-4')[0].hint).toContain('user-quota');
    expect(of(r4, 'ALLOC-2')[0]).toMatchObject({ status: 'warn', cause: 'no-ipv6-relay' });
    expect(of(r4, 'ACL-4')[0].status).toBe('skip');
  });
});
