// Pure parts of the engine: CLI option parsing, the allocation semaphore,
// HS-1/HS-2/AUTH-3 judgements, ADV-1 lint, DNS-1 with an injected resolver.
import { helpText, parseCheckArgs, UsageError } from '../../src/cli/args';
import { classifyTurnServerAnswer } from '../../src/tester/credentials/homeserver';
import { mintRestCredentials, parseRestUsername, restPassword } from '../../src/tester/credentials/rest';
import { AllocationBudget } from '../../src/tester/plan';
import { lintUris } from '../../src/tester/probes/advertised-uris';
import { resolveUri } from '../../src/tester/probes/dns';
import { judgeTtl, judgeTurnServerOutcome } from '../../src/tester/probes/homeserver-turn';
import { judgeRestExpiry } from '../../src/tester/probes/rest-expiry';
import { Secret } from '../../src/tester/secret';
import { parseIceUri } from '../../src/tester/uri';

describe('voiptest check arguments', () => {
  it('parses a secret source with repeated URIs and lab options', () => {
    const r = parseCheckArgs(['--uri', 'turn:a.example?transport=udp', '--uri=turns:a.example:443?transport=tcp', '--secret', 's3', '--allow-private', '--assume-public', '198.18.0.0/15', '--json', '--only', 'data-1,AUTH-2']);
    expect(r.format).toBe('json');
    expect(r.options.credentials.kind).toBe('secret');
    expect(r.options.allowPrivate).toBe(true);
    expect(r.options.assumePublic).toEqual(['198.18.0.0/15']);
    expect(r.options.only).toEqual(['DATA-1', 'AUTH-2']);
    expect(JSON.stringify(r.options)).not.toContain('s3');
  });

  it('reads credentials from the environment', () => {
    const r = parseCheckArgs(['--homeserver', 'https://m.example'], { MXV_ACCESS_TOKEN: 'tok' });
    expect(r.options.credentials).toMatchObject({ kind: 'homeserver', homeserver: 'https://m.example' });
    if (r.options.credentials.kind !== 'homeserver') throw new Error('kind');
    expect(r.options.credentials.accessToken?.reveal()).toBe('tok');
  });

  it.each([
    [['--uri', 'turn:x'], /--username U with --password P, or --secret S/],
    [[], /nothing to test/],
    [['--homeserver', 'h', '--uri', 'turn:x', '--access-token', 't'], /not both/],
    [['--bogus'], /unknown option --bogus/],
    [['--uri'], /needs a value/],
    [['--uri', 'turn:x', '--secret', 's', '--family', 'ipv5'], /--family must be one of/],
    [['--uri', 'turn:x', '--secret', 's', '--timeout-ms', '-3'], /positive whole number/],
    [['--uri', 'turn:x', '--secret', 's', '--only', 'NOPE-1'], /unknown check id "NOPE-1"/],
    [['--uri', 'turn:x', '--secret', 's', '--ca', '/nonexistent/ca.pem'], /--ca \/nonexistent\/ca.pem: ENOENT/],
    [['stray'], /unexpected argument/],
  ])('rejects %j with a clear message', (argv, msg) => {
    expect(() => parseCheckArgs(argv as string[], {})).toThrow(UsageError);
    expect(() => parseCheckArgs(argv as string[], {})).toThrow(msg);
  });

  it('derives help from the option table', () => {
    const h = helpText();
    for (const o of ['--homeserver', '--assume-public', '--quality', '--timeout-ms']) expect(h).toContain(o);
  });
});

describe('AllocationBudget', () => {
  it('never hands out more permits than it has, and serves waiters in order', async () => {
    const s = new AllocationBudget(3);
    let held = 0;
    let peak = 0;
    const order: number[] = [];
    await Promise.all(
      [2, 1, 2, 1, 3].map(async (n, i) => {
        const release = await s.acquire(n);
        held += n;
        peak = Math.max(peak, held);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        held -= n;
        release();
        release(); // idempotent
      }),
    );
    expect(peak).toBeLessThanOrEqual(3);
    expect(order).toHaveLength(5);
  });
});

describe('TURN REST credentials', () => {
  it('mints expiry:user with base64 HMAC-SHA1 and parses it back', () => {
    const m = mintRestCredentials(new Secret('north'), 'bob', 60, 1_700_000_000_000);
    expect(m.username).toBe('1700000060:bob');
    expect(m.password.reveal()).toBe(restPassword(new Secret('north'), '1700000060:bob').reveal());
    expect(m.password.reveal()).toMatch(/^[A-Za-z0-9+/]{27}=$/);
    expect(parseRestUsername(m.username)).toEqual({ expiresAt: 1700000060, user: 'bob' });
    expect(parseRestUsername('alice')).toBeNull();
  });
});

describe('HS-1 / HS-2 / AUTH-3', () => {
  it('Synapse {} is HS-1 fail "empty"; a full answer passes and never carries the password', () => {
    const empty = judgeTurnServerOutcome(classifyTurnServerAnswer({}), 'https://hs');
    expect(empty).toEqual([expect.objectContaining({ id: 'HS-1', status: 'fail', cause: 'empty' })]);
    const ok = classifyTurnServerAnswer({ uris: ['turn:t.example'], username: '1:u', password: 'pw-secret', ttl: 86 });
    expect(ok.kind).toBe('ok');
    const fs = judgeTurnServerOutcome(ok, 'https://hs');
    expect(fs.map((f) => [f.id, f.status])).toEqual([
      ['HS-1', 'pass'],
      ['HS-2', 'warn'],
    ]);
    expect(JSON.stringify(fs)).not.toContain('pw-secret');
  });

  it('classifies incomplete and hostile answers without crashing', () => {
    expect(classifyTurnServerAnswer(null).kind).toBe('malformed');
    expect(classifyTurnServerAnswer([1, 2]).kind).toBe('malformed');
    expect(classifyTurnServerAnswer({ uris: 'turn:x', username: 'u', password: 'p' }).kind).toBe('malformed');
    expect(classifyTurnServerAnswer({ uris: [''], username: '', password: '' }).kind).toBe('malformed');
  });

  it('judges ttl bands and REST expiry', () => {
    expect(judgeTtl(3600).status).toBe('pass');
    expect(judgeTtl(86).cause).toBe('too-short');
    expect(judgeTtl(864000).cause).toBe('too-long');
    const now = 1_700_000_000_000;
    const creds = (username: string) => ({ uris: [], username, password: new Secret('p'), ttl: null, source: { kind: 'explicit' as const } });
    expect(judgeRestExpiry(creds('1699999000:u'), now)).toMatchObject({ status: 'fail', cause: 'expired' });
    expect(judgeRestExpiry(creds('1800000000:u'), now)).toMatchObject({ status: 'warn', cause: 'too-long' });
    expect(judgeRestExpiry(creds('1700003600:u'), now).status).toBe('pass');
    expect(judgeRestExpiry(creds('plainuser'), now).status).toBe('skip');
  });
});

describe('ADV-1', () => {
  it('lints without crashing on junk and never repeats a password', () => {
    const r = lintUris(['turn:a.example?transport=udp', 'turn:a.example?transport=udp', 'turns:192.0.2.1', 'gopher:x', 'turn:user:hunter2@a.example', 'turns:a.example?transport=udp']);
    const causes = r.findings.map((f) => f.cause);
    expect(causes).toEqual(expect.arrayContaining(['duplicate', 'turns-ip-literal', 'unparsable', 'turns-udp']));
    expect(JSON.stringify(r.findings)).not.toContain('hunter2');
    expect(r.uris.map((u) => u.raw)).toEqual(['turn:a.example?transport=udp', 'turns:192.0.2.1']);
  });

  it('passes a good set', () => {
    const r = lintUris(['turn:t.example?transport=udp', 'turn:t.example?transport=tcp', 'turns:t.example:443?transport=tcp']);
    expect(r.findings).toEqual([expect.objectContaining({ id: 'ADV-1', status: 'pass' })]);
  });
});

describe('DNS-1 resolution (injected resolver)', () => {
  const uri = parseIceUri('turn:t.example?transport=udp');
  it('makes one target per address and family', async () => {
    const r = await resolveUri(uri, ['ipv4', 'ipv6'], async (_h, rr) => (rr === 'A' ? { addrs: ['192.0.2.7'] } : { addrs: ['2001:db8::7'] }));
    expect(r.addresses).toEqual([
      { family: 'ipv4', address: '192.0.2.7' },
      { family: 'ipv6', address: '2001:db8::7' },
    ]);
    expect(r.finding?.status).toBe('pass');
  });
  it('NXDOMAIN is a DNS-1 fail naming the host', async () => {
    const r = await resolveUri(uri, ['ipv4', 'ipv6'], async () => ({ addrs: [], code: 'ENOTFOUND' }));
    expect(r.finding).toMatchObject({ id: 'DNS-1', status: 'fail', cause: 'nxdomain' });
    expect(r.finding?.summary).toContain('t.example');
  });
  it('IP literals skip DNS and respect the family filter', async () => {
    const lit = parseIceUri('turn:[2001:db8::1]:3478');
    expect((await resolveUri(lit, ['ipv4'])).addresses).toEqual([]);
    expect((await resolveUri(lit, ['ipv6'])).addresses).toEqual([{ family: 'ipv6', address: '2001:db8::1' }]);
  });
});

describe('homeserver HTTP', () => {
  it('does not follow redirects (a redirect could aim the token at an internal address)', async () => {
    const { createServer } = await import('node:http');
    const { fetchJson, HttpError } = await import('../../src/tester/credentials/http');
    let hits = 0;
    // The redirect points back at this same loopback server: a followed redirect would be a second hit.
    const srv = createServer((req, res) => {
      hits++;
      res.writeHead(302, { location: `http://127.0.0.1:${(srv.address() as { port: number }).port}/internal` }).end();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    try {
      const err = await fetchJson(`http://127.0.0.1:${port}/_matrix/client/v3/voip/turnServer`, { headers: { authorization: 'Bearer x' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect((err as Error).message).toMatch(/302 redirect to 127\.0\.0\.1:\d+ \(not followed/);
      expect(hits).toBe(1);
    } finally {
      srv.close();
    }
  });

  it('checks the addresses of the connection itself (DNS rebinding): a name that resolves to loopback gets no connection', async () => {
    const { createServer } = await import('node:http');
    const { fetchJson, HttpError } = await import('../../src/tester/credentials/http');
    let connections = 0;
    const srv = createServer((_req, res) => res.end('{}'));
    srv.on('connection', () => connections++);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const noLoopback = (ip: string) => (ip.startsWith('127.') || ip === '::1' ? 'loopback' : null);
    try {
      // Without the check the same request reaches the server: the test can tell the two apart.
      await expect(fetchJson(`http://localhost:${port}/x`, {})).resolves.toMatchObject({ status: 200 });
      expect(connections).toBe(1);
      const err = await fetchJson(`http://localhost:${port}/x`, { checkAddress: noLoopback }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HttpError);
      expect(err).toMatchObject({ kind: 'refused' });
      expect((err as Error).message).toMatch(/localhost resolves to (127\.0\.0\.1|::1): loopback/);
      const lit = await fetchJson(`http://127.0.0.1:${port}/x`, { checkAddress: noLoopback }).catch((e: unknown) => e);
      expect(lit).toMatchObject({ kind: 'refused' });
      expect(connections).toBe(1);
      // The same lookup path with addresses it allows connects (a name, so the lookup really runs).
      const seen: string[] = [];
      await expect(fetchJson(`http://localhost:${port}/x`, { checkAddress: (ip) => (seen.push(ip), null) })).resolves.toMatchObject({ status: 200 });
      expect(seen.length).toBeGreaterThan(0);
      expect(connections).toBe(2);
    } finally {
      srv.close();
    }
  });

  it('stops reading at the body cap instead of buffering a hostile answer', async () => {
    const { createServer } = await import('node:http');
    const { fetchJson } = await import('../../src/tester/credentials/http');
    let written = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    // Endless body: only a reader that stops can finish this request.
    const srv = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const pump = () => {
        while (!closed && res.write(chunk)) written += chunk.length;
        if (!closed) res.once('drain', pump);
      };
      res.on('close', () => (closed = true));
      pump();
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    try {
      const err = await fetchJson(`http://127.0.0.1:${port}/big`, { timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ kind: 'too-large' });
      await new Promise((r) => setTimeout(r, 100));
      expect(closed).toBe(true);
      expect(written).toBeLessThan(16 * 1024 * 1024);
    } finally {
      srv.closeAllConnections();
      srv.close();
    }
  });
});
