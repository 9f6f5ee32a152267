// Our STUN/TURN client against a real coturn on loopback (127.0.0.1 and ::1).
import { createHmac } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as http from 'node:http';
import * as net from 'node:net';
import { startCoturn, type CoturnLab } from '../../scripts/lab/coturn';
import { Secret } from '../../src/tester/secret';
import { TurnClient, TurnError, type TurnClientOptions } from '../../src/tester/turn';
import { ATTR, METHOD, encodeUint32, getUint32, type TransportAddress } from '../../src/tester/stun';
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

describe('relayed data', () => {
  // Client on 127.0.0.1, relay and peer on ::1: the permission for the peer
  // cannot admit the client's own host address, so only the relay path works.
  test.each(['udp', 'tcp', 'tls'] as Transport[])('Send/Data indications both ways over %s', async (t) => {
    const c = await client(t);
    const a = await c.allocate({ family: 'ipv6' });
    expect(a.relayed.address).toBe('::1');
    const p = await peer('::1');
    await c.createPermission([p.addr.address]);

    const inbound = nextData(c);
    p.sock.send(Buffer.from('from peer, odd'), a.relayed.port, a.relayed.address);
    const got = await inbound;
    expect(got.data.toString()).toBe('from peer, odd');
    expect(got.from).toEqual({ family: 'ipv6', address: '::1', port: p.addr.port });
    expect(got.channel).toBeNull();

    expect(c.send(`[::1]:${p.addr.port}`, Buffer.from('from client'))).toBe(true);
    const out = await p.next();
    expect(out.data.toString()).toBe('from client');
    expect(out.from.address).toBe(a.relayed.address);
    expect(out.from.port).toBe(a.relayed.port);
  });

  test.each(['udp', 'tcp', 'tls'] as Transport[])('ChannelBind + ChannelData both ways over %s (odd lengths)', async (t) => {
    const c = await client(t);
    const a = await c.allocate({ family: 'ipv6' });
    const p = await peer('::1');
    await c.channelBind(0x4001, p.addr);
    expect(c.boundChannels.get(0x4001)).toEqual({ family: 'ipv6', address: '::1', port: p.addr.port });

    for (const len of [1, 3, 5, 7, 1001]) {
      const payload = Buffer.alloc(len, len & 0xff);
      const inbound = nextData(c);
      p.sock.send(payload, a.relayed.port, a.relayed.address);
      const got = await inbound;
      expect(got.channel).toBe(0x4001);
      expect(got.data.equals(payload)).toBe(true);
      expect(got.from.port).toBe(p.addr.port);

      expect(c.sendChannel(0x4001, payload)).toBe(true);
      const out = await p.next();
      expect(out.data.equals(payload)).toBe(true);
      expect(out.from.port).toBe(a.relayed.port);
    }
  });

  test('a burst of ChannelData over TCP arrives intact (coalesced frames)', async () => {
    const c = await client('tcp');
    const a = await c.allocate({ family: 'ipv6' });
    const p = await peer('::1');
    await c.channelBind(0x4abc, p.addr);
    // Each payload carries its index and has an odd-ish length 1..7 (+2).
    const payload = (i: number) => Buffer.concat([Buffer.from([i >> 8, i & 0xff]), Buffer.alloc(1 + (i % 7), i & 0xff)]);
    const seen: number[] = [];
    c.on('data', (d, _from, ch) => {
      expect(ch).toBe(0x4abc);
      const i = d.readUInt16BE(0);
      expect(d.equals(payload(i))).toBe(true);
      seen.push(i);
    });
    // Paced in small batches: the UDP leg into coturn may drop a blast; the TCP leg must not garble.
    for (let i = 0; i < 200; i++) {
      p.sock.send(payload(i), a.relayed.port, a.relayed.address);
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2));
    }
    const t0 = Date.now();
    while (seen.length < 200 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBeGreaterThanOrEqual(150);
    expect([...seen].sort((x, y) => x - y)).toEqual(seen); // in order, none garbled
    expect(c.closed).toBe(false);
    expect(c.stats.dropped).toBe(0);
  });
});

describe('nonce and lifetime', () => {
  test('438 Stale Nonce: exactly one transparent retry with the new nonce', async () => {
    const c = await client('udp');
    await c.allocate();
    (c as unknown as { nonceValue: string }).nonceValue = 'bogus-nonce-0000';
    const ex = await c.request(METHOD.Refresh, [{ type: ATTR.LIFETIME, value: encodeUint32(700) }], { auth: true });
    expect(ex.requests).toBe(2);
    expect(getUint32(ex.response, ATTR.LIFETIME)).toBe(700);
    expect(c.nonce).not.toBe('bogus-nonce-0000');
  });

  test('close() deletes the allocation: the same 5-tuple can allocate again', async () => {
    const c = await client('udp');
    const localPort = c.local.port;
    await c.allocate();
    await c.close();
    await c.close(); // idempotent
    expect(c.closed).toBe(true);
    // coturn deletes about 1 s after Refresh(0): retry briefly.
    const t0 = Date.now();
    for (;;) {
      const d = await client('udp', '127.0.0.1', { localPort });
      try {
        const a = await d.allocate();
        expect(a.relayed).toBeTruthy();
        break;
      } catch (e) {
        expect(e).toMatchObject({ kind: 'error-response', code: 437 });
        await d.close();
        if (Date.now() - t0 > 4000) throw e;
        await new Promise((r) => setTimeout(r, 300));
      }
    }
  });

  test('Refresh LIFETIME=0 then Refresh: 437', async () => {
    const c = await client('udp');
    await c.allocate();
    expect(await c.refresh(0)).toBe(0);
    expect(c.hasAllocation).toBe(false);
    await new Promise((r) => setTimeout(r, 1500));
    await expectTurnError(c.refresh(600), 'error-response', { code: 437, method: 'Refresh' });
  });
});

describe('failures are typed and fast', () => {
  test('UDP port with nothing listening: refused (ICMP) at once', async () => {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    s.close();
    const t0 = Date.now();
    const c = await TurnClient.connect({ transport: 'udp', host: '127.0.0.1', port });
    clients.push(c);
    await expectTurnError(c.binding(), 'refused', { sysCode: 'ECONNREFUSED' });
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test('UDP socket that never answers: timeout in < 2.5 s', async () => {
    const p = await peer('127.0.0.1');
    const t0 = Date.now();
    const c = await TurnClient.connect({ transport: 'udp', host: '127.0.0.1', port: p.addr.port });
    clients.push(c);
    await expectTurnError(c.binding(), 'timeout', { method: 'Binding' });
    const ms = Date.now() - t0;
    expect(ms).toBeLessThan(2500);
    expect(ms).toBeGreaterThanOrEqual(1500);
  });

  test('UDP server answering garbage: not-stun', async () => {
    const p = await peer('127.0.0.1');
    p.sock.on('message', (_m, from) => p.sock.send(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'), from.port, from.address));
    const c = await TurnClient.connect({ transport: 'udp', host: '127.0.0.1', port: p.addr.port, timeoutMs: 800 });
    clients.push(c);
    await expectTurnError(c.binding(), 'not-stun');
  });

  async function httpServer(): Promise<number> {
    const srv = http.createServer((_req, res) => res.end('hello'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    closers.push(() => {
      srv.closeAllConnections();
      srv.close();
    });
    return (srv.address() as net.AddressInfo).port;
  }

  test('TCP port with an HTTP server: not-stun fast', async () => {
    const port = await httpServer();
    const t0 = Date.now();
    const c = await TurnClient.connect({ transport: 'tcp', host: '127.0.0.1', port });
    clients.push(c);
    await expectTurnError(c.binding(), 'not-stun');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  test('TLS to an HTTP server: tls error', async () => {
    const port = await httpServer();
    const e = await expectTurnError(TurnClient.connect({ transport: 'tls', host: '127.0.0.1', port }), 'tls');
    expect(e.tlsCode).toBeTruthy();
  });

  test('refused TCP: refused', async () => {
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((r) => srv.close(r));
    await expectTurnError(TurnClient.connect({ transport: 'tcp', host: '127.0.0.1', port }), 'refused', { phase: 'connect' });
    await expectTurnError(TurnClient.connect({ transport: 'tls', host: '127.0.0.1', port }), 'refused', { phase: 'connect' });
  });

  test('TCP server that accepts and stays silent: timeout at the deadline', async () => {
    const srv = net.createServer(() => undefined);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const socks: net.Socket[] = [];
    srv.on('connection', (s) => socks.push(s));
    closers.push(() => {
      socks.forEach((s) => s.destroy());
      srv.close();
    });
    const c = await TurnClient.connect({ transport: 'tcp', host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, timeoutMs: 700 });
    clients.push(c);
    await expectTurnError(c.binding(), 'timeout');
    const t = await TurnClient.connect({ transport: 'tls', host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, connectTimeoutMs: 500 }).catch((e) => e);
    expect(t).toMatchObject({ kind: 'timeout', phase: 'tls' });
  });

  test('TLS without the lab CA: typed certificate error with the chain as evidence', async () => {
    const e = await expectTurnError(
      TurnClient.connect({ transport: 'tls', host: '127.0.0.1', port: lab.tlsPort }),
      'tls',
    );
    expect(e.tlsCode).toMatch(/SELF_SIGNED|UNABLE_TO/);
    expect(e.tls?.chain.length).toBeGreaterThan(0);
    // Reporting mode: connect anyway and look at what was presented.
    const c = await TurnClient.connect({ transport: 'tls', host: '127.0.0.1', port: lab.tlsPort, tls: { rejectUnauthorized: false } });
    clients.push(c);
    expect(c.tls?.authorized).toBe(false);
    expect((await c.binding()).mapped).toEqual(c.local);
  });

  test('TLS with a name: SNI sent, name checked', async () => {
    const c = await TurnClient.connect({ transport: 'tls', host: '127.0.0.1', port: lab.tlsPort, tls: { ca: lab.caPem, servername: 'localhost' } });
    clients.push(c);
    expect(c.tls?.servername).toBe('localhost');
    expect(c.tls?.authorized).toBe(true);
    const e = await expectTurnError(
      TurnClient.connect({ transport: 'tls', host: '127.0.0.1', port: lab.tlsPort, tls: { ca: lab.caPem, servername: 'wrong.example' } }),
      'tls',
    );
    expect(e.tlsCode).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('requests after close fail with closed', async () => {
    const c = await client('tcp');
    await c.close();
    await expectTurnError(c.binding(), 'closed');
    expect(c.send('127.0.0.1:9', Buffer.from('x'))).toBe(false);
  });
});
