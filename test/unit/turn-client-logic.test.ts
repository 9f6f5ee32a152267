// Client logic against a scripted in-process responder on loopback: RTO
// schedule, the 401/438 dance, and hostile answers. (Real coturn behaviour is
// in test/integration/turn-client.test.ts.)
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import {
  ATTR,
  METHOD,
  StunMessageBuilder,
  decodeStun,
  encodeAddress,
  encodeErrorCode,
  encodeUint32,
  getText,
  longTermKey,
  verifyIntegrity,
  type StunMessage,
} from '../../src/tester/stun';
import { TurnClient, TurnError } from '../../src/tester/turn';
import { Secret } from '../../src/tester/secret';

type Script = (req: StunMessage, n: number) => Buffer | Buffer[] | null;

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((f) => f()));

async function udpResponder(script: Script) {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const seen: { at: number; req: StunMessage }[] = [];
  let n = 0;
  s.on('message', (m, from) => {
    const req = decodeStun(Buffer.from(m));
    seen.push({ at: Date.now(), req });
    const out = script(req, n++);
    for (const b of out === null ? [] : Array.isArray(out) ? out : [out]) s.send(b, from.port, from.address);
  });
  cleanups.push(() => s.close());
  return { port: (s.address() as net.AddressInfo).port, seen };
}

async function tcpResponder(onData: (sock: net.Socket, chunk: Buffer) => void) {
  const srv = net.createServer((sock) => sock.on('data', (d) => onData(sock, d)));
  const socks: net.Socket[] = [];
  srv.on('connection', (s) => socks.push(s));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanups.push(() => {
    socks.forEach((s) => s.destroy());
    srv.close();
  });
  return (srv.address() as net.AddressInfo).port;
}

const reply = (req: StunMessage, cls: 'success' | 'error', add: (b: StunMessageBuilder) => void = () => undefined, method = req.method) => {
  const b = new StunMessageBuilder(method, cls, Buffer.from(req.transactionId));
  add(b);
  return b.build({ fingerprint: true });
};
const challenge = (req: StunMessage, code: number, nonce: string) =>
  reply(req, 'error', (b) =>
    b.add(ATTR.ERROR_CODE, encodeErrorCode(code)).add(ATTR.REALM, Buffer.from('r.test')).add(ATTR.NONCE, Buffer.from(nonce)),
  );
const allocated = (req: StunMessage) =>
  reply(req, 'success', (b) =>
    b
      .add(ATTR.XOR_RELAYED_ADDRESS, encodeAddress({ address: '192.0.2.10', port: 50000 }, Buffer.from(req.transactionId)))
      .add(ATTR.XOR_MAPPED_ADDRESS, encodeAddress({ address: '198.51.100.1', port: 40000 }, Buffer.from(req.transactionId)))
      .add(ATTR.LIFETIME, encodeUint32(600))
      .add(ATTR.SOFTWARE, Buffer.from('scripted 1.0')),
  );

async function connect(port: number, extra: Record<string, unknown> = {}) {
  const c = await TurnClient.connect({
    transport: 'udp',
    host: '127.0.0.1',
    port,
    username: 'u',
    password: new Secret('p'),
    ...extra,
  });
  cleanups.push(() => void c.close());
  return c;
}

async function turnError(p: Promise<unknown>): Promise<TurnError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TurnError);
    return e as TurnError;
  }
  throw new Error('expected a TurnError');
}

describe('UDP retransmission', () => {
  test('RTO doubles and the deadline ends it', async () => {
    const r = await udpResponder(() => null);
    const c = await connect(r.port, { rtoMs: 100, timeoutMs: 1000 });
    const t0 = Date.now();
    const e = await turnError(c.binding());
    expect(e.kind).toBe('timeout');
    // sends at 0, 100, 300, 700 (next would be 1500, after the deadline). Measured
    // from the request's start: a copy cannot arrive before it was sent, however
    // late a busy machine delivers the earlier ones (gaps between arrivals can shrink).
    expect(r.seen.length).toBe(4);
    const since = r.seen.map((s) => s.at - t0);
    expect(since[1]).toBeGreaterThanOrEqual(90);
    expect(since[2]).toBeGreaterThanOrEqual(290);
    expect(since[3]).toBeGreaterThanOrEqual(690);
    expect(new Set(r.seen.map((s) => s.req.transactionId.toString('hex'))).size).toBe(1);
  });

  test('a late answer to a retransmitted request is accepted', async () => {
    const r = await udpResponder((req, n) => (n === 2 ? reply(req, 'success') : null));
    const c = await connect(r.port, { rtoMs: 50 });
    const b = await c.binding();
    expect(b.transmissions).toBe(3);
    expect(b.mapped).toBeNull();
  });
});

describe('long-term credential dance', () => {
  test('401 -> authenticated retry with the right key -> success', async () => {
    const r = await udpResponder((req, n) => (n === 0 ? challenge(req, 401, 'n1') : allocated(req)));
    const c = await connect(r.port);
    const a = await c.allocate({ lifetime: 600 });
    expect(a).toMatchObject({ authenticated: true, requests: 2, realm: 'r.test', nonce: 'n1', software: 'scripted 1.0' });
    expect(a.relayed).toEqual({ family: 'ipv4', address: '192.0.2.10', port: 50000 });
    expect(a.mapped).toEqual({ family: 'ipv4', address: '198.51.100.1', port: 40000 });
    const second = r.seen[1].req;
    expect(getText(second, ATTR.USERNAME)).toBe('u');
    expect(getText(second, ATTR.NONCE)).toBe('n1');
    expect(verifyIntegrity(second, longTermKey('u', 'r.test', 'p'))).toBe('ok');
    expect(a.responseIntegrity).toBe('absent');
  });

  test('438 twice: exactly one retry, then the typed 438', async () => {
    const r = await udpResponder((req, n) => (n === 0 ? challenge(req, 401, 'n1') : challenge(req, 438, `n${n + 1}`)));
    const c = await connect(r.port);
    const e = await turnError(c.allocate());
    expect(e).toMatchObject({ kind: 'error-response', code: 438, method: 'Allocate' });
    expect(r.seen.length).toBe(3);
    expect(getText(r.seen[2].req, ATTR.NONCE)).toBe('n2');
  });

  test('401 after the authenticated retry: typed 401, reason kept as evidence only', async () => {
    const r = await udpResponder((req) =>
      reply(req, 'error', (b) =>
        b.add(ATTR.ERROR_CODE, encodeErrorCode(401, 'Unauthorized')).add(ATTR.REALM, Buffer.from('r')).add(ATTR.NONCE, Buffer.from('n')),
      ),
    );
    const c = await connect(r.port);
    const e = await turnError(c.allocate());
    expect(e).toMatchObject({ kind: 'error-response', code: 401, method: 'Allocate', reason: 'Unauthorized' });
    expect(r.seen.length).toBe(2);
  });

  test('401 without REALM/NONCE: protocol', async () => {
    const r = await udpResponder((req) => reply(req, 'error', (b) => b.add(ATTR.ERROR_CODE, encodeErrorCode(401))));
    const e = await turnError((await connect(r.port)).allocate());
    expect(e).toMatchObject({ kind: 'protocol', code: 401 });
  });

  test('an open relay: success without a challenge', async () => {
    const r = await udpResponder((req) => allocated(req));
    const a = await (await connect(r.port)).allocate();
    expect(a.authenticated).toBe(false);
    expect(a.requests).toBe(1);
  });
});

describe('hostile answers', () => {
  test('malformed XOR-RELAYED-ADDRESS: protocol, not a crash', async () => {
    const r = await udpResponder((req) => reply(req, 'success', (b) => b.add(ATTR.XOR_RELAYED_ADDRESS, Buffer.from([0, 9, 0, 0]))));
    expect(await turnError((await connect(r.port)).allocate({ withCredentials: false }))).toMatchObject({ kind: 'protocol' });
  });

  test('success without XOR-RELAYED-ADDRESS: protocol', async () => {
    const r = await udpResponder((req) => reply(req, 'success'));
    expect(await turnError((await connect(r.port)).allocate({ withCredentials: false }))).toMatchObject({ kind: 'protocol' });
  });

  test('answer with another method: protocol', async () => {
    const r = await udpResponder((req) => reply(req, 'success', undefined, METHOD.Refresh));
    expect(await turnError((await connect(r.port)).binding())).toMatchObject({ kind: 'protocol' });
  });

  test('error response without ERROR-CODE: protocol', async () => {
    const r = await udpResponder((req) => reply(req, 'error'));
    expect(await turnError((await connect(r.port)).binding())).toMatchObject({ kind: 'protocol' });
  });

  test('foreign transaction ids and garbage are ignored until the real answer', async () => {
    const r = await udpResponder((req) => [
      Buffer.from('garbage!'),
      new StunMessageBuilder(METHOD.Binding, 'success').build(),
      Buffer.from([0x40, 0x01, 0xff, 0xff]),
      reply(req, 'success', (b) => b.add(ATTR.XOR_MAPPED_ADDRESS, encodeAddress({ address: '::1', port: 7 }, Buffer.from(req.transactionId)))),
    ]);
    const c = await connect(r.port);
    const b = await c.binding();
    expect(b.mapped).toEqual({ family: 'ipv6', address: '::1', port: 7 });
    expect(c.stats.garbage).toBeGreaterThan(0);
  });

  test('TCP: a header claiming 65532 bytes then silence is a timeout, not a hang', async () => {
    const port = await tcpResponder((sock, chunk) => {
      const h = Buffer.from(chunk.subarray(0, 20));
      h.writeUInt16BE(0x0101, 0);
      h.writeUInt16BE(0xfffc, 2);
      sock.write(h);
    });
    const c = await TurnClient.connect({ transport: 'tcp', host: '127.0.0.1', port, timeoutMs: 400 });
    cleanups.push(() => void c.close());
    expect(await turnError(c.binding())).toMatchObject({ kind: 'timeout' });
  });

  test('TCP: the server closes mid-request: closed', async () => {
    const port = await tcpResponder((sock) => sock.destroy());
    const c = await TurnClient.connect({ transport: 'tcp', host: '127.0.0.1', port });
    cleanups.push(() => void c.close());
    const e = await turnError(c.binding());
    expect(e.kind).toBe('closed');
  });

  test('TCP: ChannelData on a channel we never bound is not-stun', async () => {
    const port = await tcpResponder((sock) => sock.write(Buffer.from([0x40, 0x02, 0, 1, 9, 0, 0, 0])));
    const c = await TurnClient.connect({ transport: 'tcp', host: '127.0.0.1', port });
    cleanups.push(() => void c.close());
    expect(await turnError(c.binding())).toMatchObject({ kind: 'not-stun' });
  });
});
