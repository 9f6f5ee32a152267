// RFC 5769 test vectors and codec round trips.
import {
  randomTransactionId,
  ATTR,
  METHOD,
  StunMessageBuilder,
  StunParseError,
  decodeAllAttributes,
  decodeErrorCode,
  decodeStun,
  encodeAddress,
  encodeErrorCode,
  encodeMessageType,
  decodeMessageType,
  fingerprintOf,
  getAddress,
  getErrorCode,
  getText,
  integrityOf,
  longTermKey,
  shortTermKey,
  verifyFingerprint,
  verifyIntegrity,
  encodeChannelData,
  decodeChannelData,
  parseHostPort,
  bytesToIp,
  ipToBytes,
  crc32,
} from '../../src/tester/stun';
import { Secret } from '../../src/tester/secret';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// RFC 5769 section 2.1: Binding request, short-term credentials, space padding.
const SAMPLE_REQUEST = hex(`
  00 01 00 58 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 10 53 54 55 4e 20 74 65 73 74 20 63 6c 69 65 6e 74
  00 24 00 04 6e 00 01 ff
  80 29 00 08 93 2f f9 b1 51 26 3b 36
  00 06 00 09 65 76 74 6a 3a 68 36 76 59 20 20 20
  00 08 00 14 9a ea a7 0c bf d8 cb 56 78 1e f2 b5 b2 d3 f2 49 c1 b5 71 a2
  80 28 00 04 e5 7a 3b cf`);
// 2.2: IPv4 response, 192.0.2.1:32853
const SAMPLE_IPV4_RESPONSE = hex(`
  01 01 00 3c 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 08 00 01 a1 47 e1 12 a6 43
  00 08 00 14 2b 91 f5 99 fd 9e 90 c3 8c 74 89 f9 2a f9 ba 53 f0 6b e7 d7
  80 28 00 04 c0 7d 4c 96`);
// 2.3: IPv6 response, [2001:db8:1234:5678:11:2233:4455:6677]:32853
const SAMPLE_IPV6_RESPONSE = hex(`
  01 01 00 48 21 12 a4 42 b7 e7 a7 01 bc 34 d6 86 fa 87 df ae
  80 22 00 0b 74 65 73 74 20 76 65 63 74 6f 72 20
  00 20 00 14 00 02 a1 47 01 13 a9 fa a5 d3 f1 79 bc 25 f4 b5 be d2 b9 d9
  00 08 00 14 a3 82 95 4e 4b e6 7b f1 17 84 c9 7c 82 92 c2 75 bf e3 ed 41
  80 28 00 04 c8 fb 0b 4c`);
// 2.4: request with long-term credentials (zero padding, no FINGERPRINT).
const SAMPLE_LTC_REQUEST = hex(`
  00 01 00 60 21 12 a4 42 78 ad 34 33 c6 ad 72 c0 29 da 41 2e
  00 06 00 12 e3 83 9e e3 83 88 e3 83 aa e3 83 83 e3 82 af e3 82 b9 00 00
  00 15 00 1c 66 2f 2f 34 39 39 6b 39 35 34 64 36 4f 4c 33 34 6f 4c 39 46 53 54 76 79 36 34 73 41
  00 14 00 0b 65 78 61 6d 70 6c 65 2e 6f 72 67 00
  00 08 00 14 f6 70 24 65 6d d6 4a 3e 02 b8 e0 71 2e 85 c9 a2 8c a8 96 66`);
const SHORT_TERM_PASSWORD = 'VOkJxbRl1RmTxUk/WvJxBt';

/** Recompute MI and FP in place over a copy and compare with the vector's bytes. */
function expectTrailersReproduced(vector: Buffer, key: Buffer) {
  const msg = decodeStun(vector);
  const mi = msg.find(ATTR.MESSAGE_INTEGRITY)!;
  expect(integrityOf(vector, mi.offset - 4, key).equals(msg.valueOf(mi))).toBe(true);
  const fp = msg.find(ATTR.FINGERPRINT);
  if (fp) expect(fingerprintOf(vector, fp.offset - 4)).toBe(vector.readUInt32BE(fp.offset));
}

describe('RFC 5769 vectors', () => {
  test('2.1 sample request: header, attributes, integrity, fingerprint', () => {
    const m = decodeStun(SAMPLE_REQUEST);
    expect(m.method).toBe(METHOD.Binding);
    expect(m.cls).toBe('request');
    expect(m.transactionId.toString('hex')).toBe('b7e7a701bc34d686fa87dfae');
    expect(getText(m, ATTR.USERNAME)).toBe('evtj:h6vY');
    expect(getText(m, ATTR.SOFTWARE)).toBe('STUN test client');
    // unknown (ICE) attributes are kept raw
    const attrs = decodeAllAttributes(m);
    expect(attrs.find((a) => a.type === ATTR.PRIORITY)).toMatchObject({ kind: 'bytes' });
    expect(attrs.find((a) => a.type === 0x8029)?.kind).toBe('bytes');
    expect(verifyIntegrity(m, shortTermKey(SHORT_TERM_PASSWORD))).toBe('ok');
    expect(verifyIntegrity(m, shortTermKey('wrong'))).toBe('bad');
    expect(verifyFingerprint(m)).toBe('ok');
    expectTrailersReproduced(SAMPLE_REQUEST, shortTermKey(SHORT_TERM_PASSWORD));
  });

  test('2.2 IPv4 response', () => {
    const m = decodeStun(SAMPLE_IPV4_RESPONSE);
    expect(m.cls).toBe('success');
    expect(getAddress(m, ATTR.XOR_MAPPED_ADDRESS)).toEqual({ family: 'ipv4', address: '192.0.2.1', port: 32853 });
    expect(getText(m, ATTR.SOFTWARE)).toBe('test vector');
    expect(verifyIntegrity(m, shortTermKey(new Secret(SHORT_TERM_PASSWORD)))).toBe('ok');
    expect(verifyFingerprint(m)).toBe('ok');
    expectTrailersReproduced(SAMPLE_IPV4_RESPONSE, shortTermKey(SHORT_TERM_PASSWORD));
    // our encoder produces the same XOR-MAPPED-ADDRESS bytes
    expect(encodeAddress({ address: '192.0.2.1', port: 32853 }, m.transactionId).toString('hex')).toBe('0001a147e112a643');
  });

  test('2.3 IPv6 response', () => {
    const m = decodeStun(SAMPLE_IPV6_RESPONSE);
    expect(getAddress(m, ATTR.XOR_MAPPED_ADDRESS)).toEqual({
      family: 'ipv6',
      address: '2001:db8:1234:5678:11:2233:4455:6677',
      port: 32853,
    });
    expect(verifyIntegrity(m, shortTermKey(SHORT_TERM_PASSWORD))).toBe('ok');
    expect(verifyFingerprint(m)).toBe('ok');
    expectTrailersReproduced(SAMPLE_IPV6_RESPONSE, shortTermKey(SHORT_TERM_PASSWORD));
    expect(
      encodeAddress({ address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853 }, m.transactionId).toString('hex'),
    ).toBe('0002a1470113a9faa5d3f179bc25f4b5bed2b9d9');
  });

  test('2.4 long-term credentials: verify and produce the exact bytes', () => {
    const m = decodeStun(SAMPLE_LTC_REQUEST);
    const username = '\u30de\u30c8\u30ea\u30c3\u30af\u30b9';
    expect(getText(m, ATTR.USERNAME)).toBe(username);
    expect(getText(m, ATTR.REALM)).toBe('example.org');
    expect(getText(m, ATTR.NONCE)).toBe('f//499k954d6OL34oL9FSTvy64sA');
    const key = longTermKey(username, 'example.org', 'TheMatrIX'); // password after SASLprep
    expect(verifyIntegrity(m, key)).toBe('ok');
    expect(verifyIntegrity(m, longTermKey(username, 'example.org', 'wrong'))).toBe('bad');
    expect(verifyFingerprint(m)).toBe('absent');
    const built = new StunMessageBuilder(METHOD.Binding, 'request', hex('78ad3433c6ad72c029da412e'))
      .add(ATTR.USERNAME, Buffer.from(username))
      .add(ATTR.NONCE, Buffer.from('f//499k954d6OL34oL9FSTvy64sA'))
      .add(ATTR.REALM, Buffer.from('example.org'))
      .build({ integrityKey: key });
    expect(built.toString('hex')).toBe(SAMPLE_LTC_REQUEST.toString('hex'));
  });

  test('a flipped body byte breaks integrity and fingerprint', () => {
    const c = Buffer.from(SAMPLE_REQUEST);
    c[24] ^= 0x01;
    const m = decodeStun(c);
    expect(verifyIntegrity(m, shortTermKey(SHORT_TERM_PASSWORD))).toBe('bad');
    expect(verifyFingerprint(m)).toBe('bad');
  });
});

describe('message type', () => {
  const methods = Object.values(METHOD);
  test.each(['request', 'indication', 'success', 'error'] as const)('round trips class %s', (cls) => {
    for (const method of methods) expect(decodeMessageType(encodeMessageType(method, cls))).toEqual({ method, cls });
  });
  test('known values', () => {
    expect(encodeMessageType(METHOD.Binding, 'request')).toBe(0x0001);
    expect(encodeMessageType(METHOD.Binding, 'success')).toBe(0x0101);
    expect(encodeMessageType(METHOD.Allocate, 'error')).toBe(0x0113);
    expect(encodeMessageType(METHOD.Send, 'indication')).toBe(0x0016);
    expect(encodeMessageType(METHOD.Data, 'indication')).toBe(0x0017);
    expect(encodeMessageType(METHOD.ChannelBind, 'success')).toBe(0x0109);
  });
});

describe('ERROR-CODE', () => {
  test('class*100+number, both directions', () => {
    for (const code of [300, 400, 401, 403, 420, 437, 438, 440, 441, 442, 486, 500, 508, 699]) {
      expect(decodeErrorCode(encodeErrorCode(code, 'x')).code).toBe(code);
    }
    // wire bytes of 438 "Stale Nonce": class 4, number 38
    expect(encodeErrorCode(438).toString('hex')).toBe('00000426');
    // reserved bits set by a sloppy server are ignored
    expect(decodeErrorCode(Buffer.from([0xff, 0xff, 0xfc | 4, 1])).code).toBe(401);
  });
  test('reason phrase is optional', () => {
    expect(decodeErrorCode(Buffer.from([0, 0, 4, 1]))).toEqual({ code: 401, reason: '' });
  });
  test('a too short ERROR-CODE is a StunParseError', () => {
    expect(() => decodeErrorCode(Buffer.from([0, 4]))).toThrow(StunParseError);
  });
  test('error response getter', () => {
    const b = new StunMessageBuilder(METHOD.Allocate, 'error')
      .add(ATTR.ERROR_CODE, encodeErrorCode(401, 'Unauthorized'))
      .add(ATTR.REALM, Buffer.from('lab'))
      .add(ATTR.NONCE, Buffer.from('abcd'))
      .build({ fingerprint: true });
    const m = decodeStun(b);
    expect(m.cls).toBe('error');
    expect(getErrorCode(m)).toEqual({ code: 401, reason: 'Unauthorized' });
    expect(verifyFingerprint(m)).toBe('ok');
  });
});

describe('attributes', () => {
  test('every attribute we use decodes to its typed value', () => {
    const tid = Buffer.alloc(12, 7);
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const msg = new StunMessageBuilder(METHOD.Allocate, 'success', tid)
      .add(ATTR.XOR_RELAYED_ADDRESS, encodeAddress({ address: '2001:db8::5', port: 50000 }, tid))
      .add(ATTR.XOR_MAPPED_ADDRESS, encodeAddress({ address: '203.0.113.9', port: 4242 }, tid))
      .add(ATTR.XOR_PEER_ADDRESS, encodeAddress({ address: '::1', port: 1 }, tid))
      .add(ATTR.MAPPED_ADDRESS, encodeAddress({ address: '203.0.113.9', port: 4242 }))
      .add(ATTR.RESPONSE_ORIGIN, encodeAddress({ address: '127.0.0.1', port: 3478 }))
      .add(ATTR.OTHER_ADDRESS, encodeAddress({ address: '127.0.0.1', port: 3479 }))
      .add(ATTR.ALTERNATE_SERVER, encodeAddress({ address: '::ffff:1.2.3.4', port: 3478 }))
      .add(ATTR.LIFETIME, u32(600))
      .add(ATTR.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]))
      .add(ATTR.REQUESTED_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0]))
      .add(ATTR.ADDITIONAL_ADDRESS_FAMILY, Buffer.from([2, 0, 0, 0]))
      .add(ATTR.DONT_FRAGMENT, Buffer.alloc(0))
      .add(ATTR.EVEN_PORT, Buffer.from([0x80]))
      .add(ATTR.RESERVATION_TOKEN, Buffer.alloc(8, 1))
      .add(ATTR.CHANNEL_NUMBER, Buffer.from([0x40, 0x01, 0, 0]))
      .add(ATTR.DATA, Buffer.from('abc'))
      .add(ATTR.UNKNOWN_ATTRIBUTES, Buffer.from([0x00, 0x31, 0x00, 0x32]))
      .add(ATTR.ADDRESS_ERROR_CODE, Buffer.from([2, 0, 4, 40, 0x41]))
      .add(ATTR.PASSWORD_ALGORITHMS, Buffer.from([0, 1, 0, 0, 0, 2, 0, 0]))
      .add(ATTR.SOFTWARE, Buffer.from('Coturn-4.6.1'))
      .add(0x7abc, Buffer.from([1, 2, 3])) // unknown: kept raw
      .build({ integrityKey: Buffer.alloc(16, 3), fingerprint: true });
    const m = decodeStun(msg);
    const by = new Map(decodeAllAttributes(m).map((a) => [a.name, a]));
    expect(by.get('XOR_RELAYED_ADDRESS')?.value).toEqual({ family: 'ipv6', address: '2001:db8::5', port: 50000 });
    expect(by.get('XOR_MAPPED_ADDRESS')?.value).toEqual({ family: 'ipv4', address: '203.0.113.9', port: 4242 });
    expect(by.get('XOR_PEER_ADDRESS')?.value).toEqual({ family: 'ipv6', address: '::1', port: 1 });
    expect(by.get('MAPPED_ADDRESS')?.value).toEqual({ family: 'ipv4', address: '203.0.113.9', port: 4242 });
    expect(by.get('OTHER_ADDRESS')?.value).toMatchObject({ port: 3479 });
    expect(by.get('ALTERNATE_SERVER')?.value).toMatchObject({ address: '::ffff:102:304' });
    expect(by.get('LIFETIME')?.value).toBe(600);
    expect(by.get('REQUESTED_TRANSPORT')?.value).toBe(17);
    expect(by.get('REQUESTED_ADDRESS_FAMILY')?.value).toBe('ipv6');
    expect(by.get('ADDITIONAL_ADDRESS_FAMILY')?.value).toBe('ipv6');
    expect(by.get('DONT_FRAGMENT')?.value).toBe(true);
    expect(by.get('EVEN_PORT')?.value).toEqual({ reserveNext: true });
    expect(by.get('RESERVATION_TOKEN')?.kind).toBe('bytes');
    expect(by.get('CHANNEL_NUMBER')?.value).toBe(0x4001);
    expect((by.get('DATA')?.value as Buffer).toString()).toBe('abc');
    expect(by.get('UNKNOWN_ATTRIBUTES')?.value).toEqual([0x31, 0x32]);
    expect(by.get('ADDRESS_ERROR_CODE')?.value).toEqual({ family: 'ipv6', code: 440, reason: 'A' });
    expect(by.get('PASSWORD_ALGORITHMS')?.value).toHaveLength(2);
    expect(by.get('SOFTWARE')?.value).toBe('Coturn-4.6.1');
    expect(by.get('0x7abc')?.value).toEqual(Buffer.from([1, 2, 3]));
    expect(verifyIntegrity(m, Buffer.alloc(16, 3))).toBe('ok');
    expect(verifyFingerprint(m)).toBe('ok');
  });

  test('MESSAGE-INTEGRITY-SHA256 is tolerated and verifiable', () => {
    const { verifyIntegritySha256 } = require('../../src/tester/stun');
    const key = Buffer.alloc(16, 9);
    const m = decodeStun(new StunMessageBuilder(METHOD.Binding, 'request').build({ integritySha256Key: key, fingerprint: true }));
    expect(verifyIntegritySha256(m, key)).toBe('ok');
    expect(verifyIntegritySha256(m, Buffer.alloc(16))).toBe('bad');
    expect(verifyFingerprint(m)).toBe('ok');
  });

  test('malformed address values are StunParseError', () => {
    for (const v of [Buffer.alloc(0), Buffer.from([0, 1, 0, 0]), Buffer.from([0, 3, 0, 0, 1, 2, 3, 4]), Buffer.alloc(21)]) {
      const b = new StunMessageBuilder(METHOD.Binding, 'success').add(ATTR.XOR_MAPPED_ADDRESS, v).build();
      expect(() => getAddress(decodeStun(b), ATTR.XOR_MAPPED_ADDRESS)).toThrow(StunParseError);
    }
  });
});

describe('framing errors', () => {
  const ok = new StunMessageBuilder(METHOD.Binding, 'request').build();
  const cases: [string, Buffer, string][] = [
    ['empty', Buffer.alloc(0), 'truncated'],
    ['short header', ok.subarray(0, 19), 'truncated'],
    ['first bits', Buffer.concat([Buffer.from([0xc0]), ok.subarray(1)]), 'not-stun'],
    ['no cookie', Buffer.concat([ok.subarray(0, 4), Buffer.alloc(4), ok.subarray(8)]), 'bad-cookie'],
    ['length not multiple of 4', (() => { const b = Buffer.from(ok); b.writeUInt16BE(2, 2); return b; })(), 'bad-length'],
    ['length beyond buffer', (() => { const b = Buffer.from(ok); b.writeUInt16BE(8, 2); return b; })(), 'truncated'],
    ['trailing bytes', Buffer.concat([ok, Buffer.alloc(4)]), 'bad-length'],
    ['oversized', Buffer.alloc(70000), 'oversized'],
    [
      'attribute overrun',
      (() => {
        const b = Buffer.concat([ok, Buffer.from([0x80, 0x22, 0x00, 0xff])]);
        b.writeUInt16BE(4, 2);
        return b;
      })(),
      'attribute-overrun',
    ],
  ];
  test.each(cases)('%s', (_name, buf, reason) => {
    try {
      decodeStun(buf);
      throw new Error('decoded');
    } catch (e) {
      expect(e).toBeInstanceOf(StunParseError);
      expect((e as StunParseError).reason).toBe(reason);
    }
  });
});

describe('ChannelData and addresses', () => {
  test('ChannelData round trip with and without padding', () => {
    for (const pad of [true, false]) {
      for (const len of [0, 1, 3, 4, 5, 1200]) {
        const data = Buffer.alloc(len, 0xab);
        const f = encodeChannelData(0x4001, data, pad);
        expect(f.length).toBe(4 + (pad ? (len + 3) & ~3 : len));
        const d = decodeChannelData(f);
        expect(d.channel).toBe(0x4001);
        expect(d.data.equals(data)).toBe(true);
      }
    }
    expect(() => encodeChannelData(0x3fff, Buffer.alloc(1), true)).toThrow(RangeError);
    expect(() => decodeChannelData(Buffer.from([0x40, 0, 0, 9, 1]))).toThrow(StunParseError);
    expect(() => decodeChannelData(Buffer.from([0x80, 0, 0, 0]))).toThrow(StunParseError);
  });
  test('ip helpers', () => {
    expect(bytesToIp(ipToBytes('2001:0db8:0:0:0:0:0:1'))).toBe('2001:db8::1');
    expect(bytesToIp(ipToBytes('::'))).toBe('::');
    expect(bytesToIp(ipToBytes('::ffff:192.0.2.1'))).toBe('::ffff:c000:201');
    expect(bytesToIp(ipToBytes('1:0:0:1:0:0:0:1'))).toBe('1:0:0:1::1');
    expect(parseHostPort('[::1]:3478')).toEqual({ family: 'ipv6', address: '::1', port: 3478 });
    expect(parseHostPort('127.0.0.1:9')).toEqual({ family: 'ipv4', address: '127.0.0.1', port: 9 });
    expect(() => parseHostPort('::1:3478')).toThrow(TypeError);
    expect(() => parseHostPort('host:1')).toThrow(TypeError);
  });
  test('crc32 is IEEE', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

describe('transaction ids', () => {
  it('are 12 bytes, distinct, and survive the refills of their pool', () => {
    const id0 = randomTransactionId();
    const first = Buffer.from(id0);
    const ids = [id0, ...Array.from({ length: 2000 }, () => randomTransactionId())];
    expect(ids.every((id) => id.length === 12)).toBe(true);
    expect(new Set(ids.map((id) => id.toString('hex'))).size).toBe(ids.length);
    // 2000 ids span several refills: an id that were a view into the pool would have changed.
    expect(id0.equals(first)).toBe(true);
    ids[1].fill(0);
    expect(ids[2].equals(Buffer.alloc(12))).toBe(false);
  });
});
