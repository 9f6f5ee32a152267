// The XMPP source's pure parts (#14): JIDs and server overrides, SRV order,
// XEP-0215 answers parsed and bounded, services grouped into credential sets,
// XMPP-1..6 judged, and the --xmpp flags. The network parts are in
// test/integration/xmpp.test.ts against real Prosody and ejabberd.
import xml from '@xmpp/xml';
import { parseCheckArgs, UsageError } from '../../src/cli/args';
import { orderSrv, parseJid, parseServerOverride, xmppEndpoints, XmppInputError } from '../../src/tester/credentials/xmpp-endpoints';
import { EXTDISCO_V2, MAX_SERVICES, parseServices, type XmppDiscovery, type XmppService } from '../../src/tester/credentials/xmpp-extdisco';
import { credentialSets, serviceUri } from '../../src/tester/credentials/xmpp-services';
import { judgeAdvertised, judgeCredentialRequests, judgeCredentials, judgeHosts, judgeLogin, judgeVariants } from '../../src/tester/probes/xmpp-discovery';
import { Secret } from '../../src/tester/secret';

const svc = (o: Partial<XmppService>): XmppService => ({ type: 'turn', transport: 'udp', host: 'turn.example.org', port: 3478, username: 'u', password: new Secret('p'), restricted: true, expires: null, ...o });
const disco = (services: XmppService[], ns = EXTDISCO_V2): XmppDiscovery => ({
  domain: 'example.org',
  endpoint: { host: 'xmpp.example.org', port: 5222, tls: 'starttls', via: 'srv', address: '198.51.100.7' },
  answer: { kind: 'ok', namespace: ns, services, dropped: 0 },
  software: null,
});

describe('JIDs and endpoints', () => {
  it('parses a bare or full JID and refuses what is not one, naming it', () => {
    expect(parseJid('Alice@Example.ORG/phone')).toEqual({ local: 'Alice', domain: 'example.org', bare: 'Alice@example.org' });
    expect(() => parseJid('example.org')).toThrow(XmppInputError);
    expect(() => parseJid('a@exa mple.org')).toThrow(/domain of "a@exa mple.org"/);
    expect(() => parseJid('x'.repeat(5000))).toThrow(XmppInputError);
  });

  it('reads host[:port] as STARTTLS and xmpps:// as direct TLS', () => {
    expect(parseServerOverride('xmpp.example.org')).toEqual({ host: 'xmpp.example.org', port: 5222, tls: 'starttls', via: 'override' });
    expect(parseServerOverride('xmpps://[2001:db8::1]')).toEqual({ host: '2001:db8::1', port: 5223, tls: 'direct', via: 'override' });
    expect(() => parseServerOverride('http://x:80')).toThrow(/--xmpp-server/);
    expect(() => parseServerOverride('x:99999')).toThrow(/out of range/);
  });

  it('orders SRV by priority, then weight, direct TLS first on a tie; "." means no service', () => {
    const eps = orderSrv([
      { rec: { name: 'b.example.org.', port: 5222, priority: 10, weight: 5 }, tls: 'starttls' },
      { rec: { name: 'a.example.org', port: 5223, priority: 10, weight: 5 }, tls: 'direct' },
      { rec: { name: 'c.example.org', port: 5222, priority: 5, weight: 0 }, tls: 'starttls' },
      { rec: { name: '.', port: 0, priority: 0, weight: 0 }, tls: 'direct' },
    ]);
    expect(eps.map((e) => `${e.host}:${e.port}/${e.tls}`)).toEqual(['c.example.org:5222/starttls', 'a.example.org:5223/direct', 'b.example.org:5222/starttls']);
  });

  it('asks both SRV names and falls back to the domain on 5222 without records', async () => {
    const asked: string[] = [];
    const none = await xmppEndpoints('example.org', async (n) => {
      asked.push(n);
      throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
    });
    expect(asked.sort()).toEqual(['_xmpp-client._tcp.example.org', '_xmpps-client._tcp.example.org']);
    expect(none).toEqual([{ host: 'example.org', port: 5222, tls: 'starttls', via: 'fallback' }]);
  });
});

describe('XEP-0215 answers', () => {
  it('parses services, bounds them, and keeps passwords as Secret', () => {
    const el = xml(
      'services',
      { xmlns: EXTDISCO_V2 },
      xml('service', { type: 'turn', transport: 'udp', host: '[2001:db8::5]', port: '3478', username: '1700000000', password: 'hunter2', restricted: '1', expires: '2026-01-01T00:00:00Z' }),
      xml('service', { type: 'stun', host: 'stun.example.org', port: '99999' }),
      xml('service', { type: '', host: 'x' }),
    );
    const { services, dropped } = parseServices(el, EXTDISCO_V2);
    expect(dropped).toBe(1);
    expect(services[0]).toMatchObject({ type: 'turn', host: '2001:db8::5', port: 3478, restricted: true, username: '1700000000' });
    expect(services[0].password).toBeInstanceOf(Secret);
    expect(JSON.stringify(services)).not.toContain('hunter2');
    expect(services[0].expires).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(services[1].port).toBeNull(); // out of range: default port later
    const many = xml('services', { xmlns: EXTDISCO_V2 }, ...Array.from({ length: 100 }, (_, i) => xml('service', { type: 'stun', host: `h${i}.example.org` })));
    expect(parseServices(many, EXTDISCO_V2).services).toHaveLength(MAX_SERVICES);
  });

  it('turns services into ICE URIs and groups TURN by credentials (STUN joins the first set)', () => {
    expect(serviceUri(svc({ type: 'turns', transport: 'tcp', port: 443 }))).toBe('turns:turn.example.org:443?transport=tcp');
    expect(serviceUri(svc({ type: 'stun', host: '2001:db8::1', port: null }))).toBe('stun:[2001:db8::1]:3478');
    expect(serviceUri(svc({ type: 'stun', transport: 'tcp' }))).toBeNull();
    expect(serviceUri(svc({ type: 'ftp' }))).toBeNull();
    const sets = credentialSets([
      svc({ type: 'stun', username: null, password: null }),
      svc({ transport: 'udp' }),
      svc({ transport: 'tcp' }),
      svc({ type: 'turns', port: 5349, username: 'other', password: new Secret('q') }),
    ]);
    expect(sets.map((s) => [s.username, s.uris])).toEqual([
      ['u', ['stun:turn.example.org:3478', 'turn:turn.example.org:3478?transport=udp', 'turn:turn.example.org:3478?transport=tcp']],
      ['other', ['turns:turn.example.org:5349?transport=tcp']],
    ]);
  });
});

describe('XMPP-1..6', () => {
  const now = Date.parse('2026-06-01T12:00:00Z');
  const both = new Map([['turn.example.org', { v4: ['203.0.113.5'], v6: ['2001:db8::5'] }]]);

  it('XMPP-1 names the login failure; XMPP-2 the kind of empty answer', () => {
    expect(judgeLogin({ domain: 'example.org', login: { ok: false, kind: 'auth', detail: 'SASL authentication failed (not-authorized)' } })).toMatchObject({ status: 'fail', cause: 'auth' });
    expect(judgeAdvertised({ ...disco([]), answer: { kind: 'error', condition: 'service-unavailable', v1Condition: 'service-unavailable' } })).toMatchObject({ status: 'fail', cause: 'not-supported' });
    expect(judgeAdvertised(disco([]))).toMatchObject({ status: 'fail', cause: 'empty' });
    expect(judgeAdvertised(disco([svc({ type: 'stun' })]))).toMatchObject({ status: 'fail', cause: 'stun-only' });
    expect(judgeAdvertised(disco([svc({})], 'urn:xmpp:extdisco:1'))).toMatchObject({ status: 'warn', cause: 'v1-only' });
    expect(judgeAdvertised(disco([svc({})]))).toMatchObject({ status: 'pass' });
  });

  it('XMPP-3: TURN without credentials, already expired, about to expire', () => {
    expect(judgeCredentials(disco([svc({ username: null, password: null, restricted: false })]), now)).toMatchObject({ status: 'fail', cause: 'no-credentials' });
    expect(judgeCredentials(disco([svc({ expires: new Date(now - 5000) })]), now)).toMatchObject({ status: 'fail', cause: 'expired', evidence: { agoS: 5 } });
    expect(judgeCredentials(disco([svc({ expires: new Date(now + 30_000) })]), now)).toMatchObject({ status: 'warn', cause: 'expiring' });
    expect(judgeCredentials(disco([svc({ expires: new Date(now + 3_600_000) })]), now)).toMatchObject({ status: 'pass', evidence: { ttl: 3600 } });
    expect(judgeCredentials(disco([svc({ type: 'stun' })]), now).status).toBe('skip');
  });

  it('XMPP-4: a failed credential request is a failure with its condition', () => {
    const s = svc({ username: null, password: null, credentialRequest: { ok: false, condition: 'forbidden' } });
    expect(judgeCredentialRequests(disco([s]))).toMatchObject({ status: 'fail', cause: 'request-failed', evidence: { conditions: ['forbidden'] } });
    expect(judgeCredentials(disco([s]), now).status).toBe('skip'); // XMPP-4's to judge, not XMPP-3's
    expect(judgeCredentialRequests(disco([svc({})])).status).toBe('info');
  });

  it('XMPP-5 counts the six variants by the DNS answers of the hosts', () => {
    const six = [svc({ type: 'stun' }), svc({}), svc({ type: 'turns', transport: 'tcp', port: 443 })];
    expect(judgeVariants(disco(six), both)).toMatchObject({ status: 'pass', evidence: { turns443: true } });
    const v4only = new Map([['turn.example.org', { v4: ['203.0.113.5'], v6: [] }]]);
    expect(judgeVariants(disco(six), v4only)).toMatchObject({ status: 'warn', cause: 'no-ipv6' });
    expect(judgeVariants(disco([svc({})]), both)).toMatchObject({ status: 'warn', cause: 'missing', evidence: { missing: ['stun/udp ipv4', 'stun/udp ipv6', 'turns/tcp ipv4', 'turns/tcp ipv6'] } });
  });

  it('XMPP-6: a host that does not resolve; a name and a literal that disagree', () => {
    const dead = new Map([['turn.example.org', { v4: [], v6: [], code: 'ENOTFOUND' }]]);
    expect(judgeHosts(disco([svc({})]), dead)).toMatchObject({ status: 'fail', cause: 'no-address', evidence: { host: 'turn.example.org' } });
    const hosts = new Map([...both, ['198.51.100.9', { v4: ['198.51.100.9'], v6: [] }]]);
    expect(judgeHosts(disco([svc({}), svc({ host: '198.51.100.9' })]), hosts)).toMatchObject({ status: 'warn', cause: 'mismatch' });
    expect(judgeHosts(disco([svc({}), svc({ host: '203.0.113.5' })]), new Map([...both, ['203.0.113.5', { v4: ['203.0.113.5'], v6: [] }]])).status).toBe('pass');
  });
});

describe('voiptest check --xmpp', () => {
  it('maps the flags onto the xmpp source; the password may come from the environment', () => {
    const r = parseCheckArgs(['--xmpp', 'alice@example.org', '--xmpp-server', 'xmpps://xmpp.example.org'], { MXV_PASSWORD: 'pw' });
    expect(r.options.credentials).toMatchObject({ kind: 'xmpp', jid: 'alice@example.org', server: 'xmpps://xmpp.example.org' });
    expect((r.options.credentials as { password: Secret }).password.reveal()).toBe('pw');
  });

  it('refuses a missing password, a second source and a lone --xmpp-server', () => {
    expect(() => parseCheckArgs(['--xmpp', 'a@example.org'], {})).toThrow(/--xmpp needs --password/);
    expect(() => parseCheckArgs(['--xmpp', 'a@example.org', '--password', 'p', '--uri', 'turn:x'], {})).toThrow(UsageError);
    expect(() => parseCheckArgs(['--xmpp-server', 'x', '--uri', 'turn:x', '--secret', 's'], {})).toThrow(/--xmpp-server needs --xmpp/);
  });
});

describe('bot config: XMPP accounts', () => {
  const { xmppAccounts } = require('../../src/commands/xmpp') as typeof import('../../src/commands/xmpp');
  it('pairs each JID with its password line and names the ones without, never the passwords', () => {
    const r = xmppAccounts({ xmpp: { accounts: ['a@example.org', 'b@example.org xmpps://xmpp.example.org:5223', 'c@example.org'], passwords: new Secret('a@example.org s3cret one\nB@example.org pw2\n') } });
    expect(r.specs.map((s) => [s.jid, s.server ?? null, s.password.reveal(), s.trusted])).toEqual([
      ['a@example.org', null, 's3cret one', true],
      ['b@example.org', 'xmpps://xmpp.example.org:5223', 'pw2', true],
    ]);
    expect(r.problems).toEqual(['c@example.org: no password in xmpp.passwords (MXV_XMPP_PASSWORDS_FILE)']);
    expect(JSON.stringify(r.problems)).not.toContain('s3cret');
  });
});
