// Our STUN/TURN client against a real coturn on loopback (127.0.0.1 and ::1).
import { createHmac } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import * as net from 'node:net';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { Secret } from '../../src/tester/secret';
import { TurnClient, TurnError, type TurnClientOptions } from '../../src/tester/turn';
import type { TransportAddress } from '../../src/tester/stun';
import type { Transport } from '../../src/tester/types';

jest.setTimeout(30000);

let lab: CoturnLab;
const clients: TurnClient[] = [];
const closers: (() => void)[] = [];

function rest(secret: string, user = 'itest', ttl = 600) {
  const username = `${Math.floor(Date.now() / 1000) + ttl}:${user}`;
  return { username, password: new Secret(createHmac('sha1', secret).update(username).digest('base64')) };
}

function portFor(t: Transport) {
  return t === 'tls' ? lab.tlsPort : lab.port;
}

async function client(t: Transport, host = '127.0.0.1', extra: Partial<TurnClientOptions> = {}) {
  const c = await TurnClient.connect({
    transport: t,
    host,
    port: portFor(t),
    tls: { ca: lab.caPem },
    ...rest(lab.secret!),
    ...extra,
  });
  clients.push(c);
  return c;
}

async function expectTurnError(p: Promise<unknown>, kind: string, extra: Record<string, unknown> = {}) {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TurnError);
    expect(e).toMatchObject({ kind, ...extra });
    return e as TurnError;
  }
  throw new Error(`expected TurnError ${kind}`);
}

/** A plain UDP peer socket P. */
async function peer(host: string) {
  const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  await new Promise<void>((r) => s.bind(0, host, r));
  closers.push(() => s.close());
  const got: { data: Buffer; from: dgram.RemoteInfo }[] = [];
  const waiters: (() => void)[] = [];
  s.on('message', (data, from) => {
    got.push({ data, from });
    waiters.splice(0).forEach((w) => w());
  });
  const next = (ms = 2000) =>
    new Promise<{ data: Buffer; from: dgram.RemoteInfo }>((resolve, reject) => {
      const take = () => (got.length ? (resolve(got.shift()!), true) : false);
      if (take()) return;
      const t = setTimeout(() => reject(new Error('peer got nothing')), ms);
      waiters.push(() => {
        clearTimeout(t);
        take();
      });
    });
  return { sock: s, addr: { address: host, port: (s.address() as net.AddressInfo).port }, next };
}

function nextData(c: TurnClient, ms = 2000) {
  return new Promise<{ data: Buffer; from: TransportAddress; channel: number | null }>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('client got no data')), ms);
    c.once('data', (data, from, channel) => {
      clearTimeout(t);
      resolve({ data: Buffer.from(data), from, channel });
    });
  });
}

beforeAll(async () => {
  lab = await startCoturn({ tls: true });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  closers.splice(0).forEach((f) => f());
});

afterAll(async () => {
  await lab?.stop();
});

describe('Binding', () => {
  test.each([
    ['udp', '127.0.0.1'],
    ['tcp', '127.0.0.1'],
    ['tls', '127.0.0.1'],
    ['udp', '::1'],
    ['tcp', '::1'],
    ['tls', '::1'],
  ] as [Transport, string][])('%s on %s', async (t, host) => {
    const c = await client(t, host);
    const b = await c.binding();
    expect(b.mapped).toEqual(c.local);
    expect(b.mappedFrom).toBe('xor-mapped-address');
    expect(b.software).toMatch(/Coturn/i);
    expect(b.requestSize).toBe(20);
    expect(b.responseSize).toBeGreaterThan(20);
    expect(typeof b.hasOtherAddress).toBe('boolean');
    if (t === 'tls') {
      expect(c.tls?.protocol).toMatch(/TLSv1\.[23]/);
      expect(c.tls?.authorized).toBe(true);
      expect(c.tls?.chain.length).toBeGreaterThan(0);
      expect(c.timings.tlsMs).not.toBeNull();
    }
  });

  test('RFC 5780 attributes are reported (coturn with alt port)', async () => {
    const c = await client('udp');
    const b = await c.binding();
    expect(b.hasOtherAddress).toBe(true);
    expect(b.hasResponseOrigin).toBe(true);
    expect(b.otherAddress?.port).toBe(lab.altPort);
  });
});

describe('Allocate', () => {
  test.each(['udp', 'tcp', 'tls'] as Transport[])('REST credentials over %s', async (t) => {
    const c = await client(t);
    const a = await c.allocate({ lifetime: 900 });
    expect(a.authenticated).toBe(true);
    expect(a.requests).toBe(2);
    expect(a.realm).toBe(lab.realm);
    expect(a.nonce).toBeTruthy();
    expect(a.software).toMatch(/Coturn/i);
    expect(a.relayed.family).toBe('ipv4');
    expect(a.mapped).toEqual(c.local);
    expect(a.lifetime).toBe(900);
    expect(a.responseIntegrity).toBe('ok');
    expect(await c.refresh(1200)).toBe(1200);
  });

  test('IPv6 relay on request', async () => {
    const c = await client('udp', '::1');
    const a = await c.allocate({ family: 'ipv6' });
    expect(a.relayed.family).toBe('ipv6');
  });

  test('wrong password: typed 401 on Allocate', async () => {
    const c = await client('udp', '127.0.0.1', { password: new Secret('not-the-password') });
    const e = await expectTurnError(c.allocate(), 'error-response', { code: 401, method: 'Allocate' });
    expect(String(e.message)).not.toContain('not-the-password');
  });

  test('without credentials: the 401 challenge is the error (AUTH-1 pass)', async () => {
    const c = await client('tcp');
    await expectTurnError(c.allocate({ withCredentials: false }), 'error-response', { code: 401, method: 'Allocate' });
  });

  test('TCP relay requested over UDP: 400 or 442', async () => {
    const c = await client('udp');
    const e = await expectTurnError(c.allocate({ requestedTransport: 'tcp' }), 'error-response', { method: 'Allocate' });
    expect([400, 442]).toContain(e.code);
  });
});
